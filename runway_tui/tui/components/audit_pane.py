"""Pane 3: the audit log, newest first, one page (window) at a time: never the whole collection."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.markup import escape
from textual.widgets import DataTable, Input

from runway_tui.engine.models import MigrationAuditlogEntry
from runway_tui.tui.bindings import LIST_BINDINGS
from runway_tui.tui.format import action_name, clip, duration, when

PAGE_SIZE = 50


class AuditTable(DataTable[object]):
    BINDINGS = LIST_BINDINGS

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]
        self.entries: list[MigrationAuditlogEntry] = []
        self._fingerprint: object = None

    def on_mount(self) -> None:
        for key, label in (("date", "Date"), ("action", "Action"), ("migration", "Migration"),
                           ("result", "Result"), ("duration", "Took"), ("who", "User@host")):
            self.add_column(label, key=key)

    def show(self, entries: list[MigrationAuditlogEntry]) -> None:
        fingerprint = tuple((str(e.id), e.exc_name, e.duration_ms, e.date) for e in entries)
        if fingerprint == self._fingerprint:
            return
        self._fingerprint = fingerprint
        row = self.cursor_row
        self.entries = entries
        self.clear()
        for index, entry in enumerate(entries):
            model = entry.migration_read_model
            result = (Text("ok", style="green") if entry.succeeded
                      else Text(entry.exc_name or "error", style="bold red"))
            self.add_row(when(entry.date, seconds=True), action_name(entry), clip(model.name if model else "—", 30),
                         result, Text(duration(entry.duration_ms), justify="right"),
                         clip(f"{entry.user or '?'}@{entry.host or '?'}", 28), key=str(index))
        if entries:
            self.move_cursor(row=min(row, len(entries) - 1))
        # Column widths settle on idle; without a repaint then, a real terminal can keep header-wide columns.
        self.set_timer(0.05, self.refresh)

    @property
    def selected_entry(self) -> MigrationAuditlogEntry | None:
        if not self.entries or self.cursor_row < 0 or self.cursor_row >= len(self.entries):
            return None
        return self.entries[self.cursor_row]


class AuditPane(Vertical):
    """Owns the page position and the text filter; the app loads the window they describe."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.skip = 0
        self.filter_text = ""
        self.total = 0

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter the audit log (action, migration, user, error) and press Enter",
                    id="audit-filter", classes="filter-input")
        yield AuditTable(id="audit")

    def show(self, entries: list[MigrationAuditlogEntry], total: int, skip: int, text: str) -> None:
        self.total, self.skip, self.filter_text = total, skip, text
        self.query_one(AuditTable).show(entries)
        if total == 0:
            span = "empty" if not text else "no match"
        else:
            span = f"{skip + 1}–{skip + len(entries)} of {'~' if not text else ''}{total:,}"
        filtered = f" · filter: {clip(text, 20)}" if text else ""
        self.border_subtitle = escape(f"{span}{filtered} · [ ] page")

    def page(self, delta: int) -> int | None:
        """The skip of the next/previous page, or None when there is no such page."""
        skip = self.skip + delta * PAGE_SIZE
        if skip < 0 or (delta > 0 and skip >= self.total):
            return None
        return skip
