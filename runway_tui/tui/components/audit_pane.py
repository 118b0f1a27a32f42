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
from textual.widgets import Input

from runway_tui.engine.app import MigrationApp
from runway_tui.engine.audit_export import ExportError, write_entries
from runway_tui.engine.errors import RunwayError
from runway_tui.engine.models import MigrationAuditlogEntry
from runway_tui.tui.audit_search import HINT, AuditSearch
from runway_tui.tui.bindings import LIST_BINDINGS
from runway_tui.tui.components.columns import Column, Step, fit
from runway_tui.tui.components.plain_table import PlainTable
from runway_tui.tui.format import action_name, clip, duration, flat, when
from runway_tui.tui.messages import AuditPage

EXPORT_LIMIT = 100_000  # entries in one file at most (the newest), said when the filter matches more
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
    """Shows one page read by key. The pane owns its paging: the `before` anchor of every page from the newest
    to the one shown (None: the newest; keyset paging, never by skipping) and the filter. It posts `Wanted`
    when it needs a page; the app reads it in a worker and hands the page down (`accept`)."""

    @dataclass
    class Wanted(Message):
        """The pane needs a page: the entries older than `before` matching `filter_text`. `shown` (the newest
        page, unfiltered, on screen): only the entries written since need reading."""

        before: MigrationAuditlogEntry | None
        filter_text: str
        index: int
        shown: AuditPage | None = None

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
        self.filter_text = ""
        self.anchors: list[MigrationAuditlogEntry | None] = [None]

    def reset(self) -> None:
        """Another application: the newest page, no filter (what is shown stays until its first page)."""
        self.page, self.filter_text, self.anchors = None, "", [None]

    def reload(self, incremental: bool = True) -> None:
        """Ask for the page shown again. On the newest page, unfiltered, only the entries written since are
        read; an older page is keyed by its anchor, so new entries do not shift it: it is read again as it is."""
        page, before = self.page, self.anchors[-1]
        shown = page if (incremental and page is not None and before is None and page.before is None
                         and not page.filter_text and not self.filter_text and page.entries) else None
        # Posted to the app, not bubbled: a bubble ends at the parent of the message's sender (Textual), and the
        # screen itself asks for a page when the filter line is submitted (the app would never see it).
        self.app.post_message(self.Wanted(before, self.filter_text, len(self.anchors) - 1, shown))

    def accept(self, page: AuditPage) -> None:
        """A page read for a `Wanted`: shown unless the user paged or filtered since (another read is on its
        way) or a newer read of the same page was shown already."""
        if page.before is not self.anchors[-1] or page.filter_text != self.filter_text:
            return
        if self.page is not None and self.page.before is page.before and self.page.filter_text == \
                page.filter_text and page.read_at < self.page.read_at:
            return
        self.show(page)

    def set_filter(self, text: str) -> None:
        self.filter_text, self.anchors = text, [None]  # a filter starts at the newest page
        self.show_loading()
        self.reload()

    def turn(self, delta: int) -> None:
        """`]` older, `[` newer: by key (the last entry shown is the next page's anchor), never by skipping."""
        page = self.page
        if page is None or page.before is not self.anchors[-1] or page.filter_text != self.filter_text:
            return  # the page asked for is on its way: one press, one page
        if delta > 0 and page.has_more and page.entries:
            self.anchors.append(page.entries[-1])
        elif delta < 0 and len(self.anchors) > 1:
            self.anchors.pop()
        else:
            self.app.notify("no more audit entries that way", timeout=2)
            return
        self.show_loading()
        self.reload()

    def compose(self) -> ComposeResult:
        yield Input(placeholder=f"filter: {HINT}", id="audit-filter", classes="filter-input")
        yield AuditTable(id="audit")

    @work(thread=True, name="audit-export", group="audit-export", exit_on_error=False,
          description="exporting the audit log")
    def export(self, engine: MigrationApp, path: Path, search: AuditSearch, line: str) -> None:
        """Every entry matching the pane's filter (not only the page shown), newest first, to `path`."""
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
