"""What a backfill reports while it runs: the figures carried by `StepProgressEvent.figures`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class BackfillState(StrEnum):
    RUNNING = "running"
    WAITING = "waiting"  # held by the throttle: secondary lag, or the rate cap
    PAUSING = "pausing"  # a pause or cancel was asked; the current batch finishes first
    PAUSED = "paused"  # waiting between batches for resume, lease held
    DONE = "done"


@dataclass(frozen=True)
class BackfillFigures:
    """One backfill's progress. `total` is an estimate (a count at the start, refined as the walk goes)."""

    collection: str
    done: int  # documents walked so far (across resumes)
    total: int
    matched: int = 0
    modified: int = 0
    rate_per_s: float | None = None  # documents per second, recent
    eta_s: float | None = None
    batch_size: int = 0
    lag_s: float | None = None  # the worst secondary's lag, when the lag rule is on
    waiting: str | None = None  # why the walk waits now: "secondary lag 12 s > 5 s", "rate cap 500 docs/s"
    state: BackfillState = BackfillState.RUNNING
    last_id: Any = None
    paused_by: str | None = None
