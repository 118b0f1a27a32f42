"""The Collection screen's views, actions and ready-made pipelines in the command palette, by name."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from runway_tui.engine.aggregate_presets import PRESETS

ENTRIES: list[tuple[str, str, str]] = [
    ("Documents", "show the documents (1)", "view('documents')"),
    ("Schema", "field paths, types, common values and how often they occur, from a $sample of what the filter "
     "selects (2)", "view('schema')"),
    ("Indexes", "keys, flags, size and usage of every index (3)", "view('indexes')"),
    ("Validation", "the validator, its level and action, and the collection's options (4)", "view('validation')"),
    ("Aggregate", "run a read-only pipeline in mongosh syntax and page its results (5)", "view('aggregate')"),
    ("Filter documents", "type a MongoDB query in mongosh syntax or extended JSON (/)", "edit_query"),
    ("Exact count", "count the documents matching the filter on the server (c)", "exact_count"),
    ("Explain the query", "the server's plan for the filter and sort: stages and the index used (e)",
     "explain_query"),
    ("Choose columns", "which fields the table shows, in which order, nested ones too (f)", "pick_columns"),
    ("Export", "save what the view shows, redacted, to a JSON lines or CSV file (x)", "export"),
    ("Reload view", "read the view shown again (r)", "reload"),
    *[(preset.title, f"aggregate: {preset.help}", f"preset('{preset.id}')") for preset in PRESETS],
]


class CollectionCommands(Provider):
    def _run(self, action: str) -> Callable[[], object]:
        return partial(self.screen.run_action, action)

    def _shown(self) -> bool:
        from runway_tui.tui.screens.collection import CollectionScreen

        return isinstance(self.screen, CollectionScreen)

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
