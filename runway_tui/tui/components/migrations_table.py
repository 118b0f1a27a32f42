"""Pane 1: one row per migration version, files and database compared."""

from __future__ import annotations

from textual.widgets import DataTable

from runway_tui.engine.models import StatusReport, StatusRow
from runway_tui.tui.bindings import LIST_BINDINGS
from runway_tui.tui.format import clip, short_name, status_text, summary, version_text, when


def row_key(row: StatusRow) -> str:
    return f"v{row.version}" if row.version is not None else f"f:{row.name}"


class MigrationsTable(DataTable[object]):
    """A DataTable that keeps its cursor on the same migration across reloads."""

    BINDINGS = LIST_BINDINGS

    COLUMNS = (("status", "Status"), ("version", "Ver"), ("name", "Name"), ("applied_at", "Applied at (UTC)"),
               ("applied_by", "Applied by"), ("description", "Description"))

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self.rows_by_key: dict[str, StatusRow] = {}
        self.filter_text = ""
        self._report: StatusReport | None = None
        self._fingerprint: object = None

    def on_mount(self) -> None:
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)

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
        self.clear()
        self.rows_by_key = {}
        for row in rows:
            key = row_key(row)
            self.rows_by_key[key] = row
            record = row.record
            self.add_row(status_text(row), version_text(row.version), clip(short_name(row.name, row.version), 30),
                         when(record.applied_at) if record else "", clip(record.applied_by, 24) if record else "",
                         clip(summary(row.description), 60), key=key)
        if selected in self.rows_by_key:
            self.move_cursor(row=self.get_row_index(selected))
        # Column widths settle on idle; without a repaint then, a real terminal can keep header-wide columns.
        self.set_timer(0.05, self.refresh)

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
