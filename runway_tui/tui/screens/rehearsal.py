"""The Rehearsal screen: the pending migrations run on a sample of production in a scratch database first.

One row per migration (result, time on the sample and the estimate for the whole collection, reversible,
what changed, the pre-checks); Enter shows its diffs, syntax-coloured. The rehearsal runs in a worker thread
through the engine (`engine/rehearse`), beside the main engine: production only ever receives reads.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static
from textual.worker import get_current_worker

from runway_tui.engine.rehearse import MigrationRehearsal, ReadSettings, RehearsalReport, RehearsalRequest, rehearse
from runway_tui.engine.vocabulary import duration_label
from runway_tui.tui.components.plain_table import PlainTable
from runway_tui.tui.explorer import explain
from runway_tui.tui.format import plain
from runway_tui.tui.long_text import code_view, cut_long

COLUMNS = ("Ver", "Migration", "Result", "Sample", "Estimate", "Reversible", "Changes", "Pre-checks")


def _changes(migration: MigrationRehearsal) -> str:
    parts = []
    for name, diff in migration.collections.items():
        counts = [f"{n} {label}" for n, label in ((diff.inserted, "ins"), (diff.updated, "upd"),
                                                  (diff.deleted, "del")) if n]
        extra = [f"+{len(diff.indexes_added)} idx" if diff.indexes_added else "",
                 f"-{len(diff.indexes_removed)} idx" if diff.indexes_removed else "",
                 "validator" if diff.validator_changed else ""]
        words = ", ".join([*counts, *[e for e in extra if e]]) or "no change"
        parts.append(f"{name}: {words}")
    return "; ".join(parts) or "—"


class RehearsalScreen(Screen[None]):
    """Opened with `R` on pane 1 (every pending migration) or from a step's confirmation (up to its target)."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="rehearsal-back"),
        Binding("q", "back", "Back", show=False),
        Binding("r", "rerun", "Run again", id="rehearsal-rerun"),
        Binding("enter", "details", "Diffs", id="rehearsal-details"),
    ]

    def __init__(self, request: RehearsalRequest | None = None) -> None:
        super().__init__()
        self.request = request or RehearsalRequest()
        self.report: RehearsalReport | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="detail"):
            yield Label(Text.assemble(("Rehearsal", "bold"),
                                      ("  · a sample of production in a scratch database; production only read",
                                       "dim")), classes="detail-title")
            yield Static(Text("starting…", style="italic dim"), id="rehearsal-status")
            yield PlainTable(id="rehearsal-table", cursor_type="row")
            with VerticalScroll(id="rehearsal-body"):
                yield Static("", id="rehearsal-detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#rehearsal-table").focus()
        self.run_rehearsal()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_rerun(self) -> None:
        self.run_rehearsal()

    def action_details(self) -> None:
        self._show_detail()
        self.query_one("#rehearsal-body").focus()

    @on(DataTable.RowHighlighted, "#rehearsal-table")
    def _highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    @on(DataTable.RowSelected, "#rehearsal-table")
    def _selected(self, _event: DataTable.RowSelected) -> None:
        self._show_detail()
        self.query_one("#rehearsal-body").focus()

    # ------------------------------------------------------------------ the worker
    @work(thread=True, name="rehearse", group="rehearse", exclusive=True, exit_on_error=False)
    def run_rehearsal(self) -> None:
        app: Any = self.app
        config = getattr(app, "app_config", None)
        tui = getattr(app, "tui_config", None)
        if config is None or tui is None:
            app.call_from_thread(self._status, Text("no application", style="red"))
            return
        settings = ReadSettings(max_time_ms=tui.inspect_max_time_ms, read_preference=tui.inspect_read_preference,
                                redact_fields=tuple(tui.redact_fields))
        worker = get_current_worker()

        def progress(text: str) -> None:
            if not worker.is_cancelled:
                app.call_from_thread(self._status, plain(text + "…", style="italic dim"))

        app.call_from_thread(self._status, Text("copying a sample of production…", style="italic dim"))
        try:
            report = rehearse(config, self.request, settings, front_end="tui", progress=progress)
        except Exception as exc:  # noqa: BLE001 - shown in place, never a crash
            if not worker.is_cancelled:
                app.call_from_thread(self._status, plain(explain(exc), style="red"))
            return
        if not worker.is_cancelled:
            app.call_from_thread(self._show, report)

    def _status(self, text: Text) -> None:
        self.query_one("#rehearsal-status", Static).update(text)

    # ------------------------------------------------------------------ showing the report
    def _show(self, report: RehearsalReport) -> None:
        self.report = report
        if report.nothing_pending:
            self._status(plain(f"nothing to rehearse: no pending migration in {report.database}", style="green"))
            return
        verdict = {0: ("ok: every migration ran, reversed and passed its pre-checks", "green"),
                   1: ("a migration failed on the sample: production would fail too", "red"),
                   4: ("attention: a pre-check found problems or a migration is not reversible", "red")}
        text, colour = verdict[int(report.exit_code)]
        self._status(Text.assemble(plain(text, style=f"bold {colour}"), plain(
            f"  · sample {report.sample_size} · production: {report.production_writes} writes, "
            f"{report.production_reads} reads · {duration_label(int(report.total_ms))}", style="dim")))
        table = self.query_one("#rehearsal-table", DataTable)
        table.clear(columns=True)
        for label in COLUMNS:
            table.add_column(label, key=label)
        checks: dict[int, list[bool]] = {}
        for check in report.prechecks:
            checks.setdefault(check.version, []).append(check.ok)
        for migration in report.migrations:
            result_style = {"ok": "green", "failed": "bold red"}.get(migration.result, "dim")
            reversible = {True: Text("yes", style="green"), False: Text("NO", style="bold red"),
                          None: Text("—", style="dim")}[migration.reversible]
            ran = migration.result == "ok"
            own = checks.get(migration.version, [])
            problems = own.count(False)
            precheck = (Text(f"{problems} problem(s)", style="bold red") if problems
                        else Text(f"{len(own)} ok", style="green") if own else Text("—", style="dim"))
            table.add_row(Text(str(migration.version), justify="right"), plain(migration.name),
                          plain(migration.result, style=result_style),
                          Text(duration_label(migration.duration_ms) if ran else "—", justify="right"),
                          Text(f"~{duration_label(migration.estimated_full_ms or 0)}" if ran else "—",
                               justify="right", style="yellow"),
                          reversible, plain(_changes(migration)), precheck, key=str(migration.version))
        table.refresh()
        self._show_detail()

    def _selected_migration(self) -> MigrationRehearsal | None:
        if self.report is None or not self.report.migrations:
            return None
        table = self.query_one("#rehearsal-table", DataTable)
        index = min(max(table.cursor_row, 0), len(self.report.migrations) - 1)
        return self.report.migrations[index]

    def detail_text(self) -> str:
        """What the lower half shows for the selected migration (JSON: its diffs, reversal and pre-checks)."""
        migration = self._selected_migration()
        if migration is None or self.report is None:
            return ""
        data = {"version": migration.version, "name": migration.name, "result": migration.result,
                "error": migration.error,
                "estimated_full_ms (an estimate: the sample's time scaled by the collections' counts)":
                    migration.estimated_full_ms,
                "reversible": migration.reversible, "what the down did not put back": migration.reversal,
                "collections": {n: d.to_json() for n, d in migration.collections.items()},
                "prechecks": [c.to_json() for c in self.report.prechecks if c.version == migration.version],
                "notes": migration.notes}
        return json.dumps(data, indent=2, ensure_ascii=False)

    def _show_detail(self) -> None:
        text = self.detail_text()
        detail = self.query_one("#rehearsal-detail", Static)
        detail.update(code_view(cut_long(text, "the diffs"), "json", word_wrap=True) if text else "")
