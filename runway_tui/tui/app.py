"""`RunwayApp`: the Textual application. Engine work happens in workers (see `workers.py`); this class turns
their messages into pane updates, dialogs and log lines, and owns the safety rules (read-only, busy, confirm).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
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
from textual.timer import Timer

from runway_tui.engine.app import MigrationApp
from runway_tui.engine.config import AppConfig, Config, TuiConfig
from runway_tui.engine.messages import visible
from runway_tui.engine.policy import Access, access_implied
from runway_tui.engine.runner import utcnow
from runway_tui.tui import connecting, flows, keys_panel
from runway_tui.tui.activity import report_outcome, show_activity
from runway_tui.tui.bridge import EventBuffer
from runway_tui.tui.commands import RunwayCommands
from runway_tui.tui.components.audit_pane import AuditPane
from runway_tui.tui.components.database_pane import OVERVIEW_SETTLE_S, DatabasePane
from runway_tui.tui.components.header_bar import HeaderState
from runway_tui.tui.format import version_text
from runway_tui.tui.hangup import HangUp
from runway_tui.tui.live import LiveWatching
from runway_tui.tui.messages import (
    AuditLoaded,
    AuditPage,
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
from runway_tui.tui.screens.detail import MigrationDetailScreen
from runway_tui.tui.screens.main import MainScreen
from runway_tui.tui.session import EngineSession
from runway_tui.tui.state import Connection, OperationName, Reason, UiState, decide
from runway_tui.tui.system_commands import system_commands
from runway_tui.tui.words import app_words
from runway_tui.tui.workers import EngineWorkers

Clock = Callable[[], dt.datetime]
KEYS_GREY_AFTER_S = 0.2  # an operation greys the footer's write keys once it has lasted this long



def while_open(method: Callable[..., Any]) -> Callable[..., Any]:
    """A worker's message or a timer that lands while the app is closing has no screen left to show it on
    (Textual has popped them all): it is dropped instead of failing on the missing main screen."""

    @functools.wraps(method)
    def guarded(self: RunwayApp, *args: Any, **kwargs: Any) -> Any:
        if not self.screen_stack:
            return None
        return method(self, *args, **kwargs)

    return guarded

class RunwayApp(EngineWorkers, LiveWatching, App[int]):
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
        self.keys_state = self.state  # the state the keys show: `state`, a moment late when it turns busy
        self.production = app_config.production
        self.clock: Clock = clock or utcnow
        self.address_override = address
        self.poll_interval = poll_interval if poll_interval is not None else self.tui_config.poll_interval_s
        self.access = access or access_implied(app_config, read_only)
        self.session = EngineSession(engine_factory or (  # clock None: the server's clock
            lambda: MigrationApp(self.app_config, access=self.access, clock=clock, front_end="tui")))
        self.project_config = project_config  # every application, for the switcher (`a`)
        self.launch_flags = launch_flags  # (--read-only, --write): a switched-to application gets the same
        self.snapshot: Snapshot | None = None
        self.header_state = HeaderState(app_config.name, app_config.database,
                                        address or ("embedded" if app_config.is_embedded else app_config.masked_uri),
                                        read_only, app_config.production)
        self.events = EventBuffer(lambda: self.post_message(EngineActivity()),
                                  lambda: self.clock().strftime("%H:%M:%S"), lambda text: app_words(self, text))
        self.init_live()
        self.polls = 0  # polls so far (every AUDIT_EVERY-th one reloads the audit page: `decide`)
        self.files_shown = False  # pane 1 shows the files from disk (no server yet)
        self._handle_signals = handle_signals  # the real process: SIGTERM/SIGHUP leave like `q` (tests: off)
        self._requested_theme = theme or self.tui_config.theme
        self._grey_keys: Timer | None = None
        self.cursor_blink = True  # tests switch it off: a blinking cursor makes screenshots differ

    # ------------------------------------------------------------------ setup
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        return system_commands(self, screen)

    def action_show_keys(self) -> None:
        """`?` on any screen (the main screen binds it too, with its own id)."""
        keys_panel.show_keys(self)

    def show_keys(self) -> None:
        keys_panel.show_keys(self)

    editor_command = staticmethod(flows.editor_command)  # what `e` runs ($VISUAL, $EDITOR, vi)

    def edit_selected(self) -> None:
        """`e`: the selected migration's file in $EDITOR (flows.py)."""
        flows.edit_selected(self)

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
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signal.SIGTERM, self._signalled, signal.SIGTERM)
            with contextlib.suppress(ValueError):  # not the main thread
                HangUp(self, loop).install()  # a closed terminal ends us even in the middle of a render

    def _signalled(self, signum: int) -> None:
        """`kill`: leave through the normal exit, so what we started is stopped."""
        self.exit(128 + signum)

    def start(self) -> None:
        """Called by the main screen once its panes exist: first paint first, then connect in a worker."""
        self.update_header()
        mode = "read-only" if self.read_only else "writes allowed"
        self.events.add("info", f"opening {self.app_config.name} ({self.header_state.address}, "
                                f"database {self.app_config.database}, {mode})")
        self.connect_engine()
        self.set_interval(self.poll_interval, self._poll, name="poll")

    @property
    def engine(self) -> MigrationApp | None:
        return self.session.engine

    @engine.setter
    def engine(self, engine: MigrationApp | None) -> None:
        self.session.engine = engine

    @property
    def operation_idle(self) -> threading.Event:
        return self.session.idle

    def shutdown_engine(self, say: Callable[[str], object] | None = None) -> None:
        """Release the lock and stop the embedded daemon; called after the app has exited. A step still
        running (ctrl+q, a signal) is waited for, and `say` tells the user what we wait for."""
        self.session.close(say or self._say, lambda: self.stop_watch(wait=True))  # the thread leaves first

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
        """The one way the UI state changes: the header follows it, and the keys when what enables them
        changed (a step's progress changes the header's label alone: no footer rebuilt for it)."""
        if state == self.state:
            return
        previous, self.state = self.state, state
        self.update_header()
        if not self.screen_stack:  # the app is closing: the state is kept, there is nothing to show it on
            return
        self.main.live_log.hold(state.busy is not None)
        if state.keys != previous.keys:
            self._keys_follow(became_busy=state.busy is not None and previous.busy is None)

    def _keys_follow(self, became_busy: bool) -> None:
        """The keys (footer, `?`) show an operation as busy once it has lasted KEYS_GREY_AFTER_S: a quick one
        (a no-op step, planning) is not a flash of grey keys and two footer rebuilds. A key pressed meanwhile
        is refused all the same: every write's flow asks the state itself (`refuse_write`), with the toast."""
        if self._grey_keys is not None:
            self._grey_keys.stop()
            self._grey_keys = None
        if became_busy:
            self._grey_keys = self.set_timer(KEYS_GREY_AFTER_S, self._show_keys_state, name="grey-keys")
        else:
            self._show_keys_state()

    @while_open
    def _show_keys_state(self) -> None:
        self._grey_keys = None
        self.keys_state = self.state
        self.main.refresh_bindings()

    @while_open
    def update_header(self) -> None:
        state = self.header_state
        state.connection = self.connection.value
        state.busy = self.busy
        state.refresh = self.refresh_mode
        if self.snapshot is not None:
            state.status = self.snapshot.status
            state.lock = self.snapshot.lock
            state.lock_is_ours = self.engine is not None and self.engine.holds(state.lock)
        self.main.header.show(state)

    @property
    def audit(self) -> AuditPage | None:
        """The audit page shown (the pane's)."""
        return self.main.audit_pane.page

    def reload(self, reason: Reason, full: bool = True) -> None:
        """State (header, migrations), the audit page shown and, if `full`, the database overview: each in
        its own worker, so the cheap state shows without waiting for the slower reads."""
        if self.engine is None:
            return
        self.load_state(reason)
        self.reload_audit(incremental=False)
        if full:
            self.request_overview()

    def reload_audit(self, incremental: bool = True) -> None:
        if self.engine is not None:
            self.main.audit_pane.reload(incremental)

    def request_overview(self, delay: float = 0.0, after_step: bool = False) -> None:
        if self.engine is not None and self.screen_stack:  # a settle timer may fire while the app exits
            self.main.database_pane.request(delay, after_step)

    def _poll(self) -> None:
        connecting.poll(self)

    def retry_connection(self, quiet: bool = False) -> None:
        connecting.retry(self, quiet)

    def worker_running(self, name: str) -> bool:
        return any(w.name == name and w.is_running for w in self.workers)

    def log_line(self, level: str, text: str) -> None:
        self.events.add(level, text)

    def notify(self, message: str, **options: Any) -> None:  # type: ignore[override]
        """Every toast names this UI's keys, never a CLI command (see `words`). Toasts quote names, errors
        and values: never parsed as markup, their control characters shown as escapes (every screen's
        `notify` comes here)."""
        options["markup"] = False
        super().notify(visible(app_words(self, message), keep_newlines=True), **options)

    # ------------------------------------------------------------------ messages from workers
    @on(EngineConnected)
    @while_open
    def _connected(self, message: EngineConnected) -> None:
        connecting.connected(self, message.server, message.address)

    @on(ConnectionFailed)
    @while_open
    def _connection_failed(self, message: ConnectionFailed) -> None:
        self.connection_lost(message.error, initial=message.initial)

    def connection_lost(self, error: str, initial: bool = False, dialog: bool = True) -> None:
        connecting.lost(self, error, initial, dialog)

    @on(FilesLoaded)
    @while_open
    def _files_loaded(self, message: FilesLoaded) -> None:
        if self.snapshot is not None:
            return  # connected meanwhile: the real state is shown
        self.files_shown = True
        self.main.migrations.show(message.report, offline=True)

    @on(StateLoaded)
    @while_open
    def _state_loaded(self, message: StateLoaded) -> None:
        if self.screen_stack:  # a poll's read may land while the app is closing: no screen to show it on
            self.apply_snapshot(message.snapshot, message.reason)

    def apply_snapshot(self, snapshot: Snapshot, reason: Reason) -> None:
        """Show a state read: what follows from it is `decide`d (pure, tests/tui/test_state.py)."""
        previous = self.snapshot
        decision = decide(previous, snapshot, reason, busy=self.busy is not None, polls=self.polls)
        if not decision.show:
            return
        if not self.state.connected:
            self.log_line("success", "connection restored")
            self.notify("Connection restored", timeout=3)
            self.set_state(self.state.reached())
            self.start_watch()
        if decision.moved is not None:
            was, now = decision.moved
            self.log_line("warning", f"version changed elsewhere: {version_text(was)} -> {version_text(now)}")
        self.snapshot = snapshot
        self._show_status(snapshot, select_newest=reason is Reason.NEW_FILE)
        self.update_header()
        if previous is None and self.main.database_pane.overview is None:
            self.request_overview()
        self.live_snapshot_applied(snapshot.read_at)
        if decision.reload_audit:
            self.reload_audit()  # keyset pages do not shift: this only matters for the newest
            # (a live reload reads the audit page when the stream saw it change: `LiveReloadDone`)
        if decision.reload_overview:
            self.request_overview(OVERVIEW_SETTLE_S, after_step=True)

    def _show_status(self, snapshot: Snapshot, select_newest: bool) -> None:
        """Pane 1 and every open migration detail (a repair made there, too) follow the state."""
        table = self.main.migrations
        table.show(snapshot.status)
        versions = [r.version for r in snapshot.status.rows if r.version is not None]
        if select_newest and versions:  # the state read after `n`: put the cursor on the file just created
            table.select_version(max(versions))
        for screen in self.screen_stack:
            if isinstance(screen, MigrationDetailScreen):
                screen.follow(snapshot.status.rows)
        self.files_shown = False

    @on(AuditPane.Wanted)
    @while_open
    def _audit_wanted(self, message: AuditPane.Wanted) -> None:
        if self.engine is not None:
            self.load_audit(message.before, message.filter_text, message.index, message.shown)

    @on(AuditLoaded)
    @while_open
    def _audit_loaded(self, message: AuditLoaded) -> None:
        self.main.audit_pane.accept(message.page)

    @on(AuditPane.Exported)
    @while_open
    def _audit_exported(self, message: AuditPane.Exported) -> None:
        if message.error:
            self.log_line("error", f"audit export failed: {message.error}")
            self.notify(f"Nothing exported: {message.error}", severity="error", timeout=8, markup=False)
            return
        capped = f" (the newest {message.count:,}; more match)" if message.capped else ""
        self.log_line("success", f"exported {message.count:,} audit entries to {message.path}{capped}")
        self.notify(f"Saved {message.count:,} audit entries to {message.path}{capped}", timeout=8, markup=False)

    @on(DatabasePane.Wanted)
    @while_open
    def _overview_wanted(self, message: DatabasePane.Wanted) -> None:
        if self.engine is None or not self.screen_stack:
            self.main.database_pane.accept([], complete=True, failed=True)  # nothing to read from: not pending
            return
        self.load_overview(message.previous)

    @on(DatabasePane.Focused)
    @while_open
    def _database_focused(self) -> None:
        if self.engine is not None:
            self.main.database_pane.request_if_stale()

    @on(OverviewLoaded)
    @while_open
    def _overview_loaded(self, message: OverviewLoaded) -> None:
        self.main.database_pane.accept(message.rows, message.complete, message.failed)

    @on(LockLoaded)
    @while_open
    def _lock_loaded(self, message: LockLoaded) -> None:
        if self.snapshot is not None and message.read_at >= self.snapshot.read_at:
            self.snapshot.lock = message.lock
            self.update_header()

    @on(EngineActivity)
    @while_open
    def _engine_activity(self) -> None:
        show_activity(self, self.events.drain())

    @on(PlanReady)
    @while_open
    def _plan_ready(self, message: PlanReady) -> None:
        flows.plan_ready(self, message.plan, message.request, message.override)

    @on(OperationFinished)
    @while_open
    def _operation_finished(self, message: OperationFinished) -> None:
        if message.snapshot is not None:  # the new version first: before the dialog, the log and the reloads
            self.apply_snapshot(message.snapshot, message.operation.reason)
        self.set_state(self.state.finish(message.outcome))  # every end clears busy: planning included
        report_outcome(self, message)
        self.main.live_log.show_progress(None)
        self.main.migrations.run_ended()  # (also when a step's end event never came)
        if self.state.quit_when_done:
            self.exit(0)
            return
        self.live_kick()  # changes seen while a dialog asked
        operation = message.operation
        if operation is OperationName.PLAN or self.engine is None:
            return
        if message.snapshot is None:
            self.load_state(operation.reason)
        self.reload_audit(incremental=operation is not OperationName.REFRESH)
        if operation.is_step:
            self.request_overview(OVERVIEW_SETTLE_S, after_step=True)
        else:
            self.request_overview()
