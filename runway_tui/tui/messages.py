"""Messages that carry engine results from worker threads to the UI thread.

`post_message` is thread-safe and never blocks a worker, so the engine can keep running while the
UI catches up. Chatty engine events are buffered by the bridge and announced with one
`EngineActivity` message at a time (bursts coalesce into a single UI update).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual.message import Message

from runway_tui.engine.connection import ServerInfo
from runway_tui.engine.models import LockInfo, MigrationAuditlogEntry, Plan, StatusReport
from runway_tui.tui.state import OperationName, Outcome, Reason, Snapshot

if TYPE_CHECKING:
    from runway_tui.tui.state import Override, PlanRequest


@dataclass
class AuditPage:
    """One page of the audit log, read by key: the entries older than `before` (None: the newest page).

    `has_more` comes from reading one entry more than the page holds, so no count of the log is needed.
    """

    entries: list[MigrationAuditlogEntry]
    has_more: bool
    before: MigrationAuditlogEntry | None
    filter_text: str
    index: int  # 0 for the newest page
    read_at: float = 0.0


@dataclass
class EngineConnected(Message):
    """The engine connected (the constructor of MigrationApp returned)."""

    server: ServerInfo
    address: str


@dataclass
class ConnectionFailed(Message):
    """Connecting, or a later read, could not reach the server."""

    error: str
    initial: bool


@dataclass
class StateLoaded(Message):
    """The status of every migration and the lock, read for `reason`."""

    snapshot: Snapshot
    reason: Reason


@dataclass
class AuditLoaded(Message):
    """A page of the audit log that the audit pane asked for (`AuditPane.Wanted`)."""

    page: AuditPage


@dataclass
class OverviewLoaded(Message):
    """The database overview, or part of it: `complete` is False while collection statistics are still coming."""

    rows: list[dict[str, Any]]
    complete: bool
    failed: bool = False


@dataclass
class LockLoaded(Message):
    """Only the lock, read while our own step holds it (the header shows it)."""

    lock: LockInfo | None
    read_at: float


class EngineActivity(Message):
    """Engine events are waiting in the bridge's buffer: drain them."""


@dataclass
class PlanReady(Message):
    """A plan was computed for a step the user asked for; the UI asks for confirmation next."""

    plan: Plan
    request: PlanRequest
    override: Override | None = None  # the blocked plan, let through by one flag (asked for separately)


@dataclass
class FilesLoaded(Message):
    """The server cannot be reached: the migration files as read from disk (they need no server)."""

    report: StatusReport


@dataclass
class OperationFinished(Message):
    """An operation (planning included) ended; `error` is one line, `outcome` its kind (never parsed)."""

    operation: OperationName
    summary: str = ""
    error: str | None = None
    details: list[str] = field(default_factory=list)
    snapshot: Snapshot | None = None  # the state read right after the operation, in the same worker
    outcome: Outcome = Outcome.OK


class ChangesSeen(Message):
    """The change stream saw changes (their kinds wait in the app's live buffer: one message at a time)."""


@dataclass
class WatchStarted(Message):
    """The change stream is open: changes after `opened_at` (time.monotonic()) are seen."""

    opened_at: float


@dataclass
class WatchStopped(Message):
    """The change stream could not start (`started` False: e.g. a standalone server) or failed later."""

    error: str
    started: bool


@dataclass
class LiveReloadDone(Message):
    """A reload asked for by the change stream ended (read or failed): the next one may start."""

    kinds: frozenset[str]


__all__ = ["Snapshot"]  # defined beside the decisions over it (state.py); imported from here too
