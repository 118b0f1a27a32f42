"""Pane 1: one row per migration version, files and database compared."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from rich.text import Text
from textual import events
from textual.markup import escape
from textual.timer import Timer

from runway_tui.engine.models import Problem, StatusReport, StatusRow
from runway_tui.tui.bindings import LIST_BINDINGS
from runway_tui.tui.bridge import Running
from runway_tui.tui.components.columns import Column, Step, cursor_row_key, fit
from runway_tui.tui.components.plain_table import PlainTable
from runway_tui.tui.format import clip, flat, plain, short_name, status_text, summary, version_text, when

# The name gets the width first: when the pane is narrow the description shrinks (keeping a readable start),
# then the state word (its mark and colour stay; the subtitle counts each state), and the name only last.
SHRINK: list[Step] = [("description", 20), ("status", None), ("description", 10), ("name", 24),
                      ("description", 4), ("name", 12), ("name", 8)]
GIVE_BACK = ["status", "description"]
# The wide view (ctrl+w) adds applied at/by; they give way before the name does.
SHRINK_WIDE: list[Step] = [("description", 16), ("applied_by", 12), ("applied_at", None), ("status", None),
                           ("description", 8), ("applied_by", 8), ("description", 4), ("name", 20), ("name", 12),
                           ("name", 8)]
GIVE_BACK_WIDE = ["status", "applied_at", "applied_by", "description"]
PATCH_LIMIT = 50  # more changed or removed rows than this: rebuild instead of patching
MARK_AFTER_S = 0.2  # a step still running after this long is marked ▶ in its row (see `mark_running`)
CHUNK = 200  # rows added per turn of the event loop when the table is rebuilt
CHUNK_PAUSE_S = 0.001


STATUS_FILTERS = ("all", "pending", "problems", "applied")
PROBLEMS = frozenset({Problem.FAILED, Problem.BROKEN, Problem.ORPHAN, Problem.DRIFT, Problem.OUT_OF_ORDER,
                      Problem.AUDIT_MISMATCH})


def has_problem(row: StatusRow) -> bool:
    return bool(PROBLEMS & set(row.problems))


def row_key(row: StatusRow) -> str:
    return f"v{row.version}" if row.version is not None else f"f:{row.name}"


class MigrationsTable(PlainTable):
    """A DataTable that keeps its cursor on the same migration across reloads."""

    BINDINGS = LIST_BINDINGS

    COLUMNS = ("status", "version", "name", "description")
    WIDE_COLUMNS = ("status", "version", "name", "description", "applied_at", "applied_by")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self.rows_by_key: dict[str, StatusRow] = {}
        self.filter_text = ""
        self._report: StatusReport | None = None
        self._keys: list[str] = []  # shown rows, in order
        self._fingerprints: dict[str, tuple[object, ...]] = {}
        self._shown_cells: dict[str, tuple[object, ...]] = {}
        self._layout: tuple[object, ...] = ()
        self._building: Iterator[StatusRow] | None = None  # rows still to add in chunks
        self._pending_selection: str | None = None
        self._generation = 0
        self._fitted_width: object = None  # the size the columns were fitted to
        self.offline = False  # the report is the files alone: the database state is unknown
        self.status_filter = "all"  # all, pending, problems, applied (`s` cycles)
        self.wide = False  # ctrl+w: applied at/by as well
        self._roomy = False  # the pane holds every column at its natural width: applied at/by shown anyway
        self.running: Running | None = None  # the step this session runs now: its row is marked ▶
        self._followed: str | None = None  # the row this run's following moved the cursor to
        self._mark_timer: Timer | None = None  # marks the step once it has run MARK_AFTER_S

    @property
    def columns_shown(self) -> tuple[str, ...]:
        """Applied at/by in the wide view, and whenever the pane holds every column at its natural width."""
        return self.WIDE_COLUMNS if self.wide or self._roomy else self.COLUMNS

    def toggle_wide(self) -> bool:
        self.wide = not self.wide
        self._fitted_width = None  # other columns: fit them again
        self._render_rows()
        return self.wide

    def set_running(self, running: Running | None) -> None:
        """Mark the row of the step running now (None: none) and follow it: the cursor moves to it, from
        step to step, as long as it stays on the row it was moved to (move it away: it stays where you put
        it; move it back: it follows again). Steps whose events arrive together are followed as one."""
        self.running = running
        self._render_rows()
        if running is None or self._building is not None:
            return
        key = f"v{running.version}"
        if (self._followed is None or self.selected_key == self._followed) and key in self.rows_by_key:
            self.move_cursor(row=self.get_row_index(key))
            self._followed = key

    def mark_running(self, running: Running | None) -> None:
        """A step started (or none runs now). The mark waits MARK_AFTER_S: a step that ends sooner is shown by
        its result alone, instead of the row's width changing twice (`▶ applying` is wider than `✓ applied`:
        every row rebuilt, twice, for a 10 ms step). From step to step of a run, the mark moves at once."""
        if self._mark_timer is not None:
            self._mark_timer.stop()
            self._mark_timer = None
        if running is not None and self.running is None:
            self._mark_timer = self.set_timer(MARK_AFTER_S, lambda: self.set_running(running), name="mark-running")
        elif running is not None or self.running is not None:
            self.set_running(running)

    def run_ended(self) -> None:
        """The run is over: no row is marked, and the next run is followed from its first step."""
        self._followed = None
        self.mark_running(None)

    @property
    def complete(self) -> bool:
        """Every row of the last report is in the table (a rebuild adds them in chunks)."""
        return self._report is not None and self._building is None

    def on_resize(self, event: events.Resize) -> None:
        if self.size != self._fitted_width:
            self._render_rows()  # re-fit the columns to the new size (the height decides the scrollbar)

    def _fit(self, rows: list[StatusRow]) -> dict[str, Column]:
        records = [r.record for r in rows if r.record is not None]
        columns = [
            Column("status", ("Status", " "), max([len(self._status(r)) for r in rows] + [6]), compact=1),
            Column("version", ("Ver",), max([len(version_text(r.version)) for r in rows] + [3])),
            Column("name", ("Name",), max([len(flat(short_name(r.name, r.version))) for r in rows] + [4])),
            Column("description", ("Description",), max([len(self._description(r)) for r in rows] + [11])),
            Column("applied_at", ("Applied at (UTC)", "Applied at", "Applied", "At"), 16, compact=11),
            Column("applied_by", ("Applied by", "By"),
                   max([len(flat(r.applied_by)) for r in records] + [len("Applied by") if records else 2])),
        ]
        visible = max(self.size.height - 1, 0)
        scrollbar = self.styles.scrollbar_size_vertical if len(rows) > visible else 0
        gap = 2 * self.cell_padding
        self._roomy = sum(c.natural + gap for c in columns) <= self.size.width - scrollbar
        columns = [c for c in columns if c.key in self.columns_shown]
        self._fitted_width = self.size
        wide = self.wide or self._roomy
        fit(columns, self.size.width - scrollbar, gap, SHRINK_WIDE if wide else SHRINK,
            GIVE_BACK_WIDE if wide else GIVE_BACK)
        return {c.key: c for c in columns}

    def show(self, report: StatusReport, offline: bool = False) -> None:
        """`offline`: the files as read from disk while the server cannot be reached (states unknown)."""
        self._report, self.offline = report, offline
        self._render_rows()

    @staticmethod
    def _description(row: StatusRow) -> str | Text:
        """A failed step shows its stored error and a broken file its reason, in place of a description."""
        if Problem.FAILED in row.problems and row.record is not None and row.record.error:
            return plain(summary(row.record.error), style="red")
        if Problem.BROKEN in row.problems and row.script is not None and row.script.problem:
            return plain(summary(row.script.problem), style="red")
        if Problem.AUDIT_MISMATCH in row.problems and row.audit is not None:
            said = "applied" if row.audit.state == "applied" else "reverted"
            return plain(f"the audit log shows it {said}: its record was lost or rewritten", style="red")
        return flat(summary(row.description))

    def _status(self, row: StatusRow) -> Text:
        if self.offline and row.script is not None and not row.script.is_broken:
            return Text("? unknown", style="dim")
        if self.running is not None and row.version == self.running.version:
            return Text("▶ " + ("applying" if self.running.direction == "up" else "reverting"), style="bold yellow")
        return status_text(row)

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip().lower()
        self._render_rows()

    def _row_fingerprint(self, row: StatusRow) -> tuple[object, ...]:
        record = row.record
        running = self.running is not None and row.version == self.running.version
        return (self.offline, running, record.error if record else None, row.state, row.problems,
                row.name, row.description, record.applied_at if record else None,
                record.applied_by if record else None)

    def _cells(self, row: StatusRow, columns: dict[str, Column]) -> tuple[object, ...]:
        record = row.record
        status = self._status(row)
        if columns["status"].is_compact:
            status = Text(status.plain[:1], style=status.style)
        applied_at = ""
        if record is not None and record.applied_at is not None and "applied_at" in columns:
            applied_at = (record.applied_at.strftime("%m-%d %H:%M") if columns["applied_at"].is_compact
                          else when(record.applied_at))
        cells = {"status": status, "version": version_text(row.version),
                 "name": short_name(row.name, row.version), "description": self._description(row),
                 "applied_at": applied_at, "applied_by": (record.applied_by or "") if record else ""}
        return tuple(cells[k] if isinstance(cells[k], Text) and k == "status" else
                     Text(clip(cells[k].plain, columns[k].width), style=cells[k].style)
                     if isinstance(cells[k], Text) else clip(str(cells[k]), columns[k].width)
                     for k in self.columns_shown)

    def _render_rows(self) -> None:
        """Show the report: only the rows that changed are updated (a step changes one row of 1000); the
        table is rebuilt only when the columns' widths or the rows' order change, and then in chunks."""
        if self._report is None:
            return
        rows = [r for r in self._report.rows if self._matches(r)]
        fingerprints = {row_key(r): self._row_fingerprint(r) for r in rows}
        keys = list(fingerprints)
        if (keys == self._keys and fingerprints == self._fingerprints and self._fitted_width == self.size
                and self._building is None):
            return  # polling found nothing new: keep the table (and the cursor) untouched
        columns = self._fit(rows)
        layout = tuple((k, columns[k].width, columns[k].label, columns[k].is_compact) for k in self.columns_shown)
        self._legend(rows)
        self.rows_by_key = {row_key(r): r for r in rows}
        if layout == self._layout and self._building is None and self._patch(rows, keys, fingerprints, columns):
            return
        self._rebuild(rows, keys, fingerprints, columns, layout)

    def _patch(self, rows: list[StatusRow], keys: list[str], fingerprints: dict[str, tuple[object, ...]],
               columns: dict[str, Column]) -> bool:
        """Update in place: changed cells, removed rows, rows added at the end. False: needs a rebuild."""
        old = self._fingerprints
        survivors = [k for k in self._keys if k in fingerprints]
        removed = len(self._keys) - len(survivors)
        if removed > PATCH_LIMIT or keys[:len(survivors)] != survivors:
            return False
        changed = [r for r in rows if row_key(r) in old and old[row_key(r)] != fingerprints[row_key(r)]]
        if len(changed) > PATCH_LIMIT:
            return False
        selected = self.selected_key
        for key in self._keys:
            if key not in fingerprints:
                self.remove_row(key)
        for row in changed:
            key = row_key(row)
            cells = self._cells(row, columns)
            for column, before, after in zip(self.columns_shown, self._shown_cells[key], cells, strict=True):
                if before != after:
                    self.update_cell(key, column, after)
            self._shown_cells[key] = cells
        for row in rows[len(survivors):]:
            key = row_key(row)
            self._shown_cells[key] = cells = self._cells(row, columns)
            self.add_row(*cells, key=key)
        for key in set(self._shown_cells) - set(fingerprints):
            del self._shown_cells[key]
        self._keys, self._fingerprints = keys, fingerprints
        if removed and selected in self.rows_by_key:
            self.move_cursor(row=self.get_row_index(selected))
        return True

    def _rebuild(self, rows: list[StatusRow], keys: list[str], fingerprints: dict[str, tuple[object, ...]],
                 columns: dict[str, Column], layout: tuple[object, ...]) -> None:
        selected = self._pending_selection or self.selected_key
        self.clear(columns=True)
        for key in self.columns_shown:
            self.add_column(columns[key].label, width=columns[key].width, key=key)
        self._layout, self._keys, self._fingerprints = layout, keys, fingerprints
        self._shown_cells = {}
        self._pending_selection = selected
        self._generation += 1
        self._building = iter(rows)
        self._add_chunk(self._generation, columns)

    def _add_chunk(self, generation: int, columns: dict[str, Column]) -> None:
        """Add the next CHUNK rows, then let the event loop breathe (DataTable measures new rows on idle)."""
        if generation != self._generation or self._building is None:
            return  # a newer rebuild started
        for row in itertools.islice(self._building, CHUNK):
            key = row_key(row)
            self._shown_cells[key] = cells = self._cells(row, columns)
            self.add_row(*cells, key=key)
        if self.row_count < len(self._keys):
            self.set_timer(CHUNK_PAUSE_S, lambda: self._add_chunk(generation, columns))
            return
        self._building = None
        selected, self._pending_selection = self._pending_selection, None
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
            word = self._status(row).plain
            counts[word] = counts.get(word, 0) + 1
        legend = " · ".join(f"{word[:1]} {count} {word[2:]}" for word, count in counts.items())
        filtered = self.filter_text or self.status_filter != "all"
        shown = f"{len(rows)} of {len(self._report.rows)} · " if filtered and self._report else ""
        if self.status_filter != "all":
            shown = f"{self.status_filter} only · {shown}"
        self.parent.border_subtitle = escape(shown + legend) if rows else "no migrations"

    def cycle_status_filter(self) -> str:
        self.status_filter = STATUS_FILTERS[(STATUS_FILTERS.index(self.status_filter) + 1) % len(STATUS_FILTERS)]
        self._render_rows()
        return self.status_filter

    def select_next_problem(self) -> StatusRow | None:
        """The next row (after the cursor, wrapping) with a problem; None when there is none."""
        keys = self._keys
        if not keys:
            return None
        start = keys.index(self.selected_key) + 1 if self.selected_key in keys else 0
        for key in keys[start:] + keys[:start]:
            if has_problem(self.rows_by_key[key]):
                self.move_cursor(row=self.get_row_index(key))
                return self.rows_by_key[key]
        return None

    def _matches(self, row: StatusRow) -> bool:
        if self.status_filter == "problems" and not has_problem(row):
            return False
        if self.status_filter == "applied" and not row.is_applied:
            return False
        if self.status_filter == "pending" and (row.is_applied or has_problem(row) or row.version is None):
            return False
        if not self.filter_text:
            return True
        haystack = f"{row.version} {row.name} {row.description} {row.state} {' '.join(p.value for p in row.problems)}"
        return self.filter_text in haystack.lower()

    @property
    def selected_key(self) -> str | None:
        return cursor_row_key(self)

    @property
    def selected_row(self) -> StatusRow | None:
        key = self.selected_key
        return self.rows_by_key.get(key) if key else None

    def select_version(self, version: int) -> None:
        key = f"v{version}"
        if self._building is not None:
            self._pending_selection = key  # selected once the rebuild has added every row
        elif key in self.rows_by_key:
            self.move_cursor(row=self.get_row_index(key))
