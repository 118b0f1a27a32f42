"""The views of the Collection screen (the fifth, Aggregate, is in aggregate_view.py). They only render what the
engine returned (typed cells, plain data and extended JSON text, already redacted); the screen reads in
workers and hands results to them. Each view carries its own keys, so the footer offers that view's keys only.
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Input, Static

from runway_tui.engine.document_cells import Cell
from runway_tui.engine.inspect import (
    USAGE_NOT_REPORTED,
    DocumentPage,
    FieldStat,
    IndexReport,
    SchemaReport,
    ValidationReport,
)
from runway_tui.engine.messages import visible
from runway_tui.tui.bindings import LIST_BINDINGS
from runway_tui.tui.components.cells import cell_text
from runway_tui.tui.components.plain_table import PlainTable
from runway_tui.tui.format import plain, shown, size
from runway_tui.tui.long_text import code_view, cut_long

BAR = 10


def percent_bar(percent: float) -> Text:
    filled = round(percent / 100 * BAR)
    text = Text(f"{percent:5.1f}% ", style="" if percent >= 100 else "yellow")
    text.append("█" * filled, style="green" if percent >= 100 else "yellow")
    text.append("░" * (BAR - filled), style="dim")
    return text


def fill(table: DataTable[object], columns: tuple[str, ...], rows: list[tuple[str, list[Text]]],
         cap: int = 60) -> None:
    """Columns with widths measured from their cells (at most `cap`), then the rows: a table filled while
    its tab is being shown could otherwise keep the header-wide widths it measured first."""
    table.clear(columns=True)
    for index, label in enumerate(columns):  # a field name may hold anything: the header shows it visibly
        header = plain(label)
        width = max([header.cell_len, *(cells[index].cell_len for _, cells in rows)])
        table.add_column(header, key=label, width=min(width, cap))
    for key, cells in rows:
        table.add_row(*cells, key=key)


def without_empty_columns(columns: tuple[str, ...], rows: list[tuple[str, list[Text]]]
                          ) -> tuple[tuple[str, ...], list[tuple[str, list[Text]]]]:
    """Drop the columns the server left empty in every row (a usage date it does not keep, sizes not permitted)."""
    keep = [i for i in range(len(columns)) if not rows or any(cells[i].plain.strip() for _, cells in rows)]
    return tuple(columns[i] for i in keep), [(key, [cells[i] for i in keep]) for key, cells in rows]


def page_rows(columns: list[str], cells: list[list[Cell | None]], empty: str
              ) -> tuple[tuple[str, ...], list[tuple[str, list[Text]]]]:
    """A page's typed cells as table rows keyed by their index (one dim line when there are none)."""
    shown = tuple(columns or ["_id"])
    rows = [(str(index), [cell_text(cell) for cell in row]) for index, row in enumerate(cells)]
    if not rows:
        rows = [("none", [Text(empty if i == 0 else "", style="dim italic") for i in range(len(shown))])]
    return shown, rows


class ExplorerTable(PlainTable):
    """A row-cursor table whose left/right keys scroll by whole columns: a column starts at the left edge,
    never cut through a value (or through a wide character)."""

    BINDINGS = LIST_BINDINGS

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]

    def column_starts(self) -> list[int]:
        starts, x = [], 0
        for column in self.ordered_columns:
            starts.append(x)
            x += column.get_render_width(self)
        return starts

    def action_cursor_right(self) -> None:
        if self.cursor_type != "row":
            return super().action_cursor_right()
        here, limit = round(self.scroll_x), round(self.max_scroll_x)
        following = [x for x in self.column_starts() if x > here]
        if here < limit:
            self.scroll_to(x=min(following[0], limit) if following else limit, animate=False)

    def action_cursor_left(self) -> None:
        if self.cursor_type != "row":
            return super().action_cursor_left()
        here = round(self.scroll_x)
        before = [x for x in self.column_starts() if x < here]
        if here > 0:
            self.scroll_to(x=before[-1] if before else 0, animate=False)


class SchemaTable(ExplorerTable):
    BINDINGS = [*LIST_BINDINGS, Binding("enter", "select_cursor", "Filter by it", id="schema-filter",
                                        tooltip="Filter the documents by this field, one of its types or values")]


class DocumentsView(Vertical):
    """Filter, projection and sort inputs (mongosh syntax or extended JSON), one line for a bad one, the page."""

    BINDINGS = [
        Binding("slash", "screen.edit_query", "Filter", key_display="/", id="documents-filter",
                tooltip="Filter the documents: a MongoDB query in mongosh syntax or extended JSON"),
        Binding("c", "screen.exact_count", "Exact count", id="documents-count",
                tooltip="Count the documents matching the filter exactly, on the server"),
        Binding("right_square_bracket", "screen.page(1)", "Next", key_display="]", id="documents-next",
                tooltip="The next page of documents (read by key)"),
        Binding("left_square_bracket", "screen.page(-1)", "Prev", key_display="[", id="documents-prev",
                tooltip="The previous page of documents"),
        Binding("f", "screen.pick_columns('documents')", "Columns", id="documents-columns",
                tooltip="Choose the columns and their order (nested fields too, such as address.city)"),
        Binding("e", "screen.explain_query", "Explain", id="documents-explain",
                tooltip="The server's plan for this filter and sort: stages and the index used"),
        Binding("x", "screen.export('documents')", "Export", id="documents-export",
                tooltip="Save every matching document, redacted, to a JSON lines or CSV file"),
    ]

    def compose(self) -> ComposeResult:
        with Horizontal(id="query-row"):
            yield Input(placeholder="/ filter  {status: {$exists: false}}", id="query-filter",
                        classes="query-input")
            yield Input(placeholder="projection  {name: 1}", id="query-projection", classes="query-input")
            yield Input(placeholder="sort  {age: -1}", id="query-sort", classes="query-input")
        yield Static("", id="query-error")
        yield ExplorerTable(id="documents-table")
        yield Static(Text("loading…", style="italic dim"), id="documents-status")

    def show_error(self, message: str | None) -> None:
        box = self.query_one("#query-error", Static)
        box.update(plain(message, style="bold red", no_wrap=True, overflow="ellipsis") if message else "")
        box.display = bool(message)

    def show_status(self, text: Text) -> None:
        self.query_one("#documents-status", Static).update(shown(text))

    def show_page(self, page: DocumentPage) -> None:
        columns, rows = page_rows(page.columns, page.rows, empty="no documents match")
        fill(self.query_one(ExplorerTable), columns, rows)


class SchemaView(Vertical):
    def compose(self) -> ComposeResult:
        yield Static(Text("loading…", style="italic dim"), id="schema-status")
        yield SchemaTable(id="schema-table")

    COLUMNS = ("Field", "In documents", "Types", "Common values")

    def show_error(self, message: str) -> None:
        self.query_one("#schema-status", Static).update(plain(message, style="red"))

    def show(self, report: SchemaReport) -> None:
        where = "the documents matching the filter" if report.filter else "the collection"
        status = Text(f"{report.sampled:,} documents sampled from {where} ($sample of {report.requested:,})",
                      style="dim")
        missing = sum(1 for f in report.fields if not f.always)
        if missing:
            status.append(f" · {missing} fields missing from some documents", style="yellow")
        status.append(" · enter filters by a field, a type or a value", style="dim")
        self.query_one("#schema-status", Static).update(status)
        rows = []
        for stat in report.fields:
            depth = stat.path.count(".") + stat.path.count("[]")
            name = plain("  " * depth + stat.path, style="bold" if depth == 0 else "")
            types = plain(" · ".join(f"{kind} {share:.0f}%" if len(stat.types) > 1 else kind
                                     for kind, share in stat.types))
            rows.append((stat.path, [name, percent_bar(stat.percent), types, common_values(stat)]))
        fill(self.query_one(ExplorerTable), self.COLUMNS, rows)


def common_values(stat: FieldStat) -> Text:
    if stat.redacted:
        return Text("redacted", style="dim italic")
    text = Text(no_wrap=True, overflow="ellipsis")
    for index, value in enumerate(stat.values):
        if index:
            text.append(" · ", style="dim")
        text.append_text(cell_text(value.cell))
        text.append(f" {value.count:,}", style="dim")
    return text


class IndexesView(Vertical):
    def compose(self) -> ComposeResult:
        yield Static(Text("loading…", style="italic dim"), id="indexes-status")
        yield ExplorerTable(id="indexes-table")

    COLUMNS = ("Name", "Keys", "Flags", "Size", "Ops", "Since")

    def show_error(self, message: str) -> None:
        self.query_one("#indexes-status", Static).update(plain(message, style="red"))

    def show(self, report: IndexReport) -> None:
        status = Text(f"{len(report.indexes)} indexes", style="dim")
        if report.usage_note:
            label = report.usage_note if report.usage_note == USAGE_NOT_REPORTED else \
                f"usage ($indexStats): {report.usage_note}"
            status.append(f" · {label}", style="yellow")
        else:
            unused = sum(1 for i in report.indexes if i.never_used)
            status.append(" · usage since the server started", style="dim")
            if unused:
                status.append(f" · {unused} never used", style="yellow")
        if report.size_note:
            status.append(f" · sizes: {report.size_note}", style="yellow")
        self.query_one("#indexes-status", Static).update(shown(status))
        rows = []
        for index in report.indexes:
            flags = plain(", ".join(index.flags) or "—", style="" if index.flags else "dim")
            if index.partial:
                flags.append(f" {visible(index.partial)}", style="dim")
            ops = (Text("") if index.ops is None else
                   Text("never used", style="yellow") if index.never_used else Text(f"{index.ops:,}"))
            rows.append((index.name, [plain(index.name, style="bold"), plain(index.keys), flags,
                                      Text(size(index.size), justify="right"), ops, plain(index.since or "")]))
        columns, rows = without_empty_columns(self.COLUMNS, rows)
        fill(self.query_one(ExplorerTable), columns, rows)


class ValidationView(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield Static(Text("loading…", style="italic dim"), id="validation-facts")
        yield Static("", id="validation-json")

    def show_error(self, message: str) -> None:
        self.query_one("#validation-facts", Static).update(plain(message, style="red"))

    def show(self, report: ValidationReport) -> None:
        if not report.exists:
            self.show_error("this collection no longer exists")
            return
        facts = Text()
        rows = [(visible(str(label)), visible(str(value))) for label, value in  # the server's words: shown visibly
                [("type", report.kind), ("validator", "yes" if report.validator else "none"),
                 ("validation level", report.level or "—"), ("validation action", report.action or "—"),
                 *report.options]]
        width = max(len(label) for label, _ in rows)
        for index, (label, value) in enumerate(rows):
            if index:
                facts.append("\n")
            facts.append(f"{label:>{width}}  ", style="dim")
            facts.append(value)
        self.query_one("#validation-facts", Static).update(facts)
        if not report.validator:
            self.query_one("#validation-json", Static).update(
                Text("No validator: the server accepts any document.", style="dim italic"))
            return
        validator = cut_long(report.validator, "the validator")
        body = code_view(validator, "json", word_wrap=True)
        self.query_one("#validation-json", Static).update(
            Group(plain(validator.note, "yellow"), body) if validator.note else body)
