"""`KeysFooter`: Textual's Footer, rebuilt only when what it shows changed.

Textual's Footer removes and mounts all its keys again whenever the screen's bindings may have changed: focus
moving, a dialog closing, every check of what is enabled. Each rebuild re-arranges the whole screen (one
layout pass, ~40 ms with 1000 migrations in pane 1). This one compares what it would show (each key, its
label, whether it is enabled) with what it shows, and rebuilds only on a difference: the same footer, fewer
repaints.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    def __init__(self, *, compact: bool = False) -> None:
        super().__init__(compact=compact)
        self._shown: tuple[object, ...] | None = None

    def _keys(self) -> tuple[object, ...]:
        """What `Footer.compose` reads, as a value."""
        palette = self.app.COMMAND_PALETTE_BINDING
        return tuple((binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                      binding.group, enabled, tooltip, binding.tooltip)
                     for _node, binding, enabled, tooltip in self.screen.active_bindings.values()
                     if binding.show or binding.key == palette)

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._rebuild_if_changed)

    def compose(self) -> ComposeResult:
        """Textual's keys, and a note of what they show (whoever asked for the rebuild)."""
        self._shown = self._keys() if self._bindings_ready else None
        yield from super().compose()

    async def _rebuild_if_changed(self) -> None:
        if self._shown is None or self._keys() != self._shown:
            await self.recompose()
