"""Messages that carry engine results from worker threads to the UI thread.

`post_message` is thread-safe and never blocks a worker, so the engine can keep running while the
UI catches up. Chatty engine events are buffered by the bridge and announced with one
`EngineActivity` message at a time (bursts coalesce into a single UI update).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from runway_tui.engine.connection import ServerInfo
from runway_tui.engine.models import LockInfo, MigrationAuditlogEntry, Plan, StatusReport


@dataclass
class Snapshot:
    """Everything the panes show, read in one worker pass."""

    status: StatusReport
    lock: LockInfo | None
    audit: list[MigrationAuditlogEntry]
    audit_total: int
    audit_skip: int
    audit_filter: str
    overview: list[dict[str, Any]] | None = None  # None: not reloaded this time (polls skip it)


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


class EngineActivity(Message):
    """Engine events are waiting in the bridge's buffer: drain them."""


class PlanReady(Message):
    """A plan was computed for a step the user asked for; the UI asks for confirmation next."""

    def __init__(self, plan: Plan, request: dict[str, Any]) -> None:
        super().__init__()
        self.plan = plan
        self.request = request


class OperationFinished(Message):
    """A mutating operation ended; `error` is the one-line message of a RunwayError, if any."""

    def __init__(self, operation: str, summary: str = "", error: str | None = None,
                 details: list[str] | None = None) -> None:
        super().__init__()
        self.operation = operation
        self.summary = summary
        self.error = error
        self.details = details or []
