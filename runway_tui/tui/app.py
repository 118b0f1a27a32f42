"""`RunwayApp`: the Textual application. Engine work happens in workers (see `workers.py`); this class turns
their messages into pane updates, dialogs and log lines, and owns the safety rules (read-only, busy, confirm).
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import on
from textual.app import App, SuspendNotSupported
from textual.screen import Screen
from textual.timer import Timer

from runway_tui.engine.app import MigrationApp
from runway_tui.engine.config import AppConfig, TuiConfig
from runway_tui.engine.models import Direction, MigrationAuditlogEntry, Plan, Problem, RefreshReport, RunResult
from runway_tui.engine.policy import Access
from runway_tui.engine.runner import utcnow
from runway_tui.tui.bindings import ACTIONS
from runway_tui.tui.bridge import EventBuffer
from runway_tui.tui.commands import RunwayCommands
from runway_tui.tui.components.audit_pane import AuditPane
from runway_tui.tui.components.database_pane import DatabasePane
from runway_tui.tui.components.header_bar import HeaderBar, HeaderState
from runway_tui.tui.components.live_log import LiveLog
from runway_tui.tui.components.migrations_table import MigrationsTable
from runway_tui.tui.format import short_name, summary, version_text
from runway_tui.tui.messages import (
    AuditLoaded,
    AuditPage,
    ConnectionFailed,
    EngineActivity,
    EngineConnected,
    LockLoaded,
    OperationFinished,
    OverviewLoaded,
    PlanReady,
    Snapshot,
    StateLoaded,
)
from runway_tui.tui.screens.confirm import ConfirmRequest, ConfirmScreen
from runway_tui.tui.screens.error import ErrorScreen
from runway_tui.tui.screens.keys import KeyRow, KeysScreen
from runway_tui.tui.screens.main import MainScreen
from runway_tui.tui.screens.prompt import PromptScreen
from runway_tui.tui.workers import EngineWorkers

Clock = Callable[[], dt.datetime]
AUDIT_EVERY = 5  # polls between two reloads of the newest audit page when nothing else changed
OVERVIEW_FRESH_S = 5.0  # focusing pane 2 reloads it when its overview is older than this
OVERVIEW_SETTLE_S = 1.0  # after a step, the overview reloads once steps have stopped for this long


class RunwayApp(EngineWorkers, App[int]):
    """One application of the config, shown in four panes."""

    CSS_PATH = "app.tcss"
    TITLE = "runway-tui"
    COMMANDS = App.COMMANDS | {RunwayCommands}
    NOTIFICATION_TIMEOUT = 4

    def __init__(self, app_config: AppConfig, tui_config: TuiConfig | None = None, *, read_only: bool,
                 clock: Clock | None = None, address: str | None = None, theme: str | None = None,
                 poll_interval: float | None = None,
                 engine_factory: Callable[[], MigrationApp] | None = None, access: Access | None = None) -> None:
        super().__init__()
        self.app_config = app_config
        self.tui_config = tui_config or TuiConfig()
        self.read_only = read_only
        self.production = app_config.production
        self.clock: Clock = clock or utcnow
        self.address_override = address
        self.poll_interval = poll_interval if poll_interval is not None else self.tui_config.poll_interval_s
        self.access = access or Access(read_only, "read-only" if read_only else "writes allowed")
        self.engine_factory = engine_factory or (
            lambda: MigrationApp(app_config, access=self.access, clock=self.clock))
        self.engine: MigrationApp | None = None
        self.connection = "connecting"
        self.busy: str | None = None
        self.snapshot: Snapshot | None = None
        self.header_state = HeaderState(app_config.name, app_config.database,
                                        address or ("embedded" if app_config.is_embedded else app_config.masked_uri),
                                        read_only, app_config.production)
        self.events = EventBuffer(lambda: self.post_message(EngineActivity()),
                                  lambda: self.clock().strftime("%H:%M:%S"))
        self.audit_filter = ""
        # keyset paging: the `before` anchor of every page from the newest to the one shown (None: newest)
        self.audit_anchors: list[MigrationAuditlogEntry | None] = [None]
        self.audit: AuditPage | None = None
        self.overview: list[dict[str, Any]] | None = None
        self.overview_complete = False
        self._overview_again = False
        self._overview_light = True  # every request since the last load came after a step (see request_overview)
        self._overview_timer: Timer | None = None
        self._overview_at = 0.0  # time.monotonic() of the last complete overview
        self._polls = 0
        self._quit_when_done = False
        self._requested_theme = theme or self.tui_config.theme
        self.cursor_blink = True  # tests switch it off: a blinking cursor makes screenshots differ

    # ------------------------------------------------------------------ setup
    def get_default_screen(self) -> Screen[Any]:
        return MainScreen()

    @property
    def main(self) -> MainScreen:
        return self.get_default_screen_instance()

    def get_default_screen_instance(self) -> MainScreen:
        return self.screen_stack[0]  # type: ignore[return-value]

    def on_mount(self) -> None:
        if self._requested_theme in self.available_themes:
            self.theme = self._requested_theme
        else:
            self.notify(f"unknown theme {self._requested_theme!r}; using {self.theme}", severity="warning",
                        markup=False)
        if self.tui_config.keymap:
            self.set_keymap(self.tui_config.keymap)

    def start(self) -> None:
        """Called by the main screen once its panes exist: first paint first, then connect in a worker."""
        self._update_header()
        mode = "read-only" if self.read_only else "writes allowed"
        self.events.add("info", f"opening {self.app_config.name} ({self.header_state.address}, "
                                f"database {self.app_config.database}, {mode})")
        self.connect_engine()
        self.set_interval(self.poll_interval, self._poll, name="poll")

    def shutdown_engine(self) -> None:
        """Release the lock and stop the embedded daemon; called after the app has exited."""
        if self.engine is not None:
            self.engine.close()

    # ------------------------------------------------------------------ state helpers
    def _update_header(self) -> None:
        state = self.header_state
        state.connection = self.connection
        state.busy = self.busy
        if self.snapshot is not None:
            state.status = self.snapshot.status
            state.lock = self.snapshot.lock
            state.lock_is_ours = self.engine is not None and self.engine.holds(state.lock)
        self.main.query_one(HeaderBar).show(state)

    def _set_busy(self, label: str | None) -> None:
        self.busy = label
        self._update_header()
        self.main.refresh_bindings()

    def _set_connection(self, connection: str) -> None:
        self.connection = connection
        self._update_header()
        self.main.refresh_bindings()

    def reload(self, reason: str, full: bool = True) -> None:
        """State (header, migrations), the audit page shown and, if `full`, the database overview: each in
        its own worker, so the cheap state shows without waiting for the slower reads."""
        if self.engine is None:
            return
        self.load_state(reason)
        self.reload_audit(reason, incremental=False)
        if full:
            self.request_overview()

    def reload_audit(self, reason: str, incremental: bool = True) -> None:
        """Reload the page shown. On the newest page, unfiltered, only the entries written since are read;
        an older page is keyed by its anchor, so new entries do not shift it: it is read again as it is."""
        if self.engine is None:
            return
        page, before = self.audit, self.audit_anchors[-1]
        shown = page if (incremental and page is not None and before is None and page.before is None
                         and not page.filter_text and not self.audit_filter and page.entries) else None
        self.load_audit(reason, before, self.audit_filter, len(self.audit_anchors) - 1, shown)

    def overview_on_focus(self) -> None:
        """Pane 2 got the focus: reload it unless it was just read (focus also returns after every dialog)."""
        if self.engine is not None and time.monotonic() - self._overview_at > OVERVIEW_FRESH_S:
            self.request_overview()

    def request_overview(self, delay: float = 0.0, after_step: bool = False) -> None:
        """Reload the database overview in the background; a request while one runs is coalesced into one
        more run after it. With `delay`, wait until requests stop coming for that long (steps in a row).

        `after_step`: a step changes the collections it migrates, and adds one entry to the audit log,
        whose statistics cost a scan of 100k entries on some servers: its row keeps the last figures
        (a full reload on `r`, on connect and when pane 2 takes the focus)."""
        if self.engine is None:
            return
        self._overview_light = self._overview_light and after_step
        if self._overview_timer is not None:
            self._overview_timer.stop()
            self._overview_timer = None
        if delay > 0:
            self._overview_timer = self.set_timer(delay, lambda: self.request_overview(after_step=after_step),
                                                  name="overview-settle")
            return
        if self._worker_running("overview"):
            self._overview_again = True
            return
        light, self._overview_light, self._overview_again = self._overview_light, True, False
        self.main.query_one(DatabasePane).show_loading()
        self.load_overview(self.overview if light else None)

    def _poll(self) -> None:
        """Show other operators' changes; while disconnected, this is the retry."""
        if self.busy:
            return
        if self.engine is None:
            if self.connection == "disconnected" and not self._worker_running("connect"):
                self._set_connection("connecting")
                self.connect_engine()
            return
        if self._worker_running("load-state"):
            return
        self._polls += 1
        self.load_state("poll")  # the audit page follows when the state changed (or every AUDIT_EVERY polls)

    def _worker_running(self, name: str) -> bool:
        return any(w.name == name and w.is_running for w in self.workers)

    def log_line(self, level: str, text: str) -> None:
        self.events.add(level, text)

    # ------------------------------------------------------------------ messages from workers
    @on(EngineConnected)
    def _connected(self, message: EngineConnected) -> None:
        self.header_state.server = message.server
        if self.address_override is None:
            self.header_state.address = message.address
        self.main.query_one(DatabasePane).show_server(message.server, self.header_state.address,
                                                      self.app_config.database)
        tx = "with transactions" if message.server.supports_transactions else "without transactions"
        self.log_line("info", f"connected: MongoDB {message.server.version}, {message.server.topology}, {tx}")
        self._set_connection("connected")
        self.reload("connect", full=False)  # the overview starts once the state is shown (it is the slow one)

    @on(ConnectionFailed)
    def _connection_failed(self, message: ConnectionFailed) -> None:
        was = self.connection
        self._set_connection("disconnected")
        self.main.query_one(DatabasePane).show_disconnected(message.error)
        if was != "disconnected":
            self.log_line("error", message.error)
            self.log_line("warning", f"disconnected; retrying every {self.poll_interval:g} s (r retries now)")
            self.push_screen(ErrorScreen("Connection lost" if not message.initial else "Cannot connect",
                                         message.error, ["The app stays usable; it retries by itself.",
                                                         "Press r to retry now."]))

    @on(StateLoaded)
    def _state_loaded(self, message: StateLoaded) -> None:
        self._apply_snapshot(message.snapshot, message.reason)

    def _apply_snapshot(self, snapshot: Snapshot, reason: str) -> None:
        previous = self.snapshot
        if previous is not None and snapshot.read_at < previous.read_at:
            return  # an older read finished after a newer one: keep the newer
        if self.connection != "connected":
            self.log_line("success", "connection restored")
            self.notify("Connection restored", timeout=3)
            self._set_connection("connected")
        if (reason == "poll" and previous is not None and not self.busy
                and previous.status.current_version != snapshot.status.current_version):
            self.log_line("warning", f"version changed elsewhere: {version_text(previous.status.current_version)}"
                                     f" -> {version_text(snapshot.status.current_version)}")
        self.snapshot = snapshot
        self.main.query_one(MigrationsTable).show(snapshot.status)
        self._update_header()
        if previous is None and self.overview is None:
            self.request_overview()
        if reason == "poll" and previous is not None:
            changed = (previous.status.rows != snapshot.status.rows or previous.lock != snapshot.lock)
            if changed or self._polls % AUDIT_EVERY == 0:
                self.reload_audit("poll")  # keyset pages do not shift: this only matters for the newest
            if changed:
                self.request_overview(OVERVIEW_SETTLE_S, after_step=True)

    @on(AuditLoaded)
    def _audit_loaded(self, message: AuditLoaded) -> None:
        page = message.page
        if page.before is not self.audit_anchors[-1] or page.filter_text != self.audit_filter:
            return  # the user paged or filtered since: another read is on its way
        if self.audit is not None and self.audit.before is page.before and self.audit.filter_text == \
                page.filter_text and page.read_at < self.audit.read_at:
            return
        self.audit = page
        self.main.query_one(AuditPane).show(page)

    @on(OverviewLoaded)
    def _overview_loaded(self, message: OverviewLoaded) -> None:
        if message.failed:
            self.main.query_one(DatabasePane).show_overview(self.overview or [], complete=True)
            return
        self.overview, self.overview_complete = message.rows, message.complete
        if message.complete:
            self._overview_at = time.monotonic()
        self.main.query_one(DatabasePane).show_overview(message.rows, complete=message.complete)
        if message.complete and self._overview_again:
            self.call_later(lambda: self.request_overview(after_step=self._overview_light))

    @on(LockLoaded)
    def _lock_loaded(self, message: LockLoaded) -> None:
        if self.snapshot is not None and message.read_at >= self.snapshot.read_at:
            self.snapshot.lock = message.lock
            self._update_header()

    @on(EngineActivity)
    def _engine_activity(self) -> None:
        drained = self.events.drain()
        log = self.main.query_one(LiveLog)
        if drained.dropped:
            log.add([drained.entries[0].__class__("warning", drained.entries[0].time,
                                                  f"{drained.dropped} log lines dropped (burst)")])
        log.add(drained.entries)
        if drained.progress is not None:
            log.show_progress(drained.progress)
        elif drained.step_ended:
            log.show_progress(None)
        if drained.progress is not None and self.busy:
            self._set_busy(f"running {drained.progress.label}")
        if drained.state_changed and not self.busy:
            self.load_state("changed")
            self.reload_audit("changed")
            self.request_overview(OVERVIEW_SETTLE_S, after_step=True)
        elif drained.lock_changed and self.busy and self.engine is not None:
            self.load_lock()  # show our own lock in the header while the step runs (polls pause while busy)

    @on(PlanReady)
    def _plan_ready(self, message: PlanReady) -> None:
        plan, request = message.plan, message.request
        if request.get("preview"):
            self._show_plan(plan)
            return
        if plan.blockers:
            self._set_busy(None)
            self.log_line("error", f"refusing to run {plan.direction.value}: " + "; ".join(plan.blockers))
            self.push_screen(ErrorScreen(f"Refusing to run {plan.direction.value}", "Fix these first:",
                                         plan.blockers))
            return
        if not plan.steps:
            self._set_busy(None)
            what = "nothing to apply: every migration is applied" if plan.direction is Direction.UP \
                else "nothing to revert: no migration is applied"
            self.notify(what, timeout=3)
            self.log_line("info", what)
            return
        confirm = self._confirm_request(plan)

        def decided(ok: bool | None) -> None:
            if not ok:
                self._set_busy(None)
                self.log_line("info", f"{plan.direction.value} cancelled; nothing was run")
                return
            target = plan.target_version or 0
            direction = plan.direction
            self._set_busy(f"running {direction.value} to {version_text(target)}")

            def run(engine: MigrationApp) -> str:
                # `to` the confirmed target: if someone else moved meanwhile, nothing unconfirmed runs
                result = engine.upgrade(to=target) if direction is Direction.UP else engine.downgrade(to=target)
                return self._summarise_run(result)

            self.run_operation(direction.value, run)

        self.push_screen(ConfirmScreen(confirm), decided)

    def _confirm_request(self, plan: Plan) -> ConfirmRequest:
        up = plan.direction is Direction.UP
        count = len(plan.steps)
        noun = "migration" if count == 1 else "migrations"
        name = self.app_config.name + (" (PRODUCTION)" if self.production else "")
        facts = [("Application", name), ("Server", self.header_state.address),
                 ("Database", self.app_config.database),
                 ("From version", version_text(plan.current_version) if plan.current_version else "none applied"),
                 ("To version", version_text(plan.target_version or (None if up else 0)))]
        in_tx = [plan.uses_transactions and s.transactional for s in plan.steps]
        steps: list[str] = []
        if count == 1:
            step = plan.steps[0]
            facts += [("Migration", f"{version_text(step.version)} {short_name(step.name, step.version)}"),
                      ("Description", summary(step.description) or "(none)")]
        else:
            steps = [f"{s.direction.value} {version_text(s.version)} {short_name(s.name, s.version)}: "
                     f"{summary(s.description)} "
                     f"[{'transaction' if tx else 'NO transaction'}]" for s, tx in zip(plan.steps, in_tx, strict=True)]
        if all(in_tx):
            facts.append(("Transaction", "yes: the step and its record commit or roll back together"))
        elif not plan.uses_transactions:
            facts.append(("Transaction", "NO: this server has no transactions; a failure may leave partial work"))
        elif count == 1:
            facts.append(("Transaction", "NO: this migration opts out (transactional = False); a failure may "
                                         "leave partial work"))
        else:
            facts.append(("Transaction", "NOT for every step (see below); a failure may leave partial work"))
        title = (f"Apply {count} {noun} to {self.app_config.database}?" if up
                 else f"Revert {count} {noun} on {self.app_config.database}?")
        return ConfirmRequest(title, facts, steps, list(plan.warnings), "Apply" if up else "Revert",
                              typed=self.app_config.database if self.production else None)

    @staticmethod
    def _summarise_run(result: RunResult) -> str:
        done = result.completed
        if not done:
            return "nothing to do"
        verb = "applied" if result.plan.direction is Direction.UP else "reverted"
        names = ", ".join(r.step.name for r in done)
        return f"{verb} {names}; now at version {version_text(result.current_version)}"

    def _show_plan(self, plan: Plan) -> None:
        lines = [f"{s.direction.value} {version_text(s.version)} {short_name(s.name, s.version)}: "
                 f"{summary(s.description)}" for s in plan.steps]
        lines += [f"warning: {w}" for w in plan.warnings] + [f"blocked: {b}" for b in plan.blockers]
        head = (f"'up all' would run {len(plan.steps)} step(s): {version_text(plan.current_version)} -> "
                f"{version_text(plan.target_version)}" if plan.steps else "'up all' has nothing to run")
        self.push_screen(ErrorScreen("Plan (nothing was run)", head, lines, kind="info"))

    @on(OperationFinished)
    def _operation_finished(self, message: OperationFinished) -> None:
        if message.snapshot is not None:  # the new version first: before the dialog, the log and the reloads
            self._apply_snapshot(message.snapshot, message.operation)
        if message.operation != "plan":
            self._set_busy(None)
        if message.error:
            self.log_line("error", f"{message.operation}: {message.error}")
            if "cannot reach" in message.error:
                self._set_connection("disconnected")
            self.push_screen(ErrorScreen(f"{message.operation.capitalize()} failed", message.error,
                                         message.details))
        else:
            self.log_line("success", message.summary)
            self.notify(message.summary, timeout=4, markup=False)
        self.main.query_one(LiveLog).show_progress(None)
        if self._quit_when_done:
            self.exit(0)
            return
        if message.snapshot is None:
            self.load_state(message.operation)
        self.reload_audit(message.operation, incremental=message.operation != "refresh")
        if message.operation in ("up", "down"):
            self.request_overview(OVERVIEW_SETTLE_S, after_step=True)
        else:
            self.request_overview()
        if message.operation == "new" and not message.error:
            self._select_newest()

    def _select_newest(self) -> None:
        versions = [r.version for r in self.snapshot.status.rows if r.version is not None] if self.snapshot else []

        def later() -> None:
            if self.snapshot and versions:
                self.main.query_one(MigrationsTable).select_version(max(
                    r.version for r in self.snapshot.status.rows if r.version is not None))

        self.set_timer(0.3, later)

    # ------------------------------------------------------------------ user requests (UI thread)
    def _can_write(self) -> bool:
        """The same rule as MainScreen.check_action, for palette and remapped keys."""
        if self.read_only:
            self.notify("read-only: this would write to the database", severity="warning", timeout=3)
            return False
        if self.busy:
            self.notify(f"busy: {self.busy}", severity="warning", timeout=2, markup=False)
            return False
        if self.engine is None or self.connection != "connected":
            self.notify("not connected", severity="warning", timeout=2)
            return False
        return True

    def request_step(self, direction: str) -> None:
        if not self._can_write():
            return
        self._set_busy(f"planning {direction}")
        # planned on the status shown (read after the last step or poll): no second read of every file and
        # record before the dialog; the engine plans again under its lock and runs only to the confirmed target
        report = self.snapshot.status if self.snapshot is not None else None
        self.compute_plan({"direction": direction, "steps": 1, "report": report})

    def request_step_to(self, direction: str) -> None:
        if not self._can_write():
            return
        row = self.main.query_one(MigrationsTable).selected_row
        default = str(row.version) if row and row.version is not None else ""

        def validate(text: str) -> str | None:
            return None if text.isdigit() else "a version number (0 or more)"

        def chosen(value: str | None) -> None:
            if value is None or not self._can_write():
                return
            self._set_busy(f"planning {direction} to {value}")
            self.compute_plan({"direction": direction, "to": int(value)})

        hint = ("Apply pending migrations up to and including this version." if direction == "up"
                else "Revert applied migrations above this version (0 reverts everything).")
        self.push_screen(PromptScreen(f"{direction.capitalize()} to version", hint, value=default,
                                      validate=validate), chosen)

    def request_plan(self) -> None:
        if self.engine is None:
            self.notify("not connected", severity="warning", timeout=2)
            return
        self.compute_plan({"direction": "up", "all_": True, "preview": True})

    def request_refresh(self) -> None:
        if self.busy:
            return
        if self.engine is None:
            if not self._worker_running("connect"):
                self._set_connection("connecting")
                self.connect_engine()
            return
        if self.read_only or self.connection != "connected":
            self.log_line("info", "reloading (read-only: files are compared, nothing is written)"
                          if self.read_only else "retrying the connection")
            self.reload("refresh")
            return
        self._set_busy("refreshing")
        self.run_operation("refresh", lambda engine: self._summarise_refresh(engine.refresh()))

    @staticmethod
    def _summarise_refresh(report: RefreshReport) -> str:
        parts = []
        for label, items in (("new", report.new), ("updated", report.updated), ("removed", report.removed),
                             ("drift", report.drift), ("orphan", report.orphans),
                             ("out of order", report.out_of_order), ("broken", report.broken)):
            if items:
                parts.append(f"{len(items)} {label}")
        return "refreshed: " + (", ".join(parts) if parts else "no changes")

    def request_new_migration(self) -> None:
        if not self._can_write():
            return

        def validate(text: str) -> str | None:
            return None if any(c.isalnum() for c in text) else "a name with letters or digits, e.g. add_email_index"

        def chosen(name: str | None) -> None:
            if name is None or not self._can_write():
                return
            self._set_busy("creating a migration file")

            def create(engine: MigrationApp) -> str:
                return f"created {self._shown_path(engine.create_migration_file_template(name))} (e edits it)"

            self.run_operation("new", create)

        self.push_screen(PromptScreen("New migration", "What does it do? This becomes the file name and the "
                                      "description.", placeholder="add_user_email_index", validate=validate), chosen)

    def _shown_path(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.app_config.config_path.parent))
        except ValueError:
            return str(path)

    @staticmethod
    def editor_command(path: Path) -> list[str]:
        """$VISUAL or $EDITOR (with its arguments) followed by the file; vi when neither is set."""
        return shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi") + [str(path)]

    def edit_selected(self) -> None:
        row = self.main.query_one(MigrationsTable).selected_row
        if row is None or row.script is None:
            self.notify("select a migration that has a file", severity="warning", timeout=3)
            return
        command = self.editor_command(row.script.path)
        try:
            with self.suspend():
                subprocess.run(command, check=False)
        except SuspendNotSupported:  # headless or web: no terminal to hand over
            self.notify(f"cannot hand the terminal to an editor here; run: {shlex.join(command)}",
                        severity="warning", timeout=6, markup=False)
            return
        except OSError as exc:  # no such editor
            self.notify(f"cannot open the editor: {exc}", severity="error", markup=False)
            return
        self.log_line("info", f"edited {self._shown_path(row.script.path)}")
        self.reload("edit")

    def _selected_version(self) -> int | None:
        row = self.main.query_one(MigrationsTable).selected_row
        if row is None or row.version is None:
            self.notify("select a migration first (pane 1)", severity="warning", timeout=3)
            return None
        return row.version

    def _confirm_then(self, request: ConfirmRequest, label: str, operation: str,
                      call: Callable[[MigrationApp], str]) -> None:
        def decided(ok: bool | None) -> None:
            if ok and self._can_write():
                self._set_busy(label)
                self.run_operation(operation, call)
            elif not ok:
                self.log_line("info", f"{operation} cancelled; nothing was written")

        self.push_screen(ConfirmScreen(request), decided)

    def _facts(self) -> list[tuple[str, str]]:
        name = self.app_config.name + (" (PRODUCTION)" if self.production else "")
        return [("Application", name), ("Server", self.header_state.address), ("Database", self.app_config.database)]

    def request_mark(self, applied: bool) -> None:
        if not self._can_write():
            return
        version = self._selected_version()
        if version is None:
            return
        state = "applied" if applied else "pending"
        request = ConfirmRequest(f"Mark {version_text(version)} as {state}?",
                                 [*self._facts(), ("Migration", version_text(version)), ("New state", state)],
                                 warnings=["Nothing runs: only the record changes (audited)."],
                                 confirm_label="Mark", typed=self.app_config.database if self.production else None)
        self._confirm_then(request, f"marking {version_text(version)}", "mark",
                           lambda engine: f"marked {engine.mark(version, applied=applied).name} as {state}")

    def request_accept(self) -> None:
        if not self._can_write():
            return
        version = self._selected_version()
        if version is None:
            return
        row = self.main.query_one(MigrationsTable).selected_row
        if row is not None and Problem.DRIFT not in row.problems:  # the engine refuses it too
            self.notify(f"{version_text(version)} has no drift: its file matches the stored checksum",
                        severity="warning", timeout=3)
            return
        request = ConfirmRequest(f"Accept the edited file of {version_text(version)}?",
                                 [*self._facts(), ("Migration", version_text(version))],
                                 warnings=["The stored checksum becomes the file's; the edit is NOT run."],
                                 confirm_label="Accept", typed=self.app_config.database if self.production else None)
        self._confirm_then(request, f"accepting {version_text(version)}", "accept",
                           lambda engine: f"accepted the edited file of {engine.accept(version).name}")

    def request_unlock(self) -> None:
        if not self._can_write():
            return
        lock = self.snapshot.lock if self.snapshot else None
        if lock is None:
            self.notify("there is no migration lock to remove", timeout=3)
            return
        holder = f"{lock.user}@{lock.host} ({lock.operation}{', expired' if lock.expired else ''})" if lock else "none"
        request = ConfirmRequest("Remove the migration lock?", [*self._facts(), ("Held by", holder)],
                                 warnings=["Only an expired lease is removed; a live runner keeps its lock."],
                                 confirm_label="Unlock", typed=self.app_config.database if self.production else None)

        def unlock(engine: MigrationApp) -> str:
            removed = engine.unlock()
            return f"removed the lock held by {removed.holder}" if removed else "there was no lock"

        self._confirm_then(request, "unlocking", "unlock", unlock)

    def set_audit_filter(self, text: str) -> None:
        self.audit_filter, self.audit_anchors = text, [None]  # a filter starts at the newest page
        self.main.query_one(AuditPane).show_loading()
        self.reload_audit("audit-filter")

    def audit_page(self, delta: int) -> None:
        """`]` older, `[` newer: by key (the last entry shown is the next page's anchor), never by skipping."""
        page = self.audit
        if page is None or page.before is not self.audit_anchors[-1] or page.filter_text != self.audit_filter:
            return  # the page asked for is on its way: one press, one page
        if delta > 0 and page.has_more and page.entries:
            self.audit_anchors.append(page.entries[-1])
        elif delta < 0 and len(self.audit_anchors) > 1:
            self.audit_anchors.pop()
        else:
            self.notify("no more audit entries that way", timeout=2)
            return
        self.main.query_one(AuditPane).show_loading()
        self.reload_audit("audit-page")

    def show_keys(self) -> None:
        self.push_screen(KeysScreen(self.key_rows(), "Every action is also in the command palette (ctrl+p). "
                                    "Remap keys with tui.keymap in the config (binding id -> keys)."))

    def key_rows(self) -> list[KeyRow]:
        """From the live bindings: remapped keys, and actions hidden in read-only mode, show as they are."""
        main = self.main
        live = {ab.binding.id: ab for ab in main.active_bindings.values() if ab.binding.id}
        rows = []
        for spec in ACTIONS:
            active = live.get(spec.id)
            if active is None:
                continue
            rows.append(KeyRow(spec.group, self.get_key_display(active.binding), spec.description, spec.help,
                               active.enabled))
        rows += [KeyRow("Navigate", "tab / shift+tab", "Next pane", "Move focus between panes", True),
                 KeyRow("Navigate", "j k ↑ ↓ g G", "Move", "Move in lists and logs", True),
                 KeyRow("Navigate", "enter", "Details", "Open the selected migration, collection or entry", True),
                 KeyRow("Navigate", "esc", "Back", "Close a dialog or detail screen; clear a filter", True),
                 KeyRow("App", "ctrl+p", "Palette", "Search every action", True)]
        order = ["Migrate", "Files", "Repair", "Navigate", "Live log", "App"]
        return sorted(rows, key=lambda r: order.index(r.group) if r.group in order else 99)

    def request_quit(self) -> None:
        if not self.busy or not self.busy.startswith("running"):
            self.exit(0)
            return
        request = ConfirmRequest("A step is running", [*self._facts(), ("Running", self.busy)],
                                 warnings=["Quitting now would interrupt it. Quit as soon as it ends "
                                           "(the lock is released first)?"], confirm_label="Quit after it")

        def decided(ok: bool | None) -> None:
            if not ok:
                return
            if not self.busy:  # the step ended while the question was open
                self.exit(0)
                return
            self._quit_when_done = True
            self.log_line("warning", "will quit when the running step ends")

        self.push_screen(ConfirmScreen(request), decided)
