"""`RunwayApp`: the Textual application. Engine work happens in workers (see `workers.py`); this class turns
their messages into pane updates, dialogs and log lines, and owns the safety rules (read-only, busy, confirm).
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import on
from textual.app import App, SuspendNotSupported
from textual.screen import Screen

from runway_tui.engine.app import MigrationApp
from runway_tui.engine.config import AppConfig, TuiConfig
from runway_tui.engine.models import Direction, Plan, Problem, RefreshReport, RunResult
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
    ConnectionFailed,
    EngineActivity,
    EngineConnected,
    OperationFinished,
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
OVERVIEW_EVERY = 5  # polls between two reloads of the (slower) collection overview


class RunwayApp(EngineWorkers, App[int]):
    """One application of the config, shown in four panes."""

    CSS_PATH = "app.tcss"
    TITLE = "runway-tui"
    COMMANDS = App.COMMANDS | {RunwayCommands}
    NOTIFICATION_TIMEOUT = 4

    def __init__(self, app_config: AppConfig, tui_config: TuiConfig | None = None, *, read_only: bool,
                 clock: Clock | None = None, address: str | None = None, theme: str | None = None,
                 poll_interval: float | None = None,
                 engine_factory: Callable[[], MigrationApp] | None = None) -> None:
        super().__init__()
        self.app_config = app_config
        self.tui_config = tui_config or TuiConfig()
        self.read_only = read_only
        self.production = app_config.production
        self.clock: Clock = clock or utcnow
        self.address_override = address
        self.poll_interval = poll_interval if poll_interval is not None else self.tui_config.poll_interval_s
        self.engine_factory = engine_factory or (
            lambda: MigrationApp(app_config, read_only=read_only, clock=self.clock))
        self.engine: MigrationApp | None = None
        self.connection = "connecting"
        self.busy: str | None = None
        self.snapshot: Snapshot | None = None
        self.header_state = HeaderState(app_config.name, app_config.database,
                                        address or ("embedded" if app_config.is_embedded else app_config.masked_uri),
                                        read_only, app_config.production)
        self.events = EventBuffer(lambda: self.post_message(EngineActivity()),
                                  lambda: self.clock().strftime("%H:%M:%S"))
        self.audit_skip = 0
        self.audit_filter = ""
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
            state.lock_is_ours = bool(state.lock and self.engine is not None
                                      and state.lock.owner == self.engine.lock.owner)
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
        if self.engine is None:
            return
        self.load_state(reason, full, self.audit_skip, self.audit_filter, True, self.snapshot)

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
        with_audit = not self.audit_filter  # a filtered count is a scan: only on demand
        self.load_state("poll", self._polls % OVERVIEW_EVERY == 0, self.audit_skip, self.audit_filter,
                        with_audit, self.snapshot)

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
        self.reload("connect")

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
        snapshot, previous = message.snapshot, self.snapshot
        if self.connection != "connected":
            self.log_line("success", "connection restored")
            self.notify("Connection restored", timeout=3)
            self._set_connection("connected")
        if (message.reason == "poll" and previous is not None and not self.busy
                and previous.status.current_version != snapshot.status.current_version):
            self.log_line("warning", f"version changed elsewhere: {version_text(previous.status.current_version)}"
                                     f" -> {version_text(snapshot.status.current_version)}")
        if snapshot.overview is None and previous is not None:
            snapshot.overview = previous.overview
        self.snapshot = snapshot
        main = self.main
        main.query_one(MigrationsTable).show(snapshot.status)
        if snapshot.overview is not None:
            main.query_one("#collections").show(snapshot.overview)  # type: ignore[attr-defined]
        main.query_one(AuditPane).show(snapshot.audit, snapshot.audit_total, snapshot.audit_skip,
                                       snapshot.audit_filter)
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
            self.reload("changed")
        elif drained.lock_changed and self.busy and self.engine is not None:
            # show our own lock in the header while the step runs (polls pause while busy)
            self.load_state("lock", False, self.audit_skip, self.audit_filter, False, self.snapshot)

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
        self.reload(message.operation)
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
        self.compute_plan({"direction": direction, "steps": 1})

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
        self.audit_filter, self.audit_skip = text, 0
        self.reload("audit-filter", full=False)

    def audit_page(self, delta: int) -> None:
        skip = self.main.query_one(AuditPane).page(delta)
        if skip is None:
            self.notify("no more audit entries that way", timeout=2)
            return
        self.audit_skip = skip
        self.reload("audit-page", full=False)

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
