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
)
from runway_tui.engine.models import Direction, Plan, StatusReport
from runway_tui.engine.planner import plan_steps


class Connection(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class Activity(StrEnum):
    """What keeps the app busy; only RUNNING (migration steps) makes quitting wait."""

    PLANNING = "planning"
    RUNNING = "running"
    WRITING = "writing"  # refresh, mark, accept, unlock, new file


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
