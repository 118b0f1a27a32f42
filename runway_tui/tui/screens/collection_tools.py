"""The Collection screen's tools beside its views: the Schema's filters, the column picker, the query plan and
exports. A part of `CollectionScreen` (collection.py), which owns the state and the reads' plumbing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.widgets import DataTable, Input, TabbedContent

from runway_tui.engine.document_export import ExportResult, export_documents, export_pipeline, problem_with
from runway_tui.engine.inspect import DocumentQuery, Inspector, SchemaReport
from runway_tui.engine.schema_values import combine
from runway_tui.tui.components.collection_views import DocumentsView, SchemaView
from runway_tui.tui.screens.columns import ColumnsScreen
from runway_tui.tui.screens.prompt import PromptScreen
from runway_tui.tui.screens.query_plan import QueryPlanScreen
from runway_tui.tui.screens.schema_filter import SchemaFilterScreen

if TYPE_CHECKING:
    from runway_tui.tui.screens.view_loaded import ViewLoaded


class ExplorerTools:
    """Mixed into CollectionScreen: `self` is the screen."""

    query_state: DocumentQuery
    collection: str
    inspector: Inspector | None
    query_one: Any
    app: Any
    notify: Any
    page: Any
    result_page: Any
    results: Any
    columns: list[str] | None
    result_columns: list[str] | None
    tokens: dict[str, int]

    # ------------------------------------------------------------------ schema: filter by a field, type or value
    def schema_field(self, event: DataTable.RowSelected) -> None:
        report: SchemaReport | None = getattr(self.query_one(SchemaView), "report", None)
        stat = next((f for f in report.fields if f.path == str(event.row_key.value)), None) if report else None
        if stat is None:
            return
        if not stat.filters:
            why = "redacted (tui.redact_fields): no filter on it" if stat.redacted else "no filter for this field"
            self.notify(f"{stat.path}: {why}", severity="warning", timeout=3)
            return

        def chosen(text: str | None) -> None:
            if text:
                self._filter_documents(combine(self.query_state.filter, text))

        self.app.push_screen(SchemaFilterScreen(stat.path, stat.filters, bool(self.query_state.filter.strip())),
                             chosen)

    def _filter_documents(self, filter_text: str) -> None:
        self.query_one("#query-filter", Input).value = filter_text
        self.action_view("documents")
        self._new_query(DocumentQuery(filter_text, self.query_state.projection, self.query_state.sort))

    # ------------------------------------------------------------------ columns, plan, export
    def action_pick_columns(self, view: str = "") -> None:
        view = view or self.query_one(TabbedContent).active or "documents"
        if view == "aggregate":
            page = self.result_page
            current, fields, shown = (page.columns, page.fields, len(page.rows)) if page else ([], [], 0)
        else:
            page_ = self.page
            current, fields, shown = (page_.columns, page_.fields, len(page_.rows)) if page_ else ([], [], 0)

        def chosen(columns: list[str] | None) -> None:
            if columns is None:
                return
            if view == "aggregate":
                self.result_columns = columns or None
                if self.results is not None and self.result_page is not None:
                    self._read_results(self.result_page.number)
            else:
                self.columns = columns or None
                self._read_page()

        self.app.push_screen(ColumnsScreen(current, fields, shown), chosen)

    def action_explain_query(self) -> None:
        self.action_view("documents")
        self.query_one(DocumentsView).show_status(Text("asking the server for its plan…", style="italic dim"))
        self._plan_worker(self.query_state)

    @work(thread=True, name="inspect-plan", group="inspect-plan", exclusive=True, exit_on_error=False)
    def _plan_worker(self, query: DocumentQuery) -> None:
        inspector = self.inspector
        self._post_result("plan", 0, lambda: inspector.explain(self.collection, query) if inspector else None)

    def action_export(self, view: str = "") -> None:
        view = view or self.query_one(TabbedContent).active or "documents"
        if view == "aggregate" and (self.results is None or self.result_page is None):
            self.notify("run a pipeline first (Enter in the pipeline)", severity="warning", timeout=3)
            return
        folder = self.app.app_config.config_path.parent
        stamp = self.app.clock().strftime("%Y%m%d-%H%M%S")
        default = f"{self.collection}-{'results' if view == 'aggregate' else 'documents'}-{stamp}.jsonl"

        def resolve(text: str) -> Path:
            path = Path(text).expanduser()
            return path if path.is_absolute() else folder / path

        def validate(text: str) -> str | None:
            return "a file name ending in .jsonl or .csv" if not text else problem_with(resolve(text))

        def chosen(text: str | None) -> None:
            if text:
                self._export(view, resolve(text))

        what = "every result of the pipeline (run again)" if view == "aggregate" else \
            "every document the filter selects, in its order"
        self.app.push_screen(PromptScreen(
            "Export", f"Saves {what}, redacted as shown, as JSON lines (.jsonl) or as CSV with the table's columns "
            f"(.csv). A relative name is saved in {folder}.", value=default, validate=validate), chosen)

    def _export(self, view: str, path: Path) -> None:
        self.tokens["export"] += 1
        self.notify(f"exporting to {path}…", timeout=2)
        if view == "aggregate" and self.results is not None:
            text, columns = self.results.text, (self.result_page.columns if self.result_page else ["_id"])
            self._export_worker(self.tokens["export"], lambda i: export_pipeline(i, self.collection, text, path,
                                                                                columns))
        else:
            query, columns = self.query_state, (self.page.columns if self.page else ["_id"])
            self._export_worker(self.tokens["export"], lambda i: export_documents(i, self.collection, query, path,
                                                                                 columns))

    @work(thread=True, name="inspect-export", group="inspect-export", exclusive=True, exit_on_error=False)
    def _export_worker(self, token: int, write: Callable[[Inspector], ExportResult]) -> None:
        inspector = self.inspector
        self._post_result("export", token, lambda: write(inspector) if inspector else None)

    def _show_plan(self, message: ViewLoaded) -> None:
        self._show_documents_status()
        if message.error is not None:
            self.query_one(DocumentsView).show_error(f"explain: {message.error}" if not message.error.startswith(
                ("filter", "sort", "projection", "explain")) else message.error)
            return
        self.app.push_screen(QueryPlanScreen(self.collection, self.query_state, message.result))

    def _show_export(self, message: ViewLoaded) -> None:
        if message.error is not None:
            self.notify(f"export: {message.error}", severity="error", timeout=6)
            return
        result: ExportResult = message.result
        more = f" (the first {result.count:,}: there are more)" if result.truncated else ""
        self.notify(f"exported {result.count:,} to {result.path}{more}", timeout=6)
