"""The UI's state as one typed value whose transitions live here, unit-tested without a terminal.

Handlers in the app ask this object what is allowed and replace it with the result of a transition;
nothing compares label strings (which operation runs) or error texts (whether the server went away).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from runway_tui.engine.errors import (
    BlockedError,
    DatabaseMovedError,
    EmbeddedServerError,
    LockTimeoutError,
    LockWaitCancelledError,
    ReadOnlyError,
    ServerUnreachableError,
    StepPausedError,
)
from runway_tui.engine.models import Direction, LockInfo, Plan, StatusReport
from runway_tui.engine.planner import plan_steps

AUDIT_EVERY = 5  # polls between two reloads of the newest audit page when nothing else changed


class Connection(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class Activity(StrEnum):
    """What keeps the app busy; only RUNNING (migration steps) makes quitting wait."""

    PLANNING = "planning"
    RUNNING = "running"
    WRITING = "writing"  # refresh, mark, accept, unlock, new file


class Reason(StrEnum):
    """Why the state is read again: only POLL and WATCH are other operators' doing, only NEW_FILE moves the
    cursor (to the file just created)."""

    CONNECT = "connect"
    RETRY = "retry"
    POLL = "poll"
    WATCH = "watch"
    CHANGED = "changed"  # the engine said the state changed outside an operation of ours
    STEP = "step"  # our own run: a step of several ended, or the run itself
    NEW_FILE = "new"
    USER = "user"  # r, e, an operation of ours other than a step, the screenshot script

    @property
    def elsewhere(self) -> bool:
        return self in (Reason.POLL, Reason.WATCH)


class OperationName(StrEnum):
    """What an `OperationFinished` reports on; the value is the word the log line and the dialogs show."""

    PLAN = "plan"
    UP = "up"
    DOWN = "down"
    REFRESH = "refresh"
    NEW = "new"
    MARK = "mark"
    ACCEPT = "accept"
    FORGET = "forget"
    UNLOCK = "unlock"

    @property
    def is_step(self) -> bool:
        return self in (OperationName.UP, OperationName.DOWN)

    @property
    def reason(self) -> Reason:
        """The reason of the state read that follows it."""
        if self is OperationName.NEW:
            return Reason.NEW_FILE
        return Reason.STEP if self.is_step else Reason.USER


class Outcome(StrEnum):
    """How an operation ended, from the engine's typed error (never from its text)."""

    OK = "ok"
    FAILED = "failed"
    CONNECTION_LOST = "connection lost"
    DATABASE_MOVED = "database moved"
    BLOCKED = "blocked"
    LOCK_TIMEOUT = "lock timeout"
    CANCELLED = "cancelled"
    REFUSED = "refused"
    PAUSED = "paused"  # a backfill stopped at its checkpoint as someone asked: nothing lost, `u` resumes it


def outcome_of(exc: BaseException | None) -> Outcome:
    if exc is None:
        return Outcome.OK
    if isinstance(exc, ServerUnreachableError | EmbeddedServerError):
        return Outcome.CONNECTION_LOST
    if isinstance(exc, DatabaseMovedError):
        return Outcome.DATABASE_MOVED
    if isinstance(exc, BlockedError):
        return Outcome.BLOCKED
    if isinstance(exc, LockWaitCancelledError):
        return Outcome.CANCELLED
    if isinstance(exc, StepPausedError) and exc.reason in ("cancel", "signal"):
        return Outcome.PAUSED
    if isinstance(exc, LockTimeoutError):
        return Outcome.LOCK_TIMEOUT
    if isinstance(exc, ReadOnlyError):
        return Outcome.REFUSED
    return Outcome.FAILED  # a RunwayError, or a bug in a migration (named in one line, never a traceback)


@dataclass(frozen=True)
class Busy:
    activity: Activity
    label: str


@dataclass(frozen=True)
class UiState:
    """Connection, the operation in progress and whether to quit when it ends."""

    read_only: bool
    connection: Connection = Connection.CONNECTING
    busy: Busy | None = None
    quit_when_done: bool = False
    told_unreachable: bool = False  # the one "cannot reach" message of this outage was shown
    lock_wait: bool = False  # the operation waits for another runner's lock (esc cancels the wait)

    # ------------------------------------------------------------------ questions
    @property
    def running_step(self) -> bool:
        return self.busy is not None and self.busy.activity is Activity.RUNNING

    @property
    def connected(self) -> bool:
        return self.connection is Connection.CONNECTED

    @property
    def keys(self) -> tuple[object, ...]:
        """What decides which keys are enabled (`guard.py`): a change of anything else leaves the footer."""
        return (self.read_only, self.busy is not None, self.connection)

    def write_refusal(self, has_engine: bool = True) -> str | None:
        """Why a write cannot start now (shown in a toast), or None when it can."""
        if self.read_only:
            return "read-only: this would write to the database"
        if self.busy is not None:
            return f"busy: {self.busy.label}"
        if not has_engine or not self.connected:
            return "not connected (r retries)"
        return None

    def read_refusal(self, has_engine: bool = True) -> str | None:
        if self.busy is not None:
            return f"busy: {self.busy.label}"
        if not has_engine or not self.connected:
            return "not connected (r retries)"
        return None

    # ------------------------------------------------------------------ transitions
    def begin(self, activity: Activity, label: str) -> UiState:
        return replace(self, busy=Busy(activity, label))

    def progress(self, label: str) -> UiState:
        """A step reported progress: the label follows it, the activity stays what it was."""
        if self.busy is None:
            return self
        return replace(self, busy=Busy(self.busy.activity, label), lock_wait=False)

    def waiting_for_lock(self, label: str) -> UiState:
        if self.busy is None:
            return self
        return replace(self, busy=Busy(self.busy.activity, label), lock_wait=True)

    def lock_taken(self) -> UiState:
        return replace(self, lock_wait=False)

    def finish(self, outcome: Outcome = Outcome.OK) -> UiState:
        """Any operation ended (planning included): never leaves the app busy."""
        state = replace(self, busy=None, lock_wait=False)
        return state.lost() if outcome is Outcome.CONNECTION_LOST else state

    def connecting(self) -> UiState:
        return replace(self, connection=Connection.CONNECTING)

    def reached(self) -> UiState:
        return replace(self, connection=Connection.CONNECTED, told_unreachable=False)

    def lost(self) -> UiState:
        return replace(self, connection=Connection.DISCONNECTED)

    def told(self) -> UiState:
        return replace(self, told_unreachable=True)

    def quit_after_step(self) -> UiState:
        return replace(self, quit_when_done=True)


@dataclass(frozen=True)
class PlanRequest:
    """A plan the user asked for: to confirm and run, or (`preview`) only to show."""

    direction: Direction
    steps: int | None = None
    to: int | None = None
    all_: bool = False
    preview: bool = False

    @property
    def label(self) -> str:
        if self.preview:
            return "planning"
        return f"planning {self.direction.value}" + (f" to {self.to}" if self.to is not None else "")


@dataclass(frozen=True)
class Override:
    """A blocked plan that one CLI flag would let through (drift ignored, out of order allowed), offered
    in the TUI behind its own confirmation, for this run only."""

    plan: Plan
    ignore_drift: bool = False
    allow_out_of_order: bool = False

    @property
    def label(self) -> str:
        parts = (["Run ignoring drift"] if self.ignore_drift else []) + \
            (["Apply out of order"] if self.allow_out_of_order else [])
        return " + ".join(parts)


def find_override(report: StatusReport, request: PlanRequest, supports_transactions: bool) -> Override | None:
    """The smallest relaxation that clears every blocker of `request`, or None (a failed step, a broken
    file or an orphan has no override: those are repaired, not skipped)."""
    options = [(True, False), (False, True), (True, True)] if request.direction is Direction.UP else [(True, False)]
    for ignore_drift, allow_out_of_order in options:
        plan = plan_steps(report, request.direction, steps=request.steps, to=request.to, all_=request.all_,
                          ignore_drift=ignore_drift, allow_out_of_order=allow_out_of_order,
                          supports_transactions=supports_transactions)
        if not plan.blockers and plan.steps:
            return Override(plan, ignore_drift, allow_out_of_order)
    return None


@dataclass
class Snapshot:
    """What the header and the migrations pane show: cheap to read, read after every step and poll."""

    status: StatusReport
    lock: LockInfo | None
    read_at: float = 0.0  # time.monotonic() when the read started: an older read never replaces a newer one


@dataclass(frozen=True)
class SnapshotDecision:
    """What a freshly read state changes on screen, besides showing it."""

    show: bool
    moved: tuple[int | None, int | None] | None = None  # (was, now): a version change made elsewhere (one log line)
    reload_audit: bool = False  # the newest audit page may have changed (a poll's; the stream says so itself)
    reload_overview: bool = False  # records or the lock changed elsewhere: pane 2 follows, once settled


def decide(previous: Snapshot | None, fresh: Snapshot, reason: Reason, *, busy: bool, polls: int) -> SnapshotDecision:
    """Pure: `tests/tui/test_state.py` covers it without a terminal. `polls` counts the polls so far."""
    if previous is not None and fresh.read_at < previous.read_at:
        return SnapshotDecision(show=False)  # an older read finished after a newer one: keep the newer
    if previous is None or not reason.elsewhere:
        return SnapshotDecision(show=True)
    was, now = previous.status.current_version, fresh.status.current_version
    changed = previous.status.rows != fresh.status.rows or previous.lock != fresh.lock
    return SnapshotDecision(show=True, moved=(was, now) if was != now and not busy else None,
                            reload_audit=reason is Reason.POLL and (changed or polls % AUDIT_EVERY == 0),
                            reload_overview=changed)
