"""The Collection screen: Documents, Schema, Indexes, Validation and Aggregate views of one collection, read only.

Each read runs in a named thread worker and comes back as a message; a newer read of the same view
replaces an older one. `esc` while a read runs cancels it (the worker's result is dropped; an aggregation's
server cursor is closed once it comes back; the server stops a read itself at `maxTimeMS`), otherwise it
leaves an input for its table, then goes back. Only Documents is read on open (one page and the estimated
count); the other views are read the first time they are shown, and the Schema again after a new filter.
Each view carries its own keys (collection_views.py, aggregate_view.py), so the footer offers that view's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.lazy import Lazy
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, TabbedContent, TabPane, TextArea
from textual.worker import get_current_worker

from runway_tui.engine.aggregate_run import AggregatePage, AggregateResults
from runway_tui.engine.inspect import DocumentCount, DocumentPage, DocumentQuery, Inspector
from runway_tui.tui.components.aggregate_view import AggregateView, PipelineEditor
from runway_tui.tui.components.collection_views import (
    DocumentsView,
    IndexesView,
    SchemaView,
    ValidationView,
)
from runway_tui.tui.explorer import explain, inspector_for
from runway_tui.tui.format import plain
from runway_tui.tui.screens.collection_aggregate import AggregateRuns, Ran
from runway_tui.tui.screens.collection_commands import CollectionCommands
from runway_tui.tui.screens.collection_tools import ExplorerTools
from runway_tui.tui.screens.document import DocumentScreen
from runway_tui.tui.screens.view_loaded import ViewLoaded

VIEWS = ("documents", "schema", "indexes", "validation", "aggregate")
READS = "inspect"  # every worker of this screen is in a group starting with this
FOCUS = {"documents": "#documents-table", "schema": "#schema-table", "indexes": "#indexes-table",
         "validation": "#validation-view", "aggregate": "#pipeline-input"}


class ReportView(Protocol):
    """The Schema and Indexes views: each shows one report, or the read's error."""

    report: Any

    def show(self, report: Any) -> None: ...
    def show_error(self, message: str) -> None: ...


class CollectionScreen(ExplorerTools, AggregateRuns, Screen[None]):
    """Its keys, and those of the view in front, are its palette's commands and its `?` list (tui/commands.py,
    tui/keys_panel.py); the ready-made pipelines are in the palette besides (collection_commands.py)."""

    COMMANDS = {CollectionCommands}
    BINDINGS = [
        Binding("escape", "back", "Back", id="collection-back", tooltip="Back; while a read runs, cancel it"),
        Binding("1", "view('documents')", "Documents", show=False, id="view-documents",
                tooltip="Show the documents, 50 a page"),
        Binding("2", "view('schema')", "Schema", show=False, id="view-schema",
                tooltip="Field paths, types and common values, from a $sample of what the filter selects"),
        Binding("3", "view('indexes')", "Indexes", show=False, id="view-indexes",
                tooltip="Keys, flags, size and usage of every index"),
        Binding("4", "view('validation')", "Validation", show=False, id="view-validation",
                tooltip="The validator, its level and action, and the collection's options"),
        Binding("5", "view('aggregate')", "Aggregate", show=False, id="view-aggregate",
                tooltip="Run a read-only pipeline in mongosh syntax and page its results"),
        Binding("r", "reload", "Reload", id="collection-reload", tooltip="Read the view shown again"),
        Binding("q", "back", "Back", show=False),
    ]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.collection = name
        self.query_state = DocumentQuery()
        self.anchors: list[Any] = [None]  # the `after` anchor of every page from the first to the one shown
        self.page: DocumentPage | None = None
        self.count: DocumentCount | None = None
        self.columns: list[str] | None = None  # chosen with `f` (None: the most common fields)
        self.results: AggregateResults | None = None  # the pipeline's run whose pages are shown
        self.result_page: AggregatePage | None = None
        self.result_columns: list[str] | None = None
        self.tokens = dict.fromkeys((*VIEWS, "count", "export"), 0)
        self.loaded: set[str] = set()
        self.opened_at = time.monotonic()
        self.first_page_at: float | None = None  # when the first page was on screen (bench/explorer_bench.py)
        self.first_results_at: float | None = None  # the same for the aggregate view's first page
        self.count_after_page = False  # the estimated count waits for the page: both may cost a scan

    @property
    def inspector(self) -> Inspector | None:
        return inspector_for(self.app)

    def compose(self) -> ComposeResult:
        yield Label(Text.assemble(("Collection ", "dim"), plain(self.collection, "bold"), ("  · read only", "dim")),
                    id="collection-title", classes="detail-title")
        with TabbedContent(initial="documents", id="collection-views"):
            with TabPane("Documents", id="documents"):
                yield DocumentsView(id="documents-view")
            # the hidden views mount after the first paint: opening the screen is then two short pauses of
            # the event loop instead of one long one (bench/explorer_bench.py)
            with TabPane("Schema", id="schema"):
                yield Lazy(SchemaView(id="schema-view"))
            with TabPane("Indexes", id="indexes"):
                yield Lazy(IndexesView(id="indexes-view"))
            with TabPane("Validation", id="validation"):
                yield Lazy(ValidationView(id="validation-view"))
            with TabPane("Aggregate", id="aggregate"):
                yield Lazy(AggregateView(id="aggregate-view"))
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._blink()
        self.query_one(DocumentsView).show_error(None)
        self.query_one("#documents-table").focus()
        _ = self.inspector  # made on the UI thread, before any worker asks for it
        self._load("documents")

    def _blink(self) -> None:
        blink = getattr(self.app, "cursor_blink", True)
        for box in [*self.query(Input), *self.query(TextArea)]:
            box.cursor_blink = blink

    def on_unmount(self) -> None:
        self._close_results()

    # ------------------------------------------------------------------ actions
    def action_view(self, view: str) -> None:
        self.query_one(TabbedContent).active = view
        self._blink()
        self.query_one(FOCUS[view]).focus()

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        view = event.pane.id or "documents"
        self._blink()
        if view != "aggregate" and view not in self.loaded and not self.read_running(view):
            self._load(view)

    def action_edit_query(self) -> None:
        self.action_view("documents")
        self.query_one("#query-filter", Input).focus()

    def action_edit_pipeline(self) -> None:
        self.action_view("aggregate")

    def action_exact_count(self) -> None:
        self.action_view("documents")
        self._read_count(exact=True)

    def action_page(self, delta: int) -> None:
        page = self.page
        if page is None or self.read_running("documents"):
            return
        if delta > 0 and page.has_more:
            self.anchors.append(page.next_anchor)
        elif delta < 0 and len(self.anchors) > 1:
            self.anchors.pop()
        else:
            self.notify("no more documents that way", timeout=2)
            return
        self._read_page()

    def action_reload(self) -> None:
        view = self.query_one(TabbedContent).active or "documents"
        if view == "aggregate":
            self._run_pipeline(self.query_one(PipelineEditor).text)
        else:
            self._load(view)

    def action_back(self) -> None:
        running = [w for w in self.workers if w.is_running and (w.group or "").startswith(READS)]
        if running:
            for worker in running:
                worker.cancel()
            for view in self.tokens:
                self.tokens[view] += 1  # whatever comes back now is dropped
            self._show_cancelled()
            return
        if isinstance(self.focused, Input | TextArea):
            view = self.query_one(TabbedContent).active or "documents"
            self.query_one("#aggregate-table" if view == "aggregate" else "#documents-table").focus()
            return
        self.dismiss(None)

    def _show_cancelled(self) -> None:
        note = Text(f"cancelled; the server stops the read within "
                    f"{self.inspector.settings.max_time_ms if self.inspector else '?'} ms (maxTimeMS)", style="yellow")
        self.query_one(DocumentsView).show_status(note)
        if self.query("#aggregate-view"):
            self.query_one(AggregateView).show_status(note)
        self.notify("read cancelled", timeout=2)

    @on(Input.Submitted, ".query-input")
    def _query_submitted(self) -> None:
        query = DocumentQuery(self.query_one("#query-filter", Input).value,
                              self.query_one("#query-projection", Input).value,
                              self.query_one("#query-sort", Input).value)
        self._new_query(query)  # the focus stays in the input: the next keys refine the query

    def _new_query(self, query: DocumentQuery) -> None:
        if query.filter != self.query_state.filter:
            self.loaded.discard("schema")  # the Schema samples what the filter selects: read it again
        self.query_state, self.anchors, self.count = query, [None], None
        self.count_after_page = True
        self._read_page(new_query=True)

    @on(DataTable.RowSelected, "#documents-table")
    def _open_document(self, event: DataTable.RowSelected) -> None:
        self._open(event, self.page.documents if self.page else [])

    @on(DataTable.RowSelected, "#aggregate-table")
    def _open_result(self, event: DataTable.RowSelected) -> None:
        self._open(event, self.result_page.documents if self.result_page else [])

    def _open(self, event: DataTable.RowSelected, documents: list[str]) -> None:
        try:
            index = int(str(event.row_key.value))
        except (TypeError, ValueError):
            return
        if 0 <= index < len(documents):
            self.app.push_screen(DocumentScreen(self.collection, documents[index]))

    @on(DataTable.RowSelected, "#schema-table")
    def _schema_field(self, event: DataTable.RowSelected) -> None:
        self.schema_field(event)

    @on(PipelineEditor.Submitted)
    def _pipeline_submitted(self, message: PipelineEditor.Submitted) -> None:
        self._run_pipeline(message.text)  # the focus stays in the editor, as in the filter inputs

    # ------------------------------------------------------------------ reads (workers)
    def read_running(self, view: str) -> bool:
        return any(w.is_running and w.group == f"{READS}-{view}" for w in self.workers)

    def _load(self, view: str) -> None:
        if view == "documents":
            self.count_after_page = True
            self._read_page()
        else:
            self.tokens[view] += 1
            self.run_worker(partial(self._read_view, view, self.tokens[view]), thread=True, name=f"inspect-{view}",
                            group=f"{READS}-{view}", exclusive=True, exit_on_error=False)

    def _read_page(self, new_query: bool = False) -> None:
        self.tokens["documents"] += 1
        columns = self.columns or (None if new_query or self.page is None or len(self.anchors) == 1
                                   else self.page.columns)
        self.query_one(DocumentsView).show_status(Text("reading…", style="italic dim"))
        self._documents_worker(self.tokens["documents"], self.query_state, self.anchors[-1], columns)

    @work(thread=True, name="inspect-documents", group="inspect-documents", exclusive=True, exit_on_error=False)
    def _documents_worker(self, token: int, query: DocumentQuery, after: Any, columns: list[str] | None) -> None:
        inspector = self.inspector
        self._post_result("documents", token,
                          lambda: inspector.documents(self.collection, query, after, columns) if inspector else None)

    @work(thread=True, name="inspect-count", group="inspect-count", exclusive=True, exit_on_error=False)
    def _count_worker(self, token: int, filter_text: str, exact: bool) -> None:
        inspector = self.inspector
        self._post_result("count", token,
                          lambda: inspector.count(self.collection, filter_text, exact) if inspector else None)

    def _read_count(self, exact: bool) -> None:
        if exact:
            self.query_one(DocumentsView).show_status(Text("counting on the server…", style="italic dim"))
        self.tokens["count"] += 1
        self._count_worker(self.tokens["count"], self.query_state.filter, exact)

    def _read_view(self, view: str, token: int) -> None:
        """Runs in the view's own worker (`inspect-schema`, `inspect-indexes`, `inspect-validation`)."""
        inspector = self.inspector
        query = self.query_state
        readers: dict[str, Callable[[Inspector], Any]] = {
            "schema": lambda i: i.schema(self.collection, filter_text=query.filter),
            "indexes": lambda i: i.indexes(self.collection),
            "validation": lambda i: i.validation(self.collection),
        }
        self._post_result(view, token, lambda: readers[view](inspector) if inspector else None)

    def _post_result(self, view: str, token: int, read: Callable[[], Any]) -> None:
        """Runs in the worker: read, then post the result or one line of error (nothing once cancelled)."""
        try:
            result = read()
            message = ViewLoaded(view, token, result=result, error=None if result is not None or view == "count"
                                 else "not connected")
        except Exception as exc:  # noqa: BLE001 - a failed read is shown in its view, never a crash
            message = ViewLoaded(view, token, error=explain(exc))
        if not get_current_worker().is_cancelled:
            self.post_message(message)
        elif isinstance(message.result, Ran) and message.result.results is not self.results:
            message.result.results.close()  # cancelled once the server had answered: end its cursor

    # ------------------------------------------------------------------ results (UI thread)
    @on(ViewLoaded)
    def _loaded(self, message: ViewLoaded) -> None:
        if message.view == "plan":
            self._show_plan(message)
            return
        if message.view == "export":
            self._show_export(message)
            return
        if message.token != self.tokens[message.view]:
            if isinstance(message.result, Ran) and message.result.results is not self.results:
                threading.Thread(target=message.result.results.close, daemon=True).start()
            return  # superseded or cancelled
        if message.view == "documents":
            self._show_page(message)
        elif message.view == "aggregate":
            self._show_results(message)
        elif message.view == "count":
            if message.error is None:
                self.count = message.result
                self._show_documents_status()
            else:
                self.query_one(DocumentsView).show_status(plain(f"count: {message.error}", style="red"))
        else:
            self.loaded.add(message.view)
            view = cast("ReportView", self.query_one(f"#{message.view}-view"))  # schema or indexes
            if message.error is not None:
                view.show_error(message.error)
            else:
                view.report = message.result
                view.show(message.result)

    def _show_page(self, message: ViewLoaded) -> None:
        documents = self.query_one(DocumentsView)
        if message.error is not None:
            documents.show_error(message.error)
            if len(self.anchors) > 1 and self.page is not None and self.page.query == self.query_state:
                self.anchors.pop()  # the page asked for did not come: stay on the one shown
            self._show_documents_status()
            return
        documents.show_error(None)
        self.page = message.result
        self.loaded.add("documents")
        documents.show_page(message.result)
        if self.first_page_at is None:
            self.first_page_at = time.monotonic()
        self._show_documents_status()
        if self.count_after_page:
            self.count_after_page = False
            self._read_count(exact=False)

    def _show_documents_status(self) -> None:
        page = self.page
        text = Text(style="dim")
        if page is not None:
            first = (len(self.anchors) - 1) * (self.inspector.settings.page_size if self.inspector else 50)
            shown = len(page.rows)
            text.append(f"page {len(self.anchors)} · documents {first + 1 if shown else 0:,}–{first + shown:,}")
            text.append(" · ] next" if page.has_more else " · last page")
            if len(self.anchors) > 1:
                text.append(" · [ previous")
        count = self.count
        if count is not None:
            text.append(f" · {count.count:,} " + ("matching (exact)" if count.exact else "in all (estimated)"),
                        style="" if count.exact else "dim")
        elif self.query_state.filter.strip():
            text.append(" · c counts the matches exactly")
        if page is not None and not self.query_state.is_default:
            text.append(" · filtered", style="cyan")
        self.query_one(DocumentsView).show_status(text)


