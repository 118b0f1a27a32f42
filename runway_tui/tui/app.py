"""`RunwayApp`: the Textual application. Engine work happens in workers (see `workers.py`); this class turns
their messages into pane updates, dialogs and log lines, and owns the safety rules (read-only, busy, confirm).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from runway_tui.engine.app import MigrationApp
from runway_tui.engine.config import AppConfig, Config, TuiConfig
from runway_tui.engine.policy import Access, access_implied
from runway_tui.engine.runner import utcnow
from runway_tui.tui.audit_pager import AuditPaging
from runway_tui.tui.bridge import EventBuffer
from runway_tui.tui.commands import RunwayCommands
from runway_tui.tui.components.audit_pane import AuditPane
from runway_tui.tui.components.database_pane import DatabasePane
from runway_tui.tui.components.header_bar import HeaderBar, HeaderState
from runway_tui.tui.components.live_log import LiveLog
from runway_tui.tui.components.migrations_table import MigrationsTable
from runway_tui.tui.flows import RequestFlows
from runway_tui.tui.format import version_text
from runway_tui.tui.keys_panel import KeysPanel
from runway_tui.tui.live import LiveWatching
from runway_tui.tui.messages import (
    AuditLoaded,
    ConnectionFailed,
    EngineActivity,
    EngineConnected,
    FilesLoaded,
    LockLoaded,
    OperationFinished,
    OverviewLoaded,
    PlanReady,
    Snapshot,
    StateLoaded,
)
from runway_tui.tui.overview_loader import OVERVIEW_SETTLE_S, OverviewLoading
from runway_tui.tui.screens.detail import MigrationDetailScreen
from runway_tui.tui.screens.error import ErrorScreen
from runway_tui.tui.screens.main import MainScreen
from runway_tui.tui.state import Connection, Outcome, UiState
from runway_tui.tui.switcher import AppSwitching
from runway_tui.tui.system_commands import system_commands
from runway_tui.tui.words import app_words
from runway_tui.tui.workers import EngineWorkers

Clock = Callable[[], dt.datetime]
AUDIT_EVERY = 5  # polls between two reloads of the newest audit page when nothing else changed


class RunwayApp(EngineWorkers, RequestFlows, AuditPaging, OverviewLoading, LiveWatching, KeysPanel, AppSwitching,
                App[int]):
    """One application of the config, shown in four panes."""

    CSS_PATH = "app.tcss"
    TITLE = "runway-tui"
    COMMANDS = App.COMMANDS | {RunwayCommands}
    BINDINGS = [Binding("question_mark", "show_keys", "Keys", show=False)]  # `?` on every screen
    NOTIFICATION_TIMEOUT = 4

    def __init__(self, app_config: AppConfig, tui_config: TuiConfig | None = None, *, read_only: bool,
                 clock: Clock | None = None, address: str | None = None, theme: str | None = None,
                 poll_interval: float | None = None,
                 engine_factory: Callable[[], MigrationApp] | None = None, access: Access | None = None,
                 handle_signals: bool = False, project_config: Config | None = None,
                 launch_flags: tuple[bool, bool] = (False, False)) -> None:
        super().__init__()
        self.app_config = app_config
        self.tui_config = tui_config or TuiConfig()
        self.state = UiState(read_only)
        self.production = app_config.production
        self.clock: Clock = clock or utcnow
        self.address_override = address
        self.poll_interval = poll_interval if poll_interval is not None else self.tui_config.poll_interval_s
        self.access = access or access_implied(app_config, read_only)
        self.engine_factory = engine_factory or (  # clock None: the server's clock
            lambda: MigrationApp(self.app_config, access=self.access, clock=clock, front_end="tui"))
        self.project_config = project_config  # every application, for the switcher (`a`)
        self.launch_flags = launch_flags  # (--read-only, --write): a switched-to application gets the same
        self.engine: MigrationApp | None = None
        self.snapshot: Snapshot | None = None
        self.header_state = HeaderState(app_config.name, app_config.database,
                                        address or ("embedded" if app_config.is_embedded else app_config.masked_uri),
                                        read_only, app_config.production)
        self.events = EventBuffer(lambda: self.post_message(EngineActivity()),
                                  lambda: self.clock().strftime("%H:%M:%S"), lambda text: app_words(self, text))
        self.init_audit()
        self.init_overview()
        self.init_live()
        self._polls = 0
        self._files_shown = False  # pane 1 shows the files from disk (no server yet)
        self._handle_signals = handle_signals  # the real process: SIGTERM/SIGHUP leave like `q` (tests: off)
        self.operation_idle = threading.Event()  # cleared while a write runs in a worker: exit waits for it
        self.operation_idle.set()
        self._running_label = ""
        self._requested_theme = theme or self.tui_config.theme
        self.cursor_blink = True  # tests switch it off: a blinking cursor makes screenshots differ

    # ------------------------------------------------------------------ setup
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        return system_commands(self, screen)

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
        # Everything loaded so far (Textual, the driver, the widgets) lives as long as the app: out of the cyclic
        # collector's reach after the first paint, a full collection no longer walks it (it paused the event
        # loop for about 70 ms at a time; bench/explorer_bench.py)
        self.call_after_refresh(gc.freeze)
        if self._handle_signals:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGHUP):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(signum, self._signalled, signum)

    def _signalled(self, signum: int) -> None:
        """`kill` or a closed terminal: leave through the normal exit, so what we started is stopped."""
        self.exit(128 + signum)

    def start(self) -> None:
        """Called by the main screen once its panes exist: first paint first, then connect in a worker."""
        self._update_header()
        mode = "read-only" if self.read_only else "writes allowed"
        self.events.add("info", f"opening {self.app_config.name} ({self.header_state.address}, "
                                f"database {self.app_config.database}, {mode})")
        self.connect_engine()
        self.set_interval(self.poll_interval, self._poll, name="poll")

    def shutdown_engine(self, say: Callable[[str], object] | None = None) -> None:
        """Release the lock and stop the embedded daemon; called after the app has exited. A step still
        running (ctrl+q, a signal) is waited for, and `say` tells the user what we wait for."""
        if not self.operation_idle.is_set():
            (say or self._say)(f"runway-tui: waiting for the running operation to end ({self._running_label}); "
                               "then the lock is released and the embedded database stopped")
            self.operation_idle.wait()
        self.stop_watch(wait=True)  # the watching thread leaves before its engine closes
        if self.engine is not None:
            self.engine.close()

    def cancel_lock_wait(self) -> None:
        """esc while an operation waits for another runner's lock."""
        if self.engine is not None and self.state.lock_wait:
            self.engine.cancel_lock_wait()
            self.log_line("info", "cancelling the wait for the migration lock…")

    @staticmethod
    def _say(text: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # the terminal may be gone (SIGHUP)
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    # ------------------------------------------------------------------ state
    @property
    def read_only(self) -> bool:
        return self.state.read_only

    @property
    def busy(self) -> str | None:
        """What runs now, as the header says it (None: idle)."""
        return self.state.busy.label if self.state.busy else None

    @property
    def connection(self) -> Connection:
        return self.state.connection

    def set_state(self, state: UiState) -> None:
        """The one way the UI state changes: the header and the keys follow it."""
        if state == self.state:
            return
        self.state = state
        self._update_header()
        self.main.refresh_bindings()

    def _update_header(self) -> None:
        state = self.header_state
        state.connection = self.connection.value
        state.busy = self.busy
        state.refresh = self.refresh_mode
        if self.snapshot is not None:
            state.status = self.snapshot.status
            state.lock = self.snapshot.lock
            state.lock_is_ours = self.engine is not None and self.engine.holds(state.lock)
        self.main.query_one(HeaderBar).show(state)

    def reload(self, reason: str, full: bool = True) -> None:
        """State (header, migrations), the audit page shown and, if `full`, the database overview: each in
        its own worker, so the cheap state shows without waiting for the slower reads."""
        if self.engine is None:
            return
        self.load_state(reason)
        self.reload_audit(reason, incremental=False)
        if full:
            self.request_overview()

    def _poll(self) -> None:
        """Show other operators' changes; while disconnected, this is the retry."""
        if self.state.busy is not None or not self.screen_stack:  # a timer may fire while the app exits
            return
        if self.engine is None or (self.app_config.is_embedded and not self.state.connected):
            if self.connection is Connection.DISCONNECTED:
                self.retry_connection(quiet=True)  # an embedded daemon that died is started again
            return
        if self.live and self.state.connected:
            return  # the change stream shows other operators' changes as they happen
        self.watch_retry()
        if self._worker_running("load-state"):
            return
        self._polls += 1
        self.load_state("poll")  # the audit page follows when the state changed (or every AUDIT_EVERY polls)

    def retry_connection(self, quiet: bool = False) -> None:
        """`r` while disconnected, and the poll's retry. An embedded engine whose daemon died is closed
        first (reaping the dead daemon) and a new one starts a fresh daemon; a remote one reconnects."""
        if self._worker_running("connect"):
            if not quiet:
                self.notify("already connecting…", timeout=2)
            return
        stale = None
        if self.engine is not None and self.app_config.is_embedded and not self.state.connected:
            stale, self.engine = self.engine, None
        if self.engine is not None:  # a remote server: the same client reconnects by itself on the next read
            if not quiet:
                self.log_line("info", "retrying the connection")
            self.set_state(self.state.connecting())
            self.reload("retry")
            return
        if not quiet:
            self.log_line("info", "restarting the embedded database" if stale else "retrying the connection")
        self.set_state(self.state.connecting())
        self.connect_engine(stale)

    def _worker_running(self, name: str) -> bool:
        return any(w.name == name and w.is_running for w in self.workers)

    def log_line(self, level: str, text: str) -> None:
        self.events.add(level, text)

    def notify(self, message: str, **options: Any) -> None:  # type: ignore[override]
        """Every toast names this UI's keys, never a CLI command (see `words`)."""
        super().notify(app_words(self, message), **options)

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
        self.set_state(self.state.reached())
        self.reload("connect", full=False)  # the overview starts once the state is shown (it is the slow one)
        self.start_watch()

    @on(ConnectionFailed)
    def _connection_failed(self, message: ConnectionFailed) -> None:
        self._connection_lost(message.error, initial=message.initial)

    def _connection_lost(self, error: str, initial: bool = False, dialog: bool = True) -> None:
        """Once per outage: a log line and one message (a dialog only when a working session lost it;
        at start a toast, so the files on disk, esc and q stay at hand). Retries say nothing more."""
        told = self.state.told_unreachable
        self.set_state(self.state.lost().told())
        self.main.query_one(DatabasePane).show_disconnected(error)
        if self.snapshot is None and not self._files_shown:
            self.load_files()
        if told:
            return
        self.log_line("error", error)
        self.log_line("warning", f"disconnected; retrying every {self.poll_interval:g} s (r retries now)")
        if not dialog:
            return  # the operation that found out shows its own
        if initial and self.snapshot is None:
            self.notify(f"Cannot connect: {error}. The files on disk are shown; r retries.",
                        severity="error", timeout=10, markup=False)
        else:
            self.push_screen(ErrorScreen("Connection lost", error, ["The app stays usable; it retries by itself.",
                                                                    "Press r to retry now."]))

    @on(FilesLoaded)
    def _files_loaded(self, message: FilesLoaded) -> None:
        if self.snapshot is not None:
            return  # connected meanwhile: the real state is shown
        self._files_shown = True
        self.main.query_one(MigrationsTable).show(message.report, offline=True)

    @on(StateLoaded)
    def _state_loaded(self, message: StateLoaded) -> None:
        if self.screen_stack:  # a poll's read may land while the app is closing: no screen to show it on
            self._apply_snapshot(message.snapshot, message.reason)

    def _apply_snapshot(self, snapshot: Snapshot, reason: str) -> None:
        previous = self.snapshot
        if previous is not None and snapshot.read_at < previous.read_at:
            return  # an older read finished after a newer one: keep the newer
        if not self.state.connected:
            self.log_line("success", "connection restored")
            self.notify("Connection restored", timeout=3)
            self.set_state(self.state.reached())
            self.start_watch()
        elsewhere = reason in ("poll", "watch")  # not this session's own doing
        if (elsewhere and previous is not None and not self.busy
                and previous.status.current_version != snapshot.status.current_version):
            self.log_line("warning", f"version changed elsewhere: {version_text(previous.status.current_version)}"
                                     f" -> {version_text(snapshot.status.current_version)}")
        self.snapshot = snapshot
        table = self.main.query_one(MigrationsTable)
        table.show(snapshot.status)
        versions = [r.version for r in snapshot.status.rows if r.version is not None]
        if reason == "new" and versions:  # the state read after `n`: put the cursor on the file just created
            table.select_version(max(versions))
        for screen in self.screen_stack:  # a migration's detail follows its state (a repair made there, too)
            if isinstance(screen, MigrationDetailScreen):
                screen.follow(snapshot.status.rows)
        self._files_shown = False
        self._update_header()
        if previous is None and self.overview is None:
            self.request_overview()
        self.live_snapshot_applied(snapshot.read_at)
        if elsewhere and previous is not None:
            changed = (previous.status.rows != snapshot.status.rows or previous.lock != snapshot.lock)
            if reason == "poll" and (changed or self._polls % AUDIT_EVERY == 0):
                self.reload_audit("poll")  # keyset pages do not shift: this only matters for the newest
                # (a live reload reads the audit page when the stream saw it change: `LiveReloadDone`)
            if changed:
                self.request_overview(OVERVIEW_SETTLE_S, after_step=True)

    @on(AuditLoaded)
    def _audit_loaded(self, message: AuditLoaded) -> None:
        self.audit_loaded(message.page)

    @on(AuditPane.Exported)
    def _audit_exported(self, message: AuditPane.Exported) -> None:
        if message.error:
            self.log_line("error", f"audit export failed: {message.error}")
            self.notify(f"Nothing exported: {message.error}", severity="error", timeout=8, markup=False)
            return
        capped = f" (the newest {message.count:,}; more match)" if message.capped else ""
        self.log_line("success", f"exported {message.count:,} audit entries to {message.path}{capped}")
        self.notify(f"Saved {message.count:,} audit entries to {message.path}{capped}", timeout=8, markup=False)

    @on(OverviewLoaded)
    def _overview_loaded(self, message: OverviewLoaded) -> None:
        self.overview_loaded(message)

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
        if drained.running_changed:
            self.main.query_one(MigrationsTable).set_running(drained.running)  # ▶ on its row, followed
        if drained.progress is not None and self.state.busy is not None:
            self.set_state(self.state.progress(f"running {drained.progress.label}"))
        if drained.lock_wait is not None and self.state.busy is not None:
            holder, waited = drained.lock_wait  # one line (the header) updated, not a log line per second
            self.set_state(self.state.waiting_for_lock(f"waiting {waited:.0f}s for the lock held by {holder} "
                                                       "· esc cancels"))
        elif drained.lock_changed and self.state.lock_wait:
            self.set_state(self.state.lock_taken())
        if drained.state_changed and self.state.busy is None:
            self.load_state("changed")
            self.reload_audit("changed")
            self.request_overview(OVERVIEW_SETTLE_S, after_step=True)
        elif drained.step_ended and drained.more_steps and self.state.running_step and self.engine is not None:
            self.load_state("step")  # a run of several steps: the header, pane 1 and the audit log follow each
            self.reload_audit("step")  # one (the last one's state comes with the run's result)
        elif drained.lock_changed and self.busy and self.engine is not None:
            self.load_lock()  # show our own lock in the header while the step runs (polls pause while busy)

    @on(PlanReady)
    def _plan_ready(self, message: PlanReady) -> None:
        self.plan_ready(message.plan, message.request, message.override)

    @on(OperationFinished)
    def _operation_finished(self, message: OperationFinished) -> None:
        if message.snapshot is not None:  # the new version first: before the dialog, the log and the reloads
            self._apply_snapshot(message.snapshot, message.operation)
        self.set_state(self.state.finish(message.outcome))  # every end clears busy: planning included
        if message.outcome is Outcome.CANCELLED:
            self.log_line("info", f"{message.operation}: {message.error}")
            self.notify(f"{message.operation} cancelled; nothing was run", timeout=4, markup=False)
        elif message.outcome is Outcome.DATABASE_MOVED:
            self.log_line("warning", f"{message.operation}: {message.error}")
            self.notify(f"{message.error.capitalize()}. Press {'u' if message.operation == 'up' else 'd'} again for "
                        "a fresh dialog.", severity="warning", timeout=10, markup=False)  # who moved it, to what
        elif message.error:
            self.log_line("error", f"{message.operation}: {message.error}")
            if message.outcome is Outcome.CONNECTION_LOST:
                self._connection_lost(message.error, dialog=False)
            self.push_screen(ErrorScreen(f"{message.operation.capitalize()} failed", message.error,
                                         message.details))
        else:
            self.log_line("success", message.summary)
            self.notify(message.summary, timeout=4, markup=False)
        self.main.query_one(LiveLog).show_progress(None)
        self.main.query_one(MigrationsTable).run_ended()  # (also when a step's end event never came)
        if self.state.quit_when_done:
            self.exit(0)
            return
        self.live_kick()  # changes seen while a dialog asked
        if message.operation == "plan" or self.engine is None:
            return
        if message.snapshot is None:
            self.load_state(message.operation)
        self.reload_audit(message.operation, incremental=message.operation != "refresh")
        if message.operation in ("up", "down"):
            self.request_overview(OVERVIEW_SETTLE_S, after_step=True)
        else:
            self.request_overview()
