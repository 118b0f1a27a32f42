"""Pane 3: the audit log, newest first, one page (window) at a time: never the whole collection."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.markup import escape
from textual.widgets import Input

from runway_tui.engine.models import MigrationAuditlogEntry
from runway_tui.tui.bindings import LIST_BINDINGS
from runway_tui.tui.components.columns import Column, Step, fit
from runway_tui.tui.components.plain_table import PlainTable
from runway_tui.tui.format import action_name, clip, duration, flat, when
from runway_tui.tui.messages import AuditPage

PAGE_SIZE = 50  # entries per page; the worker reads one more to know whether there is a next page
COLUMNS = ("date", "action", "migration", "result", "duration", "who")
SHRINK: list[Step] = [("migration", 24), ("who", 18), ("date", None), ("migration", 16), ("result", 10),
                      ("who", 12), ("migration", 12), ("action", 8), ("who", 8), ("result", 4), ("migration", 6)]
GIVE_BACK = ["date", "result", "who", "action", "migration"]


class AuditTable(PlainTable):
    BINDINGS = LIST_BINDINGS

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]
        self.entries: list[MigrationAuditlogEntry] = []
        self._fingerprint: object = None
        self._fitted_width: object = None  # the size the columns were fitted to

    def on_resize(self, event: events.Resize) -> None:
        if self.size != self._fitted_width and self.entries:  # height too: it decides the scrollbar
            self._fingerprint = None
            self.show(self.entries)

    def _fit(self, entries: list[MigrationAuditlogEntry]) -> dict[str, Column]:
        names = [flat(e.migration_read_model.name) if e.migration_read_model else "—" for e in entries]
        results = ["ok" if e.succeeded else flat(e.exc_name or "error") for e in entries]
        columns = [
            Column("date", ("Date",), 19, compact=14),
            Column("action", ("Action",), max([len(flat(action_name(e))) for e in entries] + [6])),
            Column("migration", ("Migration",), max([len(n) for n in names] + [9])),
            Column("result", ("Result", "Res"), max([len(r) for r in results] + [3])),
            Column("duration", ("Took",), max([len(duration(e.duration_ms)) for e in entries] + [4])),
            Column("who", ("User@host", "User"), max([len(flat(_who(e))) for e in entries] + [9])),
        ]
        visible = max(self.size.height - 1, 0)
        scrollbar = self.styles.scrollbar_size_vertical if len(entries) > visible else 0
        self._fitted_width = self.size
        fit(columns, self.size.width - scrollbar, 2 * self.cell_padding, SHRINK, GIVE_BACK)
        return {c.key: c for c in columns}

    def show(self, entries: list[MigrationAuditlogEntry]) -> None:
        fingerprint = tuple((str(e.id), e.exc_name, e.duration_ms, e.date) for e in entries)
        if fingerprint == self._fingerprint:
            return
        self._fingerprint = fingerprint
        row = self.cursor_row
        self.entries = entries
        columns = self._fit(entries)
        self.clear(columns=True)
        for key in COLUMNS:
            self.add_column(columns[key].label, width=columns[key].width, key=key)
        compact_date = columns["date"].is_compact
        for index, entry in enumerate(entries):
            model = entry.migration_read_model
            result = (Text("ok", style="green") if entry.succeeded
                      else Text(clip(entry.exc_name or "error", columns["result"].width), style="bold red"))
            date = entry.date.strftime("%m-%d %H:%M:%S") if compact_date and entry.date else when(entry.date, True)
            self.add_row(date, clip(action_name(entry), columns["action"].width),
                         clip(model.name if model else "—", columns["migration"].width), result,
                         Text(duration(entry.duration_ms), justify="right"),
                         clip(_who(entry), columns["who"].width), key=str(index))
        if entries:
            self.move_cursor(row=min(row, len(entries) - 1))
        # Column widths settle on idle; without a repaint then, a real terminal can keep header-wide columns.
        self.set_timer(0.05, self.refresh)

    @property
    def selected_entry(self) -> MigrationAuditlogEntry | None:
        if not self.entries or self.cursor_row < 0 or self.cursor_row >= len(self.entries):
            return None
        return self.entries[self.cursor_row]


def _who(entry: MigrationAuditlogEntry) -> str:
    return f"{entry.user or '?'}@{entry.host or '?'}"


class AuditPane(Vertical):
    """Shows one page read by key; the app keeps the page anchors (keyset paging) and the text filter."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.page: AuditPage | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter the audit log (action, migration, user, error) and press Enter",
                    id="audit-filter", classes="filter-input")
        yield AuditTable(id="audit")

    def on_mount(self) -> None:
        self.border_subtitle = "loading…"

    def show(self, page: AuditPage) -> None:
        """The log is never counted (a count of 100k entries is a scan on some servers): "more" comes from
        reading one entry past the page, and the total is known, for free, once the last page is shown."""
        self.page = page
        entries, text = page.entries, page.filter_text
        self.query_one(AuditTable).show(entries)
        first = page.index * PAGE_SIZE
        if not entries:
            span = ("empty" if not text else "no match") if page.index == 0 else f"{first:,} entries, no more"
        elif page.has_more:
            span = f"{first + 1:,}–{first + len(entries):,} · more"
        else:
            span = f"{first + 1:,}–{first + len(entries):,} of {first + len(entries):,}"
        filtered = f" · filter: {clip(text, 20)}" if text else ""
        self.border_subtitle = escape(f"{span}{filtered} · [ ] page")

    def show_loading(self) -> None:
        subtitle = str(self.border_subtitle or "")
        if not subtitle.startswith("loading"):
            self.border_subtitle = "loading…" if self.page is None else escape(f"loading… · {subtitle}")
