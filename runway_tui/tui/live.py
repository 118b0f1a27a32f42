"""Live updates: the engine's change stream (engine/watch.py) in a thread worker, so that another
operator's step shows within a fraction of a second; the poll stays the fallback where there is no change
stream (a standalone server) or it failed. The header says which one is in use.

Bursts (a run of many steps is many changes) coalesce: at most one message waits in the UI's queue, at most
one reload runs at a time, and two reloads start at least `LIVE_GAP_S` apart.

Mixed into `RunwayApp`.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from textual import work
from textual.timer import Timer
from textual.worker import get_current_worker

from runway_tui.engine.watch import AUDIT, EVERYTHING, LOCK, RECORDS
from runway_tui.tui.messages import ChangesSeen, LiveReloadDone, WatchStarted, WatchStopped
from runway_tui.tui.state import Activity
from runway_tui.tui.workers import one_line

if TYPE_CHECKING:
    from runway_tui.engine.app import MigrationApp
    from runway_tui.tui.app import RunwayApp

WATCH_WORKER = "watch"  # runs as long as the stream is open: waiting for "every worker done" skips it
LIVE_GAP_S = 0.1  # at most one reload per this long, however many changes arrive
LIVE_WAIT_S = 0.25  # one wait for a change; the stop is noticed within one getMore (engine/watch.py)
WATCH_RETRY_S = 30.0  # after the stream failed (the server is still there), try it again this much later
WATCH_STOP_S = 2.0  # closing waits at most this long for the watching thread to leave


class LiveWatching:
    def init_live(self) -> None:
        self.live = False  # the change stream is open: polls are not needed
        self._live_lock = threading.Lock()
        self._live_pending: set[str] = set()
        self._live_posted = False  # a ChangesSeen waits in the queue: the thread does not post another
        self._live_in_flight = False
        self._live_last = 0.0  # time.monotonic() when the last live reload started
        self._live_timer: Timer | None = None
        self._lock_timer: Timer | None = None  # reads another runner's lease again (see live_snapshot_applied)
        self._live_opened_at = 0.0  # a snapshot read before this may miss a change: read once more
        self._watch_stop: threading.Event | None = None
        self._watch_done = threading.Event()
        self._watch_done.set()
        self._watch_retry_at = 0.0

    def working(self: RunwayApp) -> bool:
        """A worker runs, besides the change stream's (it runs as long as the app watches): what a test, a
        bench or the screenshot script waits to be over before it looks at the screen."""
        return any(w.is_running and w.name != WATCH_WORKER for w in self.workers)

    @property
    def refresh_mode(self: RunwayApp) -> str:
        """What the header says: `live` (change stream) or `polling 2s`."""
        return "live" if self.live else f"polling {interval_text(self.poll_interval)}"

    # ------------------------------------------------------------------ starting and stopping
    def start_watch(self: RunwayApp) -> None:
        """Open the change stream in its worker unless one runs (the engine refuses where there is none)."""
        engine = self.engine
        if engine is None or self._watch_stop is not None or not engine.server_info.supports_change_streams:
            return
        stop, done = threading.Event(), threading.Event()  # this watch's own: an older thread may still leave
        self._watch_stop, self._watch_done = stop, done
        self.watch_engine(engine, stop, done)

    def stop_watch(self: RunwayApp, wait: bool = False) -> None:
        """Stop the watching thread (exit, application switch); `wait`: until it left (bounded)."""
        stop, self._watch_stop = self._watch_stop, None
        if stop is not None:
            stop.set()
        if wait:  # the app has exited: its workers are cancelled already
            self._watch_done.wait(WATCH_STOP_S)
            return
        self.workers.cancel_group(self, "watch")
        self.workers.cancel_group(self, "live")
        self._live_in_flight = False  # a cancelled reload that never started posts no LiveReloadDone
        if self._lock_timer is not None:
            self._lock_timer.stop()
            self._lock_timer = None
        with self._live_lock:
            self._live_pending.clear()
        if self.live:
            self.live = False
            self._update_header()

    def watch_retry(self: RunwayApp) -> None:
        """Called by the poll: a stream that failed while the server stayed reachable is tried again."""
        if (not self.live and self._watch_stop is None and self._watch_retry_at
                and time.monotonic() >= self._watch_retry_at):
            self._watch_retry_at = 0.0
            self.start_watch()

    @work(thread=True, name=WATCH_WORKER, group="watch", exit_on_error=False, description="watching for changes")
    def watch_engine(self, engine: MigrationApp, stop: threading.Event, done: threading.Event) -> None:
        """Wait for changes until stopped; each one goes to the live buffer. Every way out sets `done`."""
        worker = get_current_worker()
        try:
            try:
                watch = engine.watch_changes()
            except Exception as exc:  # noqa: BLE001 - RunwayError (no change streams), or a bug: poll instead
                if not stop.is_set():
                    self.post_message(WatchStopped(one_line(exc), started=False))
                return
            try:
                if not stop.is_set():  # (stopped meanwhile: an application switch says nothing about it)
                    self.post_message(WatchStarted(time.monotonic()))
                while not stop.is_set() and not worker.is_cancelled:
                    kinds = watch.wait_for_change(LIVE_WAIT_S)
                    if kinds and not stop.is_set():
                        self._live_seen(kinds)
            except Exception as exc:  # noqa: BLE001 - the server went away, or the stream broke: poll instead
                if not stop.is_set() and not worker.is_cancelled:
                    self.post_message(WatchStopped(one_line(exc), started=True))
            finally:
                watch.close()
        finally:
            done.set()

    def _live_seen(self: RunwayApp, kinds: frozenset[str]) -> None:
        """From the watching thread: add to the buffer; post a message only if none waits already."""
        with self._live_lock:
            self._live_pending |= kinds
            if self._live_posted:
                return
            self._live_posted = True
        self.post_message(ChangesSeen())

    # ------------------------------------------------------------------ messages (handlers by name: `@on`
    # is only collected from the App's own class body)
    def on_watch_started(self: RunwayApp, message: WatchStarted) -> None:
        if self._watch_stop is None:
            return  # stopped meanwhile
        self.live = True
        self._live_opened_at = message.opened_at
        self._update_header()
        if self.snapshot is not None and self.snapshot.read_at < message.opened_at:
            self._live_seen(EVERYTHING)  # the state shown was read before the stream saw anything

    def on_watch_stopped(self: RunwayApp, message: WatchStopped) -> None:
        self._watch_stop = None
        self.live = False
        if message.started:  # it worked before: try again later (opening again is cheap)
            self._watch_retry_at = time.monotonic() + WATCH_RETRY_S
            self.log_line("warning", f"change stream stopped: {message.error}; polling every "
                                     f"{interval_text(self.poll_interval)}")
        else:  # a replica set that refused it (no privilege, disabled): say why once, then poll
            self.log_line("info", f"no change stream ({message.error}); polling every "
                                  f"{interval_text(self.poll_interval)}")
        if self.screen_stack:
            self._update_header()

    def on_changes_seen(self: RunwayApp, _message: ChangesSeen) -> None:
        with self._live_lock:
            self._live_posted = False
        self.live_kick()

    def on_live_reload_done(self: RunwayApp, message: LiveReloadDone) -> None:
        self._live_in_flight = False
        if AUDIT in message.kinds and self.engine is not None and self.screen_stack:
            self.reload_audit("watch")
        self.live_kick()

    def live_snapshot_applied(self: RunwayApp, read_at: float) -> None:
        """A snapshot read before the stream opened may lack a change it will never report: read again.
        Another runner's lease expires without a write: while one is shown, it is read again at the poll
        interval, so that the header says when it expired (its renewals are changes, seen at once)."""
        if self._lock_timer is not None:
            self._lock_timer.stop()
            self._lock_timer = None
        if not self.live:
            return
        if read_at < self._live_opened_at:
            self._live_opened_at = 0.0
            self._live_seen(frozenset({RECORDS, LOCK}))
        lock = self.snapshot.lock if self.snapshot is not None else None
        if lock is not None and not lock.expired and self.engine is not None and not self.engine.holds(lock):
            self._lock_timer = self.set_timer(self.poll_interval, lambda: self._live_seen(frozenset({LOCK})))

    def live_kick(self: RunwayApp) -> None:
        """Start a reload for the changes waiting, unless one runs or the last one started too recently."""
        self._live_timer = None
        if self.engine is None or not self.screen_stack:
            return
        busy = self.state.busy
        if busy is not None:
            if busy.activity is not Activity.PLANNING:  # our own write holds the lock: the changes are ours
                with self._live_lock:
                    self._live_pending.clear()
            return  # planning: kicked again when it ends (`_operation_finished`)
        if self._live_in_flight:
            return  # kicked again when it ends
        wait = self._live_last + LIVE_GAP_S - time.monotonic()
        if wait > 0:
            if self._live_timer is None:
                self._live_timer = self.set_timer(wait, self.live_kick)
            return
        with self._live_lock:
            kinds, self._live_pending = frozenset(self._live_pending), set()
        if not kinds:
            return
        self._live_in_flight, self._live_last = True, time.monotonic()
        self.live_reload(kinds)

    @work(thread=True, name="live-reload", group="live", exit_on_error=False, description="reading changes")
    def live_reload(self: RunwayApp, kinds: frozenset[str]) -> None:
        """The state (when records or the lock changed); the audit page follows on the UI thread."""
        try:
            engine = self.engine
            if engine is not None and kinds & {RECORDS, LOCK}:
                self.post_state(engine, "watch")
        finally:
            self.post_message(LiveReloadDone(kinds))


def interval_text(seconds: float) -> str:
    """2 -> '2s', 90 -> '1.5m', 3600 -> '1h': short enough for the header at 80 columns."""
    if seconds >= 3600:
        return f"{seconds / 3600:g}h"
    if seconds >= 60:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"
