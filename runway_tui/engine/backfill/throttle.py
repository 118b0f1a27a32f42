"""How big each batch is and how fast the walk may go: pure arithmetic over an injected clock.

The batch size adapts so that a batch takes about the target time (`batch_ms`, default 200 ms): short enough to
keep each transaction small and a pause prompt, long enough that per-batch costs stay a small share. It moves
at most by a factor of two per batch, within [MIN_BATCH, MAX_BATCH]. The rate cap (`max_docs_per_s`) is a
schedule, not a sleep per batch: the next batch may start once the documents done so far fit the rate, so the
average over any run holds to the cap however uneven the batches are.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_BATCH_MS = 200
FIRST_BATCH = 500
MIN_BATCH = 10
MAX_BATCH = 10_000
BATCH_SIZE_LIMIT = 100_000  # a fixed `batch_size` asked in a call must lie in [1, BATCH_SIZE_LIMIT]


@dataclass(frozen=True)
class ThrottleSettings:
    """A backfill's throttle: the application's `backfill:` defaults, overridden by the call's arguments."""

    batch_ms: int = DEFAULT_BATCH_MS
    max_docs_per_s: float | None = None
    max_lag_s: float | None = None
    batch_size: int | None = None  # fixed: no adaptation

    def overridden(self, *, batch_size: int | None = None, max_docs_per_s: float | None = None,
                   max_lag_s: float | None = None) -> ThrottleSettings:
        return ThrottleSettings(
            batch_ms=self.batch_ms,
            max_docs_per_s=self.max_docs_per_s if max_docs_per_s is None else max_docs_per_s,
            max_lag_s=self.max_lag_s if max_lag_s is None else max_lag_s,
            batch_size=self.batch_size if batch_size is None else batch_size)


def settings_problem(settings: ThrottleSettings) -> str | None:
    """What is wrong with these settings, in words a migration's author can act on, or None."""
    size = settings.batch_size
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= BATCH_SIZE_LIMIT):
        return f"batch_size must be a whole number from 1 to {BATCH_SIZE_LIMIT:,}, not {size!r}"
    rate = settings.max_docs_per_s
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0):
        return f"max_docs_per_s must be a number above 0, not {rate!r}"
    lag = settings.max_lag_s
    if lag is not None and (isinstance(lag, bool) or not isinstance(lag, int | float) or lag <= 0):
        return f"max_lag_s must be a number of seconds above 0, not {lag!r}"
    ms = settings.batch_ms
    if isinstance(ms, bool) or not isinstance(ms, int) or not 10 <= ms <= 60_000:
        return f"batch_ms must be a whole number of milliseconds from 10 to 60000, not {ms!r}"
    return None


class BatchSizer:
    """The next batch's size, from how long the last ones took."""

    def __init__(self, settings: ThrottleSettings, first: int = FIRST_BATCH) -> None:
        self._fixed = settings.batch_size
        self._target_s = settings.batch_ms / 1000
        # under a rate cap a batch holds at most one target time's worth of the rate, so the cap stays smooth
        rate = settings.max_docs_per_s
        self._high = MAX_BATCH if rate is None else max(1, min(MAX_BATCH, int(rate * self._target_s) or 1))
        self._low = min(MIN_BATCH, self._high)
        self._size = self._fixed or self._clamp(first)

    @property
    def size(self) -> int:
        return self._size

    def observe(self, docs: int, seconds: float) -> None:
        """One batch of `docs` documents took `seconds` (its reads and its commit, not the throttle's waits)."""
        if self._fixed is not None or docs <= 0:
            return
        ideal = self._size * 2 if seconds <= 0 else int(docs * self._target_s / seconds)
        self._size = self._clamp(max(self._size // 2, min(self._size * 2, ideal)))

    def _clamp(self, size: int) -> int:
        return max(self._low, min(self._high, size))


class RateCap:
    """Holds the walk to `max_docs_per_s` on average since it started (or resumed)."""

    def __init__(self, max_docs_per_s: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = max_docs_per_s
        self._clock = clock
        self._started: float | None = None
        self._done = 0

    def start(self) -> None:
        self._started = self._clock()
        self._done = 0

    def delay_before_next(self, docs_done: int) -> float:
        """`docs_done` more documents were written; seconds to wait before the next batch may start."""
        if self._rate is None:
            return 0.0
        if self._started is None:
            self.start()
        self._done += docs_done
        due = self._started + self._done / self._rate  # type: ignore[operator]
        return max(0.0, due - self._clock())
