"""Strict TUI settings: a keymap id or theme name that does not exist is a config error, not a silent no-op.

The engine parses `tui:` without knowing Textual; these names are only known here.
"""

from __future__ import annotations

from pathlib import Path

from textual.theme import BUILTIN_THEMES

from runway_tui.engine.config import TuiConfig
from runway_tui.tui.bindings import ACTIONS


def _closest(name: str, known: list[str]) -> str:
    import difflib

    match = difflib.get_close_matches(name, known, n=1)
    return f"did you mean {match[0]!r}?" if match else f"known: {', '.join(known)}"


def settings_errors(tui: TuiConfig, config_path: Path, theme_flag: str | None = None) -> list[str]:
    """Every unknown keymap id and theme, one line each, in file order (a --theme flag last)."""
    ids = [spec.id for spec in ACTIONS]
    themes = sorted(BUILTIN_THEMES)
    found: list[tuple[int, str]] = []
    name = str(config_path)
    for binding_id in tui.keymap:
        if binding_id not in ids:
            line = tui.lines.get(f"keymap.{binding_id}", 0)
            found.append((line, f"{name}:{line}: tui.keymap.{binding_id}: unknown binding id "
                                f"({_closest(binding_id, ids)})"))
    if "theme" in tui.lines and tui.theme not in BUILTIN_THEMES:
        line = tui.lines["theme"]
        found.append((line, f"{name}:{line}: tui.theme: unknown theme {tui.theme!r} ({_closest(tui.theme, themes)})"))
    errors = [text for _, text in sorted(found, key=lambda item: item[0])]
    if theme_flag is not None and theme_flag not in BUILTIN_THEMES:
        errors.append(f"--theme: unknown theme {theme_flag!r} ({_closest(theme_flag, themes)})")
    return errors
