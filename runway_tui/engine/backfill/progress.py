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


def percent(figures: BackfillFigures) -> int:
    return min(100, figures.done * 100 // figures.total) if figures.total else 0


def describe(figures: BackfillFigures) -> str:
    """One line every front end shows: `items 43% (86,000 of 200,000) · 4,700 docs/s · ETA 25 s · batch 962`."""
    parts = [f"{figures.collection} {percent(figures)}% ({figures.done:,} of {figures.total:,})"]
    if figures.state is BackfillState.PAUSED:
        parts.append(f"paused by {figures.paused_by}" if figures.paused_by else "paused")
    elif figures.state is BackfillState.DONE:
        parts.append(f"done: {figures.matched:,} matched, {figures.modified:,} modified")
    else:
        if figures.rate_per_s:
            parts.append(f"{figures.rate_per_s:,.0f} docs/s")
        if figures.eta_s is not None:
            parts.append(f"ETA {_duration(figures.eta_s)}")
        parts.append(f"batch {figures.batch_size:,}")
        if figures.lag_s is not None:
            parts.append(f"lag {figures.lag_s:.0f} s")
        if figures.waiting:
            parts.append(f"waiting: {figures.waiting}")
    return " · ".join(parts)


def bar(figures: BackfillFigures, width: int = 20) -> str:
    filled = percent(figures) * width // 100
    return "█" * filled + "░" * (width - filled)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
