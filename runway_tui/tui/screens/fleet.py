"""The Fleet screen: every tenant database of a fleet application at a glance, and fleet runs.

A table coloured by state (up to date, pending, failed, drift, locked, unreachable), filtered with `/` and
sorted with `s`; `u` asks once for the whole fleet (the tenant count and the waves) and then shows the run
tenant by tenant as each one finishes; while another runner's run is in progress, its progress is read from
the run record every poll. Enter opens the usual four panes on the tenant under the cursor (`tui/run.py run_fleet_tui`
runs that application and comes back here when it is left).

Every engine call runs in a worker thread (`Fleet` from engine/fleet/facade.py); results come back through
`call_from_thread`, so the screen never waits on the server.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Static
from textual.worker import get_current_worker

from runway_tui.engine.fleet.facade import Direction, Fleet, FleetRequest
from runway_tui.engine.fleet.inspect import FleetStatus, TenantStatus
from runway_tui.engine.fleet.pool import FleetOutcome, TenantOutcome
from runway_tui.engine.fleet.targets import short_cluster
from runway_tui.tui.format import plain

STATE_STYLES = {"up_to_date": "green", "pending": "yellow", "locked": "cyan", "problems": "red", "drift": "red",
                "unreachable": "bold red", "error": "red", "ok": "bold green", "failed": "bold red",
                "blocked": "red", "unchanged": "green", "not_started": "yellow", "running": "bold cyan"}
COLUMNS = ("cluster", "database", "version", "pending", "state", "problems", "lock", "run")
SORTS = ("database", "state", "cluster", "version")


@dataclass
class Row:
    """One tenant as the screen shows it: its status, and its result in the run shown (if any)."""

    status: TenantStatus
    run: str = ""

    @property
    def key(self) -> str:
        return self.status.tenant.key

    @property
    def state(self) -> str:
        return self.run if self.run in ("failed", "blocked") else self.status.state


class FleetConfirm(ModalScreen[bool]):
    """Asked once for the whole fleet: what runs where, then y/Enter runs it, n/Escape does not."""

    BINDINGS = [Binding("y", "answer(True)", "Run"), Binding("n,escape", "answer(False)", "Cancel")]
    DEFAULT_CSS = """
    FleetConfirm { align: center middle; }
    FleetConfirm #fleet-confirm { width: 90; height: auto; border: thick $warning; padding: 1 2;
                                  background: $surface; }
    FleetConfirm Horizontal { height: auto; margin-top: 1; }
    """

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical(id="fleet-confirm"):
            for line in self.lines:
                yield Label(plain(line))
            with Horizontal():
                yield Button("Run on the fleet", id="run", variant="warning")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()  # a stray Enter does not run anything

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "run")


class FleetScreen(Screen[None]):
    """Every tenant of the fleet: one row each."""

    BINDINGS = [Binding("u", "fleet_up", "Fleet up"), Binding("r", "refresh", "Refresh"),
                Binding("slash", "filter", "Filter"), Binding("s", "sort", "Sort"),
                Binding("q", "app.quit", "Quit"),
                Binding("escape", "clear_filter", "Clear filter", show=False)]
    DEFAULT_CSS = """
    FleetScreen #fleet-summary { height: auto; padding: 0 1; }
    FleetScreen #fleet-run { height: auto; padding: 0 1; color: $text-muted; }
    FleetScreen DataTable { height: 1fr; }
    """

    def __init__(self, fleet: Fleet, poll_interval: float = 2.0) -> None:
        super().__init__()
        self.fleet = fleet
        self.poll_interval = poll_interval
        self.rows: dict[str, Row] = {}
        self.status: FleetStatus | None = None
        self.filter_text = ""
        self.sort_by = "database"
        self.running = threading.Event()  # a fleet run of ours is in progress
        self.outcome: FleetOutcome | None = None
        self.run_line = ""
        self.loads = 0  # finished status reads (tests wait on it)
        self.live: bool | None = None  # False: no change stream, the poll alone
        self._closing = False

    def on_unmount(self) -> None:
        self._closing = True

    def compose(self) -> ComposeResult:
        yield Static(plain(f"fleet {self.fleet.name} · loading every tenant…"), id="fleet-summary")
        box = Input(placeholder="filter: part of a database or cluster name, or a state", id="fleet-filter")
        box.display = False  # shown by `/`
        yield box
        yield DataTable(id="fleet-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="fleet-run")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        table.focus()
        self.load()
        self.set_interval(self.poll_interval, self.poll)
        self.watch_changes()

    @work(thread=True, exclusive=True, group="fleet-changes")
    def watch_changes(self) -> None:
        """Live progress: a change stream on the run record; where there is none, the poll alone."""
        worker = get_current_worker()
        self.live = self.fleet.watch(lambda: self.app.call_from_thread(self.poll),
                                     lambda: worker.is_cancelled or self._closing)

    # ------------------------------------------------------------------ reads (workers)
    @work(thread=True, exclusive=True, group="fleet-status")
    def load(self) -> None:
        try:
            status = self.fleet.status()
        except Exception as exc:  # the control server or a config problem: a message, never a wedge
            self.app.call_from_thread(self.show_error, str(exc))
            return
        self.app.call_from_thread(self.show_status, status)

    def poll(self) -> None:
        if not self.running.is_set():
            self.watch_run()

    @work(thread=True, exclusive=True, group="fleet-watch")
    def watch_run(self) -> None:
        """Another runner's run in progress: its progress from the run record."""
        try:
            doc = self.fleet.running()
            outcome = self.fleet.run_outcome(doc["_id"]) if doc else None
        except Exception:
            return  # the next poll tries again
        if outcome is not None:
            self.app.call_from_thread(self.show_outcome, outcome, "in progress (another runner)")

    def show_error(self, text: str) -> None:
        self.query_one("#fleet-summary", Static).update(plain(f"fleet {self.fleet.name}: {text}", "red"))

    def show_status(self, status: FleetStatus) -> None:
        self.status = status
        previous = {key: row.run for key, row in self.rows.items()}
        self.rows = {s.tenant.key: Row(s, previous.get(s.tenant.key, "")) for s in status.databases}
        self.loads += 1
        self.render_rows()

    def show_outcome(self, outcome: FleetOutcome, label: str) -> None:
        self.outcome = outcome
        for target in outcome.targets:
            row = self.rows.get(target.tenant.key)
            if row is not None:
                row.run = target.result
        counts = outcome.counts
        done = sum(counts.values()) - sum(1 for t in outcome.targets if t.result == "not_started" and not t.error)
        parts = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items() if n)
        self.run_line = f"run {outcome.run_id} {label}: {done}/{len(outcome.targets)} · {parts}"
        self.render_rows()

    # ------------------------------------------------------------------ the table
    def visible_rows(self) -> list[Row]:
        wanted = self.filter_text.lower()
        rows = [r for r in self.rows.values() if not wanted or wanted in r.status.tenant.database.lower()
                or wanted in r.status.tenant.cluster.lower() or wanted == r.state]
        key = {"database": lambda r: r.status.tenant.database, "state": lambda r: (r.state, r.status.tenant.database),
               "cluster": lambda r: (r.status.tenant.cluster, r.status.tenant.database),
               "version": lambda r: (r.status.current_version or -1, r.status.tenant.database)}[self.sort_by]
        return sorted(rows, key=key)  # type: ignore[arg-type]

    def render_rows(self) -> None:
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        for row in self.visible_rows():
            status = row.status
            style = STATE_STYLES.get(row.state, "")
            version = "none" if status.current_version is None else f"{status.current_version:03d}"
            table.add_row(plain(short_cluster(status.tenant.cluster), "dim"), plain(status.tenant.database, "bold"),
                          plain(version), plain(str(status.pending)), plain(row.state.replace("_", " "), style),
                          plain(", ".join(status.problems) or (status.error or ""), "red"),
                          plain(status.lock or "free", "cyan" if status.lock else "dim"),
                          plain(row.run.replace("_", " "), STATE_STYLES.get(row.run, "")), key=row.key)
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))
        self.query_one("#fleet-summary", Static).update(self.summary())
        self.query_one("#fleet-run", Static).update(plain(self.run_line))

    def summary(self) -> Text:
        if self.status is None:
            return plain(f"fleet {self.fleet.name} · loading every tenant…")
        counts = self.status.counts
        text = Text.assemble(plain(f"fleet {self.fleet.name} · {counts['databases']} tenants on "
                                   f"{len(self.status.clusters)} cluster(s) · ", "bold"))
        for name in ("up_to_date", "pending", "problems", "drift", "locked", "unreachable", "error"):
            if counts[name]:
                text.append_text(plain(f"{counts[name]} {name.replace('_', ' ')}  ", STATE_STYLES[name]))
        shown = len(self.visible_rows())
        if self.filter_text:
            text.append_text(plain(f"· filter {self.filter_text!r}: {shown} shown ", "italic"))
        text.append_text(plain(f"· sorted by {self.sort_by}", "dim"))
        return text

    # ------------------------------------------------------------------ keys
    def action_refresh(self) -> None:
        self.load()

    def action_filter(self) -> None:
        box = self.query_one("#fleet-filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#fleet-filter")
    def filtered(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.render_rows()

    @on(Input.Submitted, "#fleet-filter")
    def filter_done(self) -> None:
        self.query_one(DataTable).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#fleet-filter", Input)
        box.value = ""
        box.display = False
        self.query_one(DataTable).focus()

    def action_sort(self) -> None:
        self.sort_by = SORTS[(SORTS.index(self.sort_by) + 1) % len(SORTS)]
        self.render_rows()

    @on(DataTable.RowSelected)
    def open_tenant(self, event: DataTable.RowSelected) -> None:
        """Enter: the usual four panes on this tenant (the Fleet screen comes back when they are left)."""
        if self.running.is_set():
            self.notify("a fleet run is in progress: open a tenant when it has finished", severity="warning")
            return
        row = self.rows.get(str(event.row_key.value))
        if row is not None:
            self.app.exit(row.status.tenant)

    def action_fleet_up(self) -> None:
        if self.running.is_set():
            self.notify("a fleet run is already in progress", severity="warning")
            return
        if self.fleet.access.read_only:
            self.notify(f"read-only: {self.fleet.access.reason}", severity="warning", markup=False)
            return
        if self.status is None:
            return
        waves = " → ".join(w.name + (f" ({w.match})" if w.match else "") for w in self.fleet.config.waves)
        lines = [f"Apply every pending migration on the whole fleet {self.fleet.name}?",
                 f"{len(self.status.databases)} tenant database(s) on {len(self.status.clusters)} cluster(s); "
                 f"{self.status.counts['pending']} with pending migrations",
                 f"waves: {waves}",
                 f"at most {self.fleet.config.concurrency} tenants at once per cluster; after "
                 f"{self.fleet.config.max_failures} failure(s) no new tenant starts",
                 "each tenant is its own unit: a failed tenant rolls back nothing elsewhere"]
        for line in self.status.unreachable:
            lines.append(f"unreachable: {line}")
        self.app.push_screen(FleetConfirm(lines), self.confirmed)

    def confirmed(self, answer: bool | None) -> None:
        if answer:
            self.running.set()
            self.run_line = "fleet run starting…"
            self.render_rows()
            self.run_up()

    @work(thread=True, exclusive=True, group="fleet-run")
    def run_up(self) -> None:
        def started(run_id: str, joined: bool) -> None:
            self.app.call_from_thread(self.started, run_id, joined)

        def finished(outcome: TenantOutcome) -> None:
            self.app.call_from_thread(self.tenant_finished, outcome)

        try:
            outcome = self.fleet.run(FleetRequest(Direction.UP, all_=True), on_start=started, on_result=finished)
        except Exception as exc:  # refused before any tenant (read-only, another request in progress...)
            self.app.call_from_thread(self.run_failed, str(exc))
            return
        self.app.call_from_thread(self.run_finished, outcome)

    def started(self, run_id: str, joined: bool) -> None:
        self.run_line = f"fleet run {run_id} {'joined' if joined else 'started'}: running…"
        self.render_rows()

    def tenant_finished(self, outcome: TenantOutcome) -> None:
        row = self.rows.get(outcome.tenant.key)
        if row is not None:
            row.run = outcome.result
            if outcome.result == "ok":
                row.status.current_version, row.status.pending = outcome.to_version, 0
        self.render_rows()

    def run_failed(self, text: str) -> None:
        self.running.clear()
        self.run_line = ""
        self.notify(text, severity="error", markup=False)
        self.render_rows()

    def run_finished(self, outcome: FleetOutcome) -> None:
        self.running.clear()
        self.show_outcome(outcome, f"finished (exit {int(outcome.exit_code)})")
        self.load()


class FleetApp(App[Any]):
    """The Fleet screen on its own; it exits with the tenant to open, or None."""

    TITLE = "runway-tui · fleet"

    def __init__(self, fleet: Fleet, *, poll_interval: float = 2.0, theme: str | None = None) -> None:
        super().__init__()
        self.fleet = fleet
        self.poll_interval = poll_interval
        self._requested_theme = theme

    def on_mount(self) -> None:
        if self._requested_theme in self.available_themes:
            self.theme = self._requested_theme
        self.push_screen(FleetScreen(self.fleet, self.poll_interval))
