"""Messages that carry engine results from worker threads to the UI thread.

`post_message` is thread-safe and never blocks a worker, so the engine can keep running while the
UI catches up. Chatty engine events are buffered by the bridge and announced with one
`EngineActivity` message at a time (bursts coalesce into a single UI update).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

from runway_tui.engine.connection import ServerInfo
from runway_tui.engine.models import LockInfo, MigrationAuditlogEntry, Plan, StatusReport
from runway_tui.tui.state import Outcome

if TYPE_CHECKING:
    from runway_tui.tui.state import Override, PlanRequest


@dataclass
class Snapshot:
    """What the header and the migrations pane show: cheap to read, read after every step and poll."""

    status: StatusReport
    lock: LockInfo | None
    read_at: float = 0.0  # time.monotonic() when the read started: an older read never replaces a newer one


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


class EngineConnected(Message):
    """The engine connected (the constructor of MigrationApp returned)."""

    def __init__(self, server: ServerInfo, address: str) -> None:
        super().__init__()
        self.server = server
        self.address = address


class ConnectionFailed(Message):
    """Connecting, or a later read, could not reach the server."""

    def __init__(self, error: str, initial: bool) -> None:
        super().__init__()
        self.error = error
        self.initial = initial


class StateLoaded(Message):
    def __init__(self, snapshot: Snapshot, reason: str) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.reason = reason


class AuditLoaded(Message):
    def __init__(self, page: AuditPage, reason: str) -> None:
        super().__init__()
        self.page = page
        self.reason = reason


class OverviewLoaded(Message):
    """The database overview, or part of it: `complete` is False while collection statistics are still coming."""

    def __init__(self, rows: list[dict[str, Any]], complete: bool, failed: bool = False) -> None:
        super().__init__()
        self.rows = rows
        self.complete = complete
        self.failed = failed


class LockLoaded(Message):
    def __init__(self, lock: LockInfo | None, read_at: float) -> None:
        super().__init__()
        self.lock = lock
        self.read_at = read_at


class EngineActivity(Message):
    """Engine events are waiting in the bridge's buffer: drain them."""


class PlanReady(Message):
    """A plan was computed for a step the user asked for; the UI asks for confirmation next."""

    def __init__(self, plan: Plan, request: PlanRequest, override: Override | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.request = request
        self.override = override  # the blocked plan, let through by one flag (asked for separately)


class FilesLoaded(Message):
    """The server cannot be reached: the migration files as read from disk (they need no server)."""

    def __init__(self, report: StatusReport) -> None:
        super().__init__()
        self.report = report


class OperationFinished(Message):
    """An operation (planning included) ended; `error` is one line, `outcome` its kind (never parsed)."""

    def __init__(self, operation: str, summary: str = "", error: str | None = None,
                 details: list[str] | None = None, snapshot: Snapshot | None = None,
                 outcome: Outcome = Outcome.OK) -> None:
        super().__init__()
        self.operation = operation
        self.outcome = outcome
        self.summary = summary
        self.error = error
        self.details = details or []
        self.snapshot = snapshot  # the state read right after the operation, in the same worker


class ChangesSeen(Message):
    """The change stream saw changes (their kinds wait in the app's live buffer: one message at a time)."""


class WatchStarted(Message):
    """The change stream is open: changes after `opened_at` (time.monotonic()) are seen."""

    def __init__(self, opened_at: float) -> None:
        super().__init__()
        self.opened_at = opened_at


class WatchStopped(Message):
    """The change stream could not start (`started` False: e.g. a standalone server) or failed later."""

    def __init__(self, error: str, started: bool) -> None:
        super().__init__()
        self.error = error
        self.started = started


class LiveReloadDone(Message):
    """A reload asked for by the change stream ended (read or failed): the next one may start."""

    def __init__(self, kinds: frozenset[str]) -> None:
        super().__init__()
        self.kinds = kinds
