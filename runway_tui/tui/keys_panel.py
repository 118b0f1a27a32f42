"""The `?` panel's rows and the palette's entries, for whichever screen is in front: from the live bindings
(remapped keys as they are, actions hidden in read-only mode left out), so a screen lists its own keys.

Functions over the app (`Host`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

from runway_tui.tui.bindings import ACTIONS
from runway_tui.tui.screens.keys import KeyRow, KeysScreen

if TYPE_CHECKING:
    from runway_tui.tui.host import Host

ORDER = ["Migrate", "Files", "Repair", "Navigate", "Audit log", "Live log", "This screen", "App"]
MOVES = ("scroll", "cursor")
TEXTUALS = frozenset(b.action for b in Screen.BINDINGS)  # tab, shift+tab, ctrl+c: every screen's, one row
NOTE = ("Every action is also in the command palette (ctrl+p). Remap keys with tui.keymap in the config "
        "(binding id -> keys).")


def screen_keys(screen: Screen[object]) -> list[tuple[str, str, str, str, bool]]:
    """(binding id or action, key shown, description, help, enabled) of the keys `screen` itself defines, and
    those with an id of the widget in front (an explorer view's), that are active now: what a screen other than
    the main one lists in `?` and in the palette."""
    app = screen.app
    seen: set[str] = set()
    found = []
    for ab in screen.active_bindings.values():
        binding = ab.binding
        inside = ab.node is not screen and bool(binding.id) and getattr(ab.node, "screen", None) is screen
        if ((ab.node is not screen and not inside) or not binding.description or binding.action in seen
                or binding.system
                or binding.action.startswith(MOVES) or binding.action in TEXTUALS):
            continue  # movement keys are one "Move" row; Textual's own (copy selected text) are not ours
        seen.add(binding.action)
        found.append((binding.action, app.get_key_display(binding), binding.description,
                      binding.tooltip or binding.description, ab.enabled))
    return found


def show_keys(host: Host) -> None:
    if isinstance(host.screen, KeysScreen):
        return
    host.push_screen(KeysScreen(key_rows(host, host.screen), NOTE))

def key_rows(host: Host, screen: Screen[object] | None = None) -> list[KeyRow]:
    """The rows for `screen` (the main screen when None): its own keys, then the app's."""
    screen = screen or host.main
    if screen is not host.main:
        rows = [KeyRow("This screen", key, description, help_, enabled)
                for _, key, description, help_, enabled in screen_keys(screen)]
        rows += [KeyRow("This screen", "j k ↑ ↓ g G", "Move", "Move in lists, scroll text", True),
                 KeyRow("This screen", "tab / shift+tab", "Next box", "Move the focus between boxes", True),
                 KeyRow("App", "?", "Keys", "This list", True),
                 KeyRow("App", "ctrl+p", "Palette", "Search this screen's actions", True)]
        return rows
    live = {ab.binding.id: ab for ab in screen.active_bindings.values() if ab.binding.id}
    rows = []
    for spec in ACTIONS:
        active = live.get(spec.id)
        if active is None:
            continue
        rows.append(KeyRow(spec.group, host.get_key_display(active.binding), spec.description, spec.help,
                           active.enabled))
    rows += [KeyRow("Navigate", "tab / shift+tab", "Next pane", "Move focus between panes", True),
             KeyRow("Navigate", "j k ↑ ↓ g G", "Move", "Move in lists and logs", True),
             KeyRow("Navigate", "enter", "Details", "Open the selected migration, collection or entry", True),
             KeyRow("Navigate", "esc", "Back", "Close a dialog or detail screen; clear a filter", True),
             KeyRow("App", "ctrl+p", "Palette", "Search every action", True)]
    return sorted(rows, key=lambda r: ORDER.index(r.group) if r.group in ORDER else 99)
