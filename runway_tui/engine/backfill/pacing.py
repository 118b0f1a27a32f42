"""A walk's pace: the batch size (adapted), the rate cap and when to look at the replica set's lag again."""

from __future__ import annotations

import time
from collections.abc import Callable

from runway_tui.engine.backfill.throttle import BatchSizer, RateCap, ThrottleSettings

LAG_EVERY_S = 1.0  # replSetGetStatus at most once a second
RATE_WINDOW_S = 10.0  # the rate shown is over about the last ten seconds


class Pacing:
    """`BatchSizer` and `RateCap` (engine/backfill/throttle.py) over one walk, plus the figures it shows."""

    def __init__(self, settings: ThrottleSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._sizer = BatchSizer(settings)
        self._cap = RateCap(settings.max_docs_per_s, clock)
        self._cap.start()
        self._last_docs = 0
        self._lag_at: float | None = None
        self.lag_s: float | None = None
        self._marks: list[tuple[float, int]] = [(clock(), 0)]  # (when, documents done by this run)
        self._done = 0

    @property
    def size(self) -> int:
        return self._sizer.size

    @property
    def rate(self) -> float:
        return self.settings.max_docs_per_s or 0.0

    @property
    def max_lag_s(self) -> float | None:
        return self.settings.max_lag_s

    def observe(self, docs: int, seconds: float) -> None:
        self._sizer.observe(docs, seconds)
        self._last_docs = docs
        self._done += docs
        now = self._clock()
        self._marks.append((now, self._done))
        while len(self._marks) > 2 and now - self._marks[1][0] > RATE_WINDOW_S:
            self._marks.pop(0)

    def delay(self) -> float:
        """Seconds before the next batch may start under the rate cap (0: at once)."""
        docs, self._last_docs = self._last_docs, 0
        return self._cap.delay_before_next(docs)

    def lag_due(self) -> bool:
        now = self._clock()
        if self._lag_at is not None and now - self._lag_at < LAG_EVERY_S:
            return False
        self._lag_at = now
        return True

    def rate_now(self) -> float | None:
        """Documents per second over the last few seconds of this run."""
        (start, first), (end, last) = self._marks[0], self._marks[-1]
        return (last - first) / (end - start) if end > start and last > first else None
