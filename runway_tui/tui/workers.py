"""The engine bridge: every database call runs in a named thread worker and reports back by message.

Workers never touch widgets. Reads (`load-state`) are exclusive, so a newer reload supersedes an
older one (whose result is then dropped). Writes are *not* exclusive: Textual cannot stop a running
thread, so the UI's busy guard, plus the engine's own one-operation-at-a-time lock, keep them single.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pymongo.errors import PyMongoError
from textual import work
from textual.worker import get_current_worker

from runway_tui.engine.errors import (
    EmbeddedServerError,
    RunwayError,
    ServerUnreachableError,
    StepFailedError,
)
from runway_tui.engine.models import Direction
from runway_tui.tui.messages import (
    ConnectionFailed,
    EngineConnected,
    OperationFinished,
    PlanReady,
    Snapshot,
    StateLoaded,
)

if TYPE_CHECKING:
    from runway_tui.engine.app import MigrationApp

AUDIT_PAGE = 50

Operation = Callable[["MigrationApp"], str]


def one_line(exc: BaseException) -> str:
    """RunwayErrors already are one line; anything else is named, never dumped as a traceback."""
    if isinstance(exc, RunwayError):
        return str(exc)
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:500]


class EngineWorkers:
    """Mixed into the App; expects `engine`, `engine_factory`, `events` (EventBuffer) and `post_message`."""

    engine: MigrationApp | None
    engine_factory: Callable[[], MigrationApp]

    @work(thread=True, name="connect", group="engine", exit_on_error=False, description="connecting")
    def connect_engine(self) -> None:
        try:
            engine = self.engine_factory()
        except (RunwayError, PyMongoError) as exc:
            self.post_message(ConnectionFailed(one_line(exc), initial=True))  # type: ignore[attr-defined]
            return
        engine.subscribe(self.events.handle)  # type: ignore[attr-defined]
        self.engine = engine
        self.post_message(EngineConnected(engine.server_info, engine.shown_address))  # type: ignore[attr-defined]

    @work(thread=True, name="load-state", group="reads", exclusive=True, exit_on_error=False,
          description="reading state")
    def load_state(self, reason: str, full: bool, audit_skip: int, audit_filter: str,
                   with_audit: bool = True, previous: Snapshot | None = None) -> None:
        engine = self.engine
        if engine is None:
            return
        worker = get_current_worker()
        try:
            status = engine.status()
            lock = engine.lock_info()
            if with_audit or previous is None:
                text = audit_filter or None
                audit = engine.history(limit=AUDIT_PAGE, skip=audit_skip, text=text)
                total = engine.history_count(text=text)
            else:
                audit, total = previous.audit, previous.audit_total
            overview = engine.database_overview() if full else None
        except (ServerUnreachableError, EmbeddedServerError) as exc:
            if not worker.is_cancelled:
                self.post_message(ConnectionFailed(one_line(exc), initial=False))  # type: ignore[attr-defined]
            return
        except (RunwayError, PyMongoError) as exc:
            if not worker.is_cancelled:
                self.events.add("error", f"reading state failed: {one_line(exc)}")  # type: ignore[attr-defined]
            return
        if worker.is_cancelled:
            return  # a newer reload is on its way
        snapshot = Snapshot(status, lock, audit, total, audit_skip, audit_filter, overview)
        self.post_message(StateLoaded(snapshot, reason))  # type: ignore[attr-defined]

    @work(thread=True, name="plan", group="engine", exit_on_error=False, description="planning")
    def compute_plan(self, request: dict[str, Any]) -> None:
        engine = self.engine
        if engine is None:
            return
        try:
            plan = engine.plan(Direction(request["direction"]), steps=request.get("steps"), to=request.get("to"),
                               all_=request.get("all_", False))
        except (RunwayError, PyMongoError) as exc:
            self.post_message(OperationFinished("plan", error=one_line(exc)))  # type: ignore[attr-defined]
            return
        self.post_message(PlanReady(plan, request))  # type: ignore[attr-defined]

    @work(thread=True, name="operation", group="engine", exit_on_error=False, description="running")
    def run_operation(self, operation: str, call: Operation) -> None:
        """Run one mutating engine call; the busy flag was set on the UI thread before this started."""
        engine = self.engine
        if engine is None:
            self.post_message(OperationFinished(operation, error="not connected"))  # type: ignore[attr-defined]
            return
        try:
            summary = call(engine)
        except StepFailedError as exc:
            self.post_message(OperationFinished(operation, error=str(exc),  # type: ignore[attr-defined]
                                                details=[f"completed before the failure: {c}" for c in exc.completed]))
            return
        except Exception as exc:  # noqa: BLE001 - a bug in a migration or the engine must not kill the UI
            self.post_message(OperationFinished(operation, error=one_line(exc)))  # type: ignore[attr-defined]
            return
        self.post_message(OperationFinished(operation, summary=summary))  # type: ignore[attr-defined]
