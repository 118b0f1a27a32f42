"""Command palette (ctrl+p): every action of the main screen with its live key, so rare ones stay findable."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from runway_tui.tui.bindings import ACTIONS, ActionSpec

if TYPE_CHECKING:
    from runway_tui.tui.screens.main import MainScreen


class RunwayCommands(Provider):
    """Hides what read-only mode hides; the key shown is the one in effect (after `tui.keymap`)."""

    def _entries(self) -> list[tuple[str, str, ActionSpec]]:
        main: MainScreen = self.app.screen_stack[0]  # type: ignore[assignment]
        live = {ab.binding.id: ab.binding for ab in main.active_bindings.values() if ab.binding.id}
        entries = []
        for spec in ACTIONS:
            binding = live.get(spec.id)
            if binding is None:  # hidden (read-only) or not bound
                continue
            entries.append((spec.description, self.app.get_key_display(binding), spec))
        return entries

    def _run(self, spec: ActionSpec) -> partial[object]:
        main = self.app.screen_stack[0]
        return partial(main.run_action, spec.action)

    def _display(self, title: str | Content, key: str) -> Content:
        content = title if isinstance(title, Content) else Content(title)
        return content + Content.styled(f"  {key}", "dim")

    async def discover(self) -> Hits:
        for title, key, spec in self._entries():
            yield DiscoveryHit(self._display(title, key), self._run(spec), text=title, help=spec.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, key, spec in self._entries():
            score = max(matcher.match(title), matcher.match(spec.help) * 0.8)
            if score > 0:
                yield Hit(score, self._display(matcher.highlight(title), key), self._run(spec), text=title,
                          help=spec.help)
