"""The Collection screen's ready-made pipelines in the command palette, by name (its keys are there too)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from runway_tui.engine.aggregate_presets import PRESETS

ENTRIES: list[tuple[str, str, str]] = [
    (preset.title, f"aggregate: {preset.help}", f"preset('{preset.id}')") for preset in PRESETS
]  # the views and every key are the palette's already, from the live bindings (tui/commands.py)


class CollectionCommands(Provider):
    def _run(self, action: str) -> Callable[[], object]:
        return partial(self.screen.run_action, action)

    def _shown(self) -> bool:
        """The entries run the `preset` action: only a screen that has it (the Collection screen) offers them."""
        return callable(getattr(self.screen, "action_preset", None))

    async def discover(self) -> Hits:
        if not self._shown():
            return
        for title, help_text, action in ENTRIES:
            yield DiscoveryHit(title, self._run(action), text=title, help=help_text)

    async def search(self, query: str) -> Hits:
        if not self._shown():
            return
        matcher = self.matcher(query)
        for title, help_text, action in ENTRIES:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), self._run(action), text=title, help=help_text)
