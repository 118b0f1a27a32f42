"""Pane 3: the audit log, newest first, one page (window) at a time: never the whole collection."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.markup import escape
from textual.message import Message
from textual.widgets import DataTable, Input

from runway_tui.engine.audit_export import ExportError, write_entries
from runway_tui.engine.errors import RunwayError
from runway_tui.engine.models import MigrationAuditlogEntry
from runway_tui.tui.audit_search import HINT, AuditSearch
from runway_tui.tui.bindings import LIST_BINDINGS
from runway_tui.tui.components.columns import Column, Step, fit
from runway_tui.tui.format import action_name, clip, duration, when
from runway_tui.tui.messages import AuditPage

PAGE_SIZE = 50  # entries per page; the worker reads one more to know whether there is a next page
COLUMNS = ("date", "action", "migration", "result", "duration", "who")
SHRINK: list[Step] = [("migration", 24), ("who", 18), ("date", None), ("migration", 16), ("result", 10),
                      ("who", 12), ("migration", 12), ("action", 8), ("who", 8), ("result", 4), ("migration", 6)]
GIVE_BACK = ["date", "result", "who", "action", "migration"]


class AuditTable(DataTable[object]):
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
        names = [e.migration_read_model.name if e.migration_read_model else "—" for e in entries]
        results = ["ok" if e.succeeded else (e.exc_name or "error") for e in entries]
        columns = [
            Column("date", ("Date",), 19, compact=14),
            Column("action", ("Action",), max([len(action_name(e)) for e in entries] + [6])),
            Column("migration", ("Migration",), max([len(n) for n in names] + [9])),
            Column("result", ("Result", "Res"), max([len(r) for r in results] + [3])),
            Column("duration", ("Took",), max([len(duration(e.duration_ms)) for e in entries] + [4])),
            Column("who", ("User@host", "User"), max([len(_who(e)) for e in entries] + [9])),
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
    """Shows one page read by key; the app keeps the page anchors (keyset paging) and the filter."""

    @dataclass
    class Exported(Message):
        """An export ended: `path` written with `count` entries, or `error` (one line)."""

        path: Path
        count: int = 0
        capped: bool = False
        error: str | None = None

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.page: AuditPage | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder=f"filter: {HINT}", id="audit-filter", classes="filter-input")
        yield AuditTable(id="audit")

    @work(thread=True, name="audit-export", group="audit-export", exit_on_error=False,
          description="exporting the audit log")
    def export(self, path: Path, search: AuditSearch, line: str) -> None:
        """Every entry matching the pane's filter (not only the page shown), newest first, to `path`."""
        from runway_tui.tui.audit_tools import EXPORT_LIMIT

        engine = getattr(self.app, "engine", None)
        if engine is None:
            self.post_message(self.Exported(path, error="not connected"))
            return
        try:
            entries = engine.history(limit=EXPORT_LIMIT + 1, text=search.text or None, **search.filters)
            about = {"application": engine.name, "database": engine.config.database, "filter": line,
                     "exported_at": engine.now()}
            write_entries(path, entries[:EXPORT_LIMIT], about)
        except (RunwayError, ExportError) as exc:
            self.post_message(self.Exported(path, error=str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - a bug is one line too, never a dead worker saying nothing
            self.post_message(self.Exported(path, error=f"{type(exc).__name__}: {exc}"[:300]))
            return
        self.post_message(self.Exported(path, min(len(entries), EXPORT_LIMIT), len(entries) > EXPORT_LIMIT))

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
        filtered = f" · filter: {clip(text, 40)}" if text else ""
        self.border_subtitle = escape(f"{span}{filtered} · [ ] page")

    def show_loading(self) -> None:
        subtitle = str(self.border_subtitle or "")
        if not subtitle.startswith("loading"):
            self.border_subtitle = "loading…" if self.page is None else escape(f"loading… · {subtitle}")
