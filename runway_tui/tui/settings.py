"""Strict TUI settings: a keymap id or theme name that does not exist is a config error, not a silent no-op.

The engine parses `tui:` without knowing Textual; the TUI gives it the names it knows (`tui_names`), so an
unknown one is reported with the file's other errors, in file order.
"""

from __future__ import annotations

import difflib

from textual.theme import BUILTIN_THEMES

from runway_tui.engine.config import TuiNames
from runway_tui.tui.bindings import ACTIONS


def tui_names() -> TuiNames:
    """Every keymap id and built-in theme name the TUI accepts in `tui.keymap` and `tui.theme`."""
    return TuiNames(keymap_ids=tuple(spec.id for spec in ACTIONS), themes=tuple(sorted(BUILTIN_THEMES)))


def theme_flag_error(theme_flag: str | None) -> str | None:
    """The one line for an unknown `--theme`, or None."""
    if theme_flag is None or theme_flag in BUILTIN_THEMES:
        return None
    themes = sorted(BUILTIN_THEMES)
    match = difflib.get_close_matches(theme_flag, themes, n=1)
    hint = f"did you mean {match[0]!r}?" if match else f"known: {', '.join(themes)}"
    return f"--theme: unknown theme {theme_flag!r} ({hint})"
