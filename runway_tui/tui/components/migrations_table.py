"""Pane 1: one row per migration version, files and database compared."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.markup import escape
from textual.widgets import DataTable

from runway_tui.engine.models import StatusReport, StatusRow
from runway_tui.tui.bindings import LIST_BINDINGS
from runway_tui.tui.components.columns import Column, Step, fit
from runway_tui.tui.format import clip, short_name, status_text, summary, version_text, when

# Shrink order when the pane is narrow: the description first (it keeps at least a readable start), the
# year of "applied at", the name, and only then the state word (the mark and its colour stay).
SHRINK: list[Step] = [("description", 24), ("name", 16), ("applied_by", 12), ("applied_at", None),
                      ("description", 20), ("name", 12), ("description", 16), ("status", None),
                      ("applied_by", 8), ("description", 10), ("name", 8), ("description", 4)]
GIVE_BACK = ["status", "description"]


def row_key(row: StatusRow) -> str:
    return f"v{row.version}" if row.version is not None else f"f:{row.name}"


class MigrationsTable(DataTable[object]):
    """A DataTable that keeps its cursor on the same migration across reloads."""

    BINDINGS = LIST_BINDINGS

    COLUMNS = ("status", "version", "name", "description", "applied_at", "applied_by")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self.rows_by_key: dict[str, StatusRow] = {}
        self.filter_text = ""
        self._report: StatusReport | None = None
        self._fingerprint: object = None
        self._fitted_width = 0

    def on_resize(self, event: events.Resize) -> None:
        if self.size.width != self._fitted_width:
            self._fingerprint = None  # re-fit the columns to the new width
            self._render_rows()

    def _fit(self, rows: list[StatusRow]) -> dict[str, Column]:
        records = [r.record for r in rows if r.record is not None]
        columns = [
            Column("status", ("Status", " "), max([len(status_text(r)) for r in rows] + [6]), compact=1),
            Column("version", ("Ver",), max([len(version_text(r.version)) for r in rows] + [3])),
            Column("name", ("Name",), max([len(short_name(r.name, r.version)) for r in rows] + [4])),
            Column("description", ("Description",), max([len(summary(r.description)) for r in rows] + [11])),
            Column("applied_at", ("Applied at (UTC)", "Applied at", "Applied", "At"), 16, compact=11),
            Column("applied_by", ("Applied by", "By"),
                   max([len(r.applied_by or "") for r in records] + [len("Applied by") if records else 2])),
        ]
        visible = max(self.size.height - 1, 0)
        scrollbar = self.styles.scrollbar_size_vertical if len(rows) > visible else 0
        self._fitted_width = self.size.width
        fit(columns, self.size.width - scrollbar, 2 * self.cell_padding, SHRINK, GIVE_BACK)
        return {c.key: c for c in columns}

    def show(self, report: StatusReport) -> None:
        self._report = report
        self._render_rows()

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip().lower()
        self._render_rows()

    def _render_rows(self) -> None:
        if self._report is None:
            return
        rows = [r for r in self._report.rows if self._matches(r)]
        fingerprint = (self.filter_text, tuple((row_key(r), r.state, r.problems, r.description,
                                                r.record.applied_at if r.record else None,
                                                r.record.applied_by if r.record else None) for r in rows))
        if fingerprint == self._fingerprint:
            return  # polling found nothing new: keep the table (and the cursor) untouched
        self._fingerprint = fingerprint
        selected = self.selected_key
        columns = self._fit(rows)
        self.clear(columns=True)
        for key in self.COLUMNS:
            self.add_column(columns[key].label, width=columns[key].width, key=key)
        compact_status = columns["status"].is_compact
        self._legend(rows)
        compact_date = columns["applied_at"].is_compact
        self.rows_by_key = {}
        for row in rows:
            key = row_key(row)
            self.rows_by_key[key] = row
            record = row.record
            status = status_text(row)
            if compact_status:
                status = Text(status.plain[:1], style=status.style)
            applied_at = ""
            if record is not None and record.applied_at is not None:
                applied_at = record.applied_at.strftime("%m-%d %H:%M") if compact_date else when(record.applied_at)
            cells = {"status": status, "version": version_text(row.version),
                     "name": short_name(row.name, row.version), "description": summary(row.description),
                     "applied_at": applied_at, "applied_by": (record.applied_by or "") if record else ""}
            self.add_row(*(cells[k] if isinstance(cells[k], Text) else clip(str(cells[k]), columns[k].width)
                           for k in self.COLUMNS), key=key)
        if selected in self.rows_by_key:
            self.move_cursor(row=self.get_row_index(selected))
        # Column widths settle on idle; without a repaint then, a real terminal can keep header-wide columns.
        self.set_timer(0.05, self.refresh)

    def _legend(self, rows: list[StatusRow]) -> None:
        """The pane's subtitle counts rows per status, so a mark alone (narrow columns) stays readable."""
        if self.parent is None:
            return
        counts: dict[str, int] = {}
        for row in rows:
            word = status_text(row).plain
            counts[word] = counts.get(word, 0) + 1
        legend = " · ".join(f"{word[:1]} {count} {word[2:]}" for word, count in counts.items())
        shown = f"{len(rows)} of {len(self._report.rows)} · " if self.filter_text and self._report else ""
        self.parent.border_subtitle = escape(shown + legend) if rows else "no migrations"

    def _matches(self, row: StatusRow) -> bool:
        if not self.filter_text:
            return True
        haystack = f"{row.version} {row.name} {row.description} {row.state} {' '.join(p.value for p in row.problems)}"
        return self.filter_text in haystack.lower()

    @property
    def selected_key(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        except Exception:
            return None

    @property
    def selected_row(self) -> StatusRow | None:
        key = self.selected_key
        return self.rows_by_key.get(key) if key else None

    def select_version(self, version: int) -> None:
        key = f"v{version}"
        if key in self.rows_by_key:
            self.move_cursor(row=self.get_row_index(key))
