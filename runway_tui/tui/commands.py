"""Command palette (ctrl+p): the actions of the screen it was opened on, each with its live key, so rare ones
stay findable. On the main screen, every action of `bindings.ACTIONS`; elsewhere (a detail, the explorer, a
dialog) the keys that screen defines, never the main screen's (they would act behind it)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from runway_tui.tui.bindings import ACTIONS
from runway_tui.tui.keys_panel import screen_keys


class RunwayCommands(Provider):
    """Hides what read-only mode hides; the key shown is the one in effect (after `tui.keymap`)."""

    def _entries(self) -> list[tuple[str, str, str, Callable[[], object]]]:
        """(title, key, help, run) for the screen the palette was opened on."""
        screen = self.screen
        main = self.app.screen_stack[0]
        if screen is not main:
            return [(description, key, help_, partial(screen.run_action, action))
                    for action, key, description, help_, enabled in screen_keys(screen) if enabled]
        live = {ab.binding.id: ab.binding for ab in main.active_bindings.values() if ab.binding.id}
        entries = []
        for spec in ACTIONS:
            binding = live.get(spec.id)
            if binding is None:  # hidden (read-only) or not bound
                continue
            entries.append((spec.description, self.app.get_key_display(binding), spec.help,
                            partial(main.run_action, spec.action)))
        return entries

    def _display(self, title: str | Content, key: str) -> Content:
        content = title if isinstance(title, Content) else Content(title)
        return content + Content.styled(f"  {key}", "dim")

    async def discover(self) -> Hits:
        for title, key, help_, run in self._entries():
            yield DiscoveryHit(self._display(title, key), run, text=title, help=help_)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, key, help_, run in self._entries():
            score = max(matcher.match(title), matcher.match(help_) * 0.8)
            if score > 0:
                yield Hit(score, self._display(matcher.highlight(title), key), run, text=title, help=help_)
