"""Live updates: the engine's change stream (engine/watch.py) in a thread worker, so that another
operator's step shows within a fraction of a second; the poll stays the fallback where there is no change
stream (a standalone server) or it failed. The header says which one is in use.

Bursts (a run of many steps is many changes) coalesce: at most one message waits in the UI's queue, at most
one reload runs at a time, and two reloads start at least `LIVE_GAP_S` apart.

Mixed into `RunwayApp`, over its `feed` (`live_feed.py`: the state, plain data).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from textual import work
from textual.worker import get_current_worker

from runway_tui.engine.watch import AUDIT, EVERYTHING, LOCK, RECORDS
from runway_tui.tui.live_feed import LiveFeed
from runway_tui.tui.messages import ChangesSeen, LiveReloadDone, WatchStarted, WatchStopped
from runway_tui.tui.state import Activity, Reason
from runway_tui.tui.workers import one_line

if TYPE_CHECKING:
    from runway_tui.engine.app import MigrationApp
    from runway_tui.tui.host import Host

WATCH_WORKER = "watch"  # runs as long as the stream is open: waiting for "every worker done" skips it
LIVE_GAP_S = 0.1  # at most one reload per this long, however many changes arrive
LIVE_WAIT_S = 0.25  # one wait for a change; the stop is noticed within one getMore (engine/watch.py)
WATCH_RETRY_S = 30.0  # after the stream failed (the server is still there), try it again this much later
WATCH_STOP_S = 2.0  # closing waits at most this long for the watching thread to leave


class LiveWatching:
    """The change stream's worker and messages, over the app's `feed` (a `LiveFeed`)."""

    feed: LiveFeed

    def init_live(self) -> None:
        self.feed = LiveFeed()

    @property
    def live(self) -> bool:
        return self.feed.live

    @property
    def _watch_done(self) -> threading.Event:
        return self.feed.watch_done

    def working(self: Host) -> bool:
        """A worker runs, besides the change stream's (it runs as long as the app watches): what a test, a
        bench or the screenshot script waits to be over before it looks at the screen."""
        return any(w.is_running and w.name != WATCH_WORKER for w in self.workers)

    @property
    def refresh_mode(self: Host) -> str:
        """What the header says: `live` (change stream) or `polling 2s`."""
        return "live" if self.live else f"polling {interval_text(self.poll_interval)}"

    # ------------------------------------------------------------------ starting and stopping
    def start_watch(self: Host) -> None:
        """Open the change stream in its worker unless one runs (the engine refuses where there is none)."""
        engine = self.engine
        if engine is None or self.feed.watch_stop is not None or not engine.server_info.supports_change_streams:
            return
        stop, done = threading.Event(), threading.Event()  # this watch's own: an older thread may still leave
        self.feed.watch_stop, self.feed.watch_done = stop, done
        self.watch_engine(engine, stop, done)

    def stop_watch(self: Host, wait: bool = False) -> None:
        """Stop the watching thread (exit, application switch); `wait`: until it left (bounded)."""
        stop, self.feed.watch_stop = self.feed.watch_stop, None
        if stop is not None:
            stop.set()
        if wait:  # the app has exited: its workers are cancelled already
            self.feed.watch_done.wait(WATCH_STOP_S)
            return
        self.workers.cancel_group(self, "watch")
        self.workers.cancel_group(self, "live")
        self.feed.in_flight = False  # a cancelled reload that never started posts no LiveReloadDone
        if self.feed.lock_timer is not None:
            self.feed.lock_timer.stop()
            self.feed.lock_timer = None
        self.feed.drop()
        if self.live:
            self.feed.live = False
            self.update_header()

    def watch_retry(self: Host) -> None:
        """Called by the poll: a stream that failed while the server stayed reachable is tried again."""
        if (not self.live and self.feed.watch_stop is None and self.feed.retry_at
                and time.monotonic() >= self.feed.retry_at):
            self.feed.retry_at = 0.0
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

    def _live_seen(self: Host, kinds: frozenset[str]) -> None:
        """From the watching thread: add to the buffer; post a message only if none waits already."""
        if self.feed.seen(kinds):
            self.post_message(ChangesSeen())

    # ------------------------------------------------------------------ messages (handlers by name: `@on`
    # is only collected from the App's own class body)
    def on_watch_started(self: Host, message: WatchStarted) -> None:
        if self.feed.watch_stop is None:
            return  # stopped meanwhile
        self.feed.live = True
        self.feed.opened_at = message.opened_at
        self.update_header()
        if self.snapshot is not None and self.snapshot.read_at < message.opened_at:
            self._live_seen(EVERYTHING)  # the state shown was read before the stream saw anything

    def on_watch_stopped(self: Host, message: WatchStopped) -> None:
        self.feed.watch_stop = None
        self.feed.live = False
        if message.started:  # it worked before: try again later (opening again is cheap)
            self.feed.retry_at = time.monotonic() + WATCH_RETRY_S
            self.log_line("warning", f"change stream stopped: {message.error}; polling every "
                                     f"{interval_text(self.poll_interval)}")
        else:  # a replica set that refused it (no privilege, disabled): say why once, then poll
            self.log_line("info", f"no change stream ({message.error}); polling every "
                                  f"{interval_text(self.poll_interval)}")
        if self.screen_stack:
            self.update_header()

    def on_changes_seen(self: Host, _message: ChangesSeen) -> None:
        self.feed.announced()
        self.live_kick()

    def on_live_reload_done(self: Host, message: LiveReloadDone) -> None:
        self.feed.in_flight = False
        if AUDIT in message.kinds and self.engine is not None and self.screen_stack:
            self.reload_audit()
        self.live_kick()

    def live_snapshot_applied(self: Host, read_at: float) -> None:
        """A snapshot read before the stream opened may lack a change it will never report: read again.
        Another runner's lease expires without a write: while one is shown, it is read again at the poll
        interval, so that the header says when it expired (its renewals are changes, seen at once)."""
        if self.feed.lock_timer is not None:
            self.feed.lock_timer.stop()
            self.feed.lock_timer = None
        if not self.live:
            return
        if read_at < self.feed.opened_at:
            self.feed.opened_at = 0.0
            self._live_seen(frozenset({RECORDS, LOCK}))
        lock = self.snapshot.lock if self.snapshot is not None else None
        if lock is not None and not lock.expired and self.engine is not None and not self.engine.holds(lock):
            self.feed.lock_timer = self.set_timer(self.poll_interval, lambda: self._live_seen(frozenset({LOCK})))

    def live_kick(self: Host) -> None:
        """Start a reload for the changes waiting, unless one runs or the last one started too recently."""
        self.feed.timer = None
        if self.engine is None or not self.screen_stack:
            return
        busy = self.state.busy
        if busy is not None:
            if busy.activity is not Activity.PLANNING:  # our own write holds the lock: the changes are ours
                self.feed.drop()
            return  # planning: kicked again when it ends (`_operation_finished`)
        if self.feed.in_flight:
            return  # kicked again when it ends
        wait = self.feed.last + LIVE_GAP_S - time.monotonic()
        if wait > 0:
            if self.feed.timer is None:
                self.feed.timer = self.set_timer(wait, self.live_kick)
            return
        kinds = self.feed.take()
        if not kinds:
            return
        self.feed.in_flight, self.feed.last = True, time.monotonic()
        self.live_reload(kinds)

    @work(thread=True, name="live-reload", group="live", exit_on_error=False, description="reading changes")
    def live_reload(self: Host, kinds: frozenset[str]) -> None:
        """The state (when records or the lock changed); the audit page follows on the UI thread."""
        try:
            engine = self.engine
            if engine is not None and kinds & {RECORDS, LOCK}:
                self.post_state(engine, Reason.WATCH)
        finally:
            self.post_message(LiveReloadDone(kinds))


def interval_text(seconds: float) -> str:
    """2 -> '2s', 90 -> '1.5m', 3600 -> '1h': short enough for the header at 80 columns."""
    if seconds >= 3600:
        return f"{seconds / 3600:g}h"
    if seconds >= 60:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"
