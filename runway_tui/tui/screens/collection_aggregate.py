"""The Collection screen's Aggregate view at work: running a pipeline in a worker, paging its results from
the run's cursor, the ready-made pipelines, and closing cursors off the UI thread. A part of
`CollectionScreen` (collection.py), which owns the state and the reads' plumbing."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.widgets import DataTable, TabbedContent
from textual.worker import get_current_worker

from runway_tui.engine.aggregate_presets import PRESETS, field_problem
from runway_tui.engine.aggregate_run import AggregatePage, AggregateResults
from runway_tui.engine.inspect import Inspector, SchemaReport
from runway_tui.tui.components.aggregate_view import AggregateView, PipelineEditor
from runway_tui.tui.screens.prompt import PromptScreen

if TYPE_CHECKING:
    from runway_tui.tui.screens.view_loaded import ViewLoaded


class AggregateRuns:
    """Mixed into CollectionScreen: `self` is the screen."""

    collection: str
    inspector: Inspector | None
    query_one: Any
    query: Any
    app: Any
    notify: Any
    results: AggregateResults | None
    result_page: AggregatePage | None
    result_columns: list[str] | None
    first_results_at: float | None
    tokens: dict[str, int]

    # ------------------------------------------------------------------ aggregate
    def action_preset(self, preset_id: str) -> None:
        preset = next(p for p in PRESETS if p.id == preset_id)
        report: SchemaReport | None = getattr(self.query("#schema-view").first(), "report", None) \
            if self.query("#schema-view") else None
        suggested = ""
        if report is not None and self.query_one(TabbedContent).active == "schema":
            table = self.query_one("#schema-table", DataTable)
            if table.row_count:
                suggested = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value).replace("[]", "")

        def chosen(field: str | None) -> None:
            if field:
                self.action_view("aggregate")
                self.call_after_refresh(self._preset_chosen, preset.pipeline(field))

        self.app.push_screen(PromptScreen(preset.title, f"Runs {preset.help}: which field? (a dotted path such as "
                                          "address.city)", placeholder="legacy_id", value=suggested,
                                          validate=field_problem), chosen)

    def _preset_chosen(self, text: str) -> None:
        editor = self.query_one(PipelineEditor)
        editor.text = text
        editor.focus()
        self._run_pipeline(text)

    def _run_pipeline(self, text: str) -> None:
        self.tokens["aggregate"] += 1
        self._close_results()
        self.result_page = None
        view = self.query_one(AggregateView)
        view.show_status(Text("running the pipeline on the server… (esc cancels)", style="italic dim"))
        self._aggregate_worker(self.tokens["aggregate"], text)

    @work(thread=True, name="inspect-aggregate", group="inspect-aggregate", exclusive=True, exit_on_error=False)
    def _aggregate_worker(self, token: int, text: str) -> None:
        inspector = self.inspector
        worker = get_current_worker()

        def run() -> AggregatePage | None:
            if inspector is None:
                return None
            results = inspector.aggregate(self.collection, text)
            if worker.is_cancelled:
                results.close()  # esc while the server ran it: end the cursor it left open
                return None
            return Ran(results, results.page(1, self.result_columns))  # type: ignore[return-value]

        self._post_result("aggregate", token, run)

    def action_aggregate_page(self, delta: int) -> None:
        page = self.result_page
        if page is None or self.results is None or self.read_running("aggregate"):
            return
        if (delta > 0 and not page.has_more) or (delta < 0 and page.number == 1):
            self.notify("no more results that way", timeout=2)
            return
        self._read_results(page.number + delta)

    def _read_results(self, number: int) -> None:
        self.tokens["aggregate"] += 1
        self.query_one(AggregateView).show_status(Text("reading…", style="italic dim"))
        self._results_worker(self.tokens["aggregate"], self.results, number, self.result_columns)

    @work(thread=True, name="inspect-aggregate", group="inspect-aggregate", exclusive=True, exit_on_error=False)
    def _results_worker(self, token: int, results: AggregateResults, number: int, columns: list[str] | None) -> None:
        self._post_result("aggregate", token, lambda: Ran(results, results.page(number, columns)))

    def _close_results(self) -> None:
        results, self.results = self.results, None
        if results is not None:  # killCursors waits for a read in flight: never on the UI thread
            threading.Thread(target=results.close, name="runway-close-cursor", daemon=True).start()

    def _show_results(self, message: ViewLoaded) -> None:
        view = self.query_one(AggregateView)
        if message.error is not None:
            view.show_error(message.error)
            self._show_results_status()
            return
        ran: Ran = message.result
        if ran.results is not self.results:
            self._close_results()
            self.results = ran.results
        view.show_error(None)
        self.result_page = ran.page
        view.show_page(ran.page)
        if self.first_results_at is None:
            self.first_results_at = time.monotonic()
        self._show_results_status()

    def _show_results_status(self) -> None:
        page = self.result_page
        if page is None:
            self.query_one(AggregateView).show_status(Text("", style="dim"))
            return
        shown = len(page.rows)
        text = Text(f"page {page.number} · results {page.first + 1 if shown else 0:,}–{page.first + shown:,}",
                    style="dim")
        text.append(" · ] next" if page.has_more else " · last page")
        if page.number > 1:
            text.append(" · [ previous")
        self.query_one(AggregateView).show_status(text)


class Ran:
    """A run of the pipeline and the page of it just read (the worker's result)."""

    def __init__(self, results: AggregateResults, page: AggregatePage) -> None:
        self.results, self.page = results, page
