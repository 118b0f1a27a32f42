"""The `?` panel's rows, from the live bindings (remapped keys as they are, hidden actions left out).

Mixed into `RunwayApp`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runway_tui.tui.bindings import ACTIONS
from runway_tui.tui.screens.keys import KeyRow, KeysScreen

if TYPE_CHECKING:
    from runway_tui.tui.app import RunwayApp


class KeysPanel:
    def show_keys(self: RunwayApp) -> None:
        self.push_screen(KeysScreen(self.key_rows(), "Every action is also in the command palette (ctrl+p). "
                                    "Remap keys with tui.keymap in the config (binding id -> keys)."))

    def key_rows(self: RunwayApp) -> list[KeyRow]:
        """From the live bindings: remapped keys, and actions hidden in read-only mode, show as they are."""
        main = self.main
        live = {ab.binding.id: ab for ab in main.active_bindings.values() if ab.binding.id}
        rows = []
        for spec in ACTIONS:
            active = live.get(spec.id)
            if active is None:
                continue
            rows.append(KeyRow(spec.group, self.get_key_display(active.binding), spec.description, spec.help,
                               active.enabled))
        rows += [KeyRow("Navigate", "tab / shift+tab", "Next pane", "Move focus between panes", True),
                 KeyRow("Navigate", "j k ↑ ↓ g G", "Move", "Move in lists and logs", True),
                 KeyRow("Navigate", "enter", "Details", "Open the selected migration, collection or entry", True),
                 KeyRow("Navigate", "esc", "Back", "Close a dialog or detail screen; clear a filter", True),
                 KeyRow("App", "ctrl+p", "Palette", "Search every action", True)]
        order = ["Migrate", "Files", "Repair", "Navigate", "Audit log", "Live log", "App"]
        return sorted(rows, key=lambda r: order.index(r.group) if r.group in order else 99)
