"""`LiveFeed`: what the change stream has seen and waits for a reload, as plain data the app owns (no
widgets, no worker: `live.py` runs the watching thread and reacts to its messages over this)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from textual.timer import Timer


@dataclass
class LiveFeed:
    """The change stream's side of the app, as plain data: what changed and waits for a reload, and the
    watching thread's stop and done events. The thread only calls `seen`; everything else is the UI thread's."""

    live: bool = False  # the change stream is open: polls are not needed
    pending: set[str] = field(default_factory=set)
    posted: bool = False  # a ChangesSeen waits in the queue: the thread does not post another
    in_flight: bool = False
    last: float = 0.0  # time.monotonic() when the last live reload started
    opened_at: float = 0.0  # a snapshot read before this may miss a change: read once more
    retry_at: float = 0.0
    timer: Timer | None = None
    lock_timer: Timer | None = None  # reads another runner's lease again (see live_snapshot_applied)
    watch_stop: threading.Event | None = None
    watch_done: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.watch_done.set()

    def seen(self, kinds: frozenset[str]) -> bool:
        """From the watching thread: add `kinds`; True when a message must announce them (none waits)."""
        with self._lock:
            self.pending |= kinds
            if self.posted:
                return False
            self.posted = True
            return True

    def announced(self) -> None:
        with self._lock:
            self.posted = False

    def take(self) -> frozenset[str]:
        with self._lock:
            kinds, self.pending = frozenset(self.pending), set()
        return kinds

    def drop(self) -> None:
        with self._lock:
            self.pending.clear()

    def stop_timers(self) -> None:
        for timer in (self.timer, self.lock_timer):
            if timer is not None:
                timer.stop()
        self.timer = self.lock_timer = None
