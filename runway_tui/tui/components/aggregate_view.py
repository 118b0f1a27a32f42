"""The Collection screen's fifth view: a read-only pipeline typed in mongosh syntax, and its results paged.

The view renders what the engine returned (aggregate_run.py); the screen runs the pipeline in a worker. In the
pipeline editor Enter runs it, as in the filter inputs, and ctrl+j (or shift+enter where the terminal tells
it apart) starts a new line; the footer says so while the editor has the focus.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, TextArea

from runway_tui.engine.aggregate_run import AggregatePage
from runway_tui.tui.components.collection_views import ExplorerTable, fill, page_rows
from runway_tui.tui.format import plain, shown

PLACEHOLDER = "[{$match: {status: 'active'}}, {$group: {_id: '$city', n: {$sum: 1}}}]"


class PipelineEditor(TextArea):
    """A few lines of pipeline. Enter runs it; ctrl+j (or shift+enter) is a new line."""

    BINDINGS = [
        Binding("enter", "run", "Run", id="aggregate-run", tooltip="Run the pipeline (read only)"),
        Binding("ctrl+j", "newline", "New line", key_display="ctrl+j", id="aggregate-newline",
                tooltip="A new line in the pipeline (shift+enter too, where the terminal tells it apart)"),
    ]

    class Submitted(Message):
        """Enter in the editor: run this pipeline."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.action_run()
            return
        if event.key in ("ctrl+j", "shift+enter", "newline"):
            event.stop()
            event.prevent_default()
            self.action_newline()
            return
        await super()._on_key(event)

    def action_run(self) -> None:
        self.post_message(self.Submitted(self.text))

    def action_newline(self) -> None:
        start, end = self.selection
        self.replace("\n", start, end)


class ResultsTable(ExplorerTable):
    BINDINGS = [*ExplorerTable.BINDINGS,
                Binding("slash", "screen.edit_pipeline", "Pipeline", key_display="/", id="aggregate-edit",
                        tooltip="Edit the pipeline (Enter runs it)")]


class AggregateView(Vertical):
    """The pipeline editor, one line for a refused or failed pipeline, then the results and a status line."""

    BINDINGS = [
        Binding("right_square_bracket", "screen.aggregate_page(1)", "Next", key_display="]", id="aggregate-next"),
        Binding("left_square_bracket", "screen.aggregate_page(-1)", "Prev", key_display="[", id="aggregate-prev"),
        Binding("f", "screen.pick_columns('aggregate')", "Columns", id="aggregate-columns",
                tooltip="Choose the result columns and their order (nested fields too)"),
        Binding("x", "screen.export('aggregate')", "Export", id="aggregate-export",
                tooltip="Save every result, redacted, to a JSON lines or CSV file"),
    ]

    def compose(self) -> ComposeResult:
        editor = PipelineEditor("", id="pipeline-input", classes="query-input", soft_wrap=True,
                                show_line_numbers=False, tab_behavior="focus")
        editor.placeholder = PLACEHOLDER
        yield editor
        yield Static("", id="aggregate-error")
        yield ResultsTable(id="aggregate-table")
        yield Static(Text("type a pipeline and press Enter (read only; $out, $merge and JavaScript are refused)",
                          style="dim"), id="aggregate-status")

    def on_mount(self) -> None:
        self.show_error(None)

    def show_error(self, message: str | None) -> None:
        box = self.query_one("#aggregate-error", Static)
        box.update(plain(message, style="bold red", no_wrap=True, overflow="ellipsis") if message else "")
        box.display = bool(message)

    def show_status(self, text: Text | str) -> None:
        self.query_one("#aggregate-status", Static).update(shown(text))

    def show_page(self, page: AggregatePage) -> None:
        columns, rows = page_rows(page.columns, page.rows, empty="no results")
        fill(self.query_one(ExplorerTable), columns, rows)
