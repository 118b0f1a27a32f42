"""Engine events -> UI: a thread-safe buffer that coalesces bursts into one message.

Engine handlers run on whichever thread does the work (a worker). They must be quick and must not
touch widgets, so they only append to this buffer; the first append after a drain posts one
`EngineActivity` message and the UI drains everything that arrived meanwhile in one go. Progress
events keep only the latest value, so a migration reporting 10 000 times costs a handful of repaints.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from runway_tui.engine.backfill.progress import BackfillFigures, BackfillState, percent
from runway_tui.engine.backfill.progress import describe as describe_backfill
from runway_tui.engine.events import (
    HandlerFailedEvent,
    LockAcquiredEvent,
    LockReleasedEvent,
    LockWaitingEvent,
    LogEvent,
    MigrationEvent,
    PlanComputedEvent,
    RefreshDoneEvent,
    StateChangedEvent,
    StepAppliedEvent,
    StepFailedEvent,
    StepLogEvent,
    StepProgressEvent,
    StepStartedEvent,
)
from runway_tui.engine.vocabulary import duration_label, version_label

MAX_BUFFERED = 2000  # a runaway producer cannot grow memory without bound before the UI drains


@dataclass(frozen=True)
class LogEntry:
    level: str  # debug, info, success, warning, error
    time: str
    text: str


@dataclass(frozen=True)
class Progress:
    label: str
    done: int
    total: int  # 0: the step reports no progress (the UI shows elapsed time, not a bar stuck at 0 %)
    started: float = 0.0  # time.monotonic() when the step started: elapsed time, rate and ETA follow
    backfill: BackfillFigures | None = None  # a backfill's own figures (rate, ETA, batch, lag, paused by)


@dataclass(frozen=True)
class Running:
    """The step this session runs now: pane 1 marks its row and follows it."""

    version: int
    direction: str  # "up" or "down"
    index: int
    total: int


@dataclass
class Drained:
    entries: list[LogEntry] = field(default_factory=list)
    progress: Progress | None = None
    step_ended: bool = False
    more_steps: bool = False  # the step that ended is not its run's last (the run's result brings the last)
    state_changed: bool = False
    lock_changed: bool = False
    lock_wait: tuple[str, float] | None = None  # (holder, seconds waited): the latest wait report
    running: Running | None = None  # the step running after these events (valid when `running_changed`)
    running_changed: bool = False
    dropped: int = 0


class EventBuffer:
    """Collects engine events from any thread; `drain()` runs on the UI thread."""

    def __init__(self, announce: Callable[[], None], timestamp: Callable[[], str],
                 words: Callable[[str], str] = lambda text: text) -> None:
        self._announce = announce
        self._timestamp = timestamp
        self._words = words  # the engine's remedies in the front end's own words
        self._lock = threading.Lock()
        self._pending = Drained()
        self._entries: deque[LogEntry] = deque(maxlen=MAX_BUFFERED)
        self._announced = False
        self._more_steps = False  # whether the step running now is followed by others in its run
        self._started = 0.0  # time.monotonic() when the step running now started

    def add(self, level: str, text: str) -> None:
        self._push(lambda pending: self._append(LogEntry(level, self._timestamp(), text)))

    def handle(self, event: MigrationEvent) -> None:
        """Engine event handler (subscribed to every event type)."""
        def apply(pending: Drained) -> None:
            for level, text in describe(event):
                self._append(LogEntry(level, self._timestamp(), text))
            if isinstance(event, StepStartedEvent) and event.step is not None:
                self._started = time.monotonic()
                pending.progress = Progress(_step_label(event), 0, 0, self._started)
                pending.running = Running(event.step.version, event.step.direction.value, event.index, event.total)
                pending.running_changed = True
                self._more_steps = event.index < event.total
            elif isinstance(event, StepProgressEvent) and event.step is not None and event.figures is not None:
                figures = event.figures
                pending.progress = Progress(backfill_label(event.step.version, figures), figures.done, figures.total,
                                            self._started, figures)
            elif isinstance(event, StepProgressEvent) and event.step is not None:
                pending.progress = Progress(f"{event.step.direction.value} {event.step.name}", event.done,
                                            event.total, self._started)
            elif isinstance(event, StepAppliedEvent | StepFailedEvent):
                pending.progress = None
                pending.step_ended = True
                pending.more_steps = self._more_steps
                pending.running, pending.running_changed = None, True
            elif isinstance(event, StateChangedEvent):
                pending.state_changed = True
            elif isinstance(event, LockAcquiredEvent | LockReleasedEvent):
                pending.lock_changed = True
                pending.lock_wait = None
            elif isinstance(event, LockWaitingEvent) and event.holder is not None:
                pending.lock_wait = (event.holder.holder, event.waited_s)

        self._push(apply)

    def _append(self, entry: LogEntry) -> None:
        entry = replace(entry, text=self._words(entry.text))
        if len(self._entries) == self._entries.maxlen:
            self._pending.dropped += 1
        self._entries.append(entry)

    def _push(self, apply: Callable[[Drained], None]) -> None:
        with self._lock:
            apply(self._pending)
            announce = not self._announced
            self._announced = True
        if announce:
            self._announce()

    def drain(self) -> Drained:
        with self._lock:
            drained = self._pending
            drained.entries = list(self._entries)
            self._entries.clear()
            self._pending = Drained()
            self._announced = False
        return drained


def _step_label(event: StepStartedEvent) -> str:
    assert event.step is not None
    return f"{event.step.direction.value} {event.step.name}"


def backfill_label(version: int, figures: BackfillFigures) -> str:
    """`backfill 017: 43%`, `backfill 017: 43%, paused by alice@host`: the header's words, other operators' too."""
    paused = f", paused by {figures.paused_by}" if figures.state is BackfillState.PAUSED and figures.paused_by else ""
    return f"backfill {version_label(version)}: {percent(figures)}%{paused}"


_BACKFILL_LINES = {BackfillState.WAITING: "info", BackfillState.PAUSED: "warning", BackfillState.DONE: "success"}


def describe(event: MigrationEvent) -> list[tuple[str, str]]:
    """Log lines for one engine event (level, text); empty for events that only drive the UI."""
    if isinstance(event, StepProgressEvent) and event.figures is not None and event.step is not None:
        figures = event.figures  # a line when it waits, pauses or ends; the progress row shows the rest
        level = _BACKFILL_LINES.get(figures.state)
        return [(level, f"  {event.step.name}: {describe_backfill(figures)}")] if level else []
    if isinstance(event, LogEvent):
        return [(event.level.lower(), event.message)]
    if isinstance(event, StepStartedEvent) and event.step is not None:
        how = "in a transaction" if event.in_transaction else "without a transaction"
        return [("info", f"{_step_label(event)} started ({event.index}/{event.total}, {how})")]
    if isinstance(event, StepLogEvent) and event.step is not None:
        return [("info", f"  {event.step.name}: {event.message}")]
    if isinstance(event, StepAppliedEvent) and event.step is not None:
        return [("success", f"{event.step.direction.value} {event.step.name} done in "
                            f"{duration_label(event.duration_ms)}")]
    if isinstance(event, StepFailedEvent) and event.step is not None and event.state == "paused":
        return [("warning", f"{event.step.direction.value} {event.step.name} {event.error}; nothing done is lost, "
                            "u resumes it")]
    if isinstance(event, StepFailedEvent) and event.step is not None:
        undo = "rolled back" if event.rolled_back else "NOT rolled back: state is failed until marked"
        return [("error", f"{event.step.direction.value} {event.step.name} failed ({undo}): {event.error}")]
    if isinstance(event, LockAcquiredEvent):
        return [("debug", f"lock acquired for {event.operation}")]
    if isinstance(event, LockReleasedEvent):
        return [("debug", f"lock released after {event.operation}")]
    if isinstance(event, PlanComputedEvent) and event.plan is not None:
        plan = event.plan
        return [("debug", f"plan {plan.direction.value}: {len(plan.steps)} step(s), "
                          f"{version_label(plan.current_version)} -> {version_label(plan.target_version)}")]
    if isinstance(event, RefreshDoneEvent) and event.report is not None:
        r = event.report
        parts = [f"{len(r.new)} new", f"{len(r.updated)} updated", f"{len(r.removed)} removed"]
        if r.drift:
            parts.append(f"drift in {', '.join(map(str, r.drift))}")
        if r.orphans:
            parts.append(f"orphans {', '.join(map(str, r.orphans))}")
        if r.broken:
            parts.append(f"{len(r.broken)} broken file(s)")
        return [("debug", "refresh found: " + ", ".join(parts))]
    if isinstance(event, HandlerFailedEvent):
        return [("warning", f"event handler {event.handler} failed: {event.error}")]
    return []
