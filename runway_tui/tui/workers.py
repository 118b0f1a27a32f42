"""The engine bridge: every database call runs in a named thread worker and reports back by message.

Workers never touch widgets. Reads (`load-state`) are exclusive, so a newer reload supersedes an
older one (whose result is then dropped). Writes are *not* exclusive: Textual cannot stop a running
thread, so the UI's busy guard, plus the engine's own one-operation-at-a-time lock, keep them single.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from textual import work
from textual.worker import get_current_worker

from runway_tui.engine.errors import RunwayError, StepFailedError
from runway_tui.engine.status import files_status
from runway_tui.tui.audit_search import parse_or_none
from runway_tui.tui.components.audit_pane import PAGE_SIZE as AUDIT_PAGE
from runway_tui.tui.host import Operation
from runway_tui.tui.messages import (
    AuditLoaded,
    AuditPage,
    ConnectionFailed,
    EngineConnected,
    FilesLoaded,
    LockLoaded,
    OperationFinished,
    OverviewLoaded,
    PlanReady,
    Snapshot,
    StateLoaded,
)
from runway_tui.tui.state import OperationName, Outcome, PlanRequest, Reason, find_override, outcome_of

if TYPE_CHECKING:
    from runway_tui.engine.app import MigrationApp
    from runway_tui.engine.models import MigrationAuditlogEntry, StatusReport
    from runway_tui.tui.host import Host




def one_line(exc: BaseException) -> str:
    """RunwayErrors already are one line; anything else is named, never dumped as a traceback."""
    if isinstance(exc, RunwayError):
        return str(exc)
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:500]


def read_page(engine: MigrationApp, limit: int, before: MigrationAuditlogEntry | None = None,
              text: str = "") -> list[MigrationAuditlogEntry]:
    """One audit page by key (the engine reads it from the `date` index); `text` is the pane's filter line:
    free text and `since:`/`until:`/`user:`/`action:` words (tui/audit_search.py)."""
    search = parse_or_none(text)
    return engine.history(limit, before=before, text=search.text or None, **search.filters)


def read_newer(engine: MigrationApp, shown: list[MigrationAuditlogEntry],
               limit: int) -> list[MigrationAuditlogEntry] | None:
    """The audit entries written since the newest one shown (None: too many, read the page)."""
    return engine.history_since(shown, limit)


def _read_failed(host: Host, exc: BaseException, what: str) -> None:
    """A read in a worker failed: a lost server becomes the disconnected state, anything else a log line."""
    if get_current_worker().is_cancelled:
        return
    if outcome_of(exc) is Outcome.CONNECTION_LOST:
        host.post_message(ConnectionFailed(one_line(exc), initial=False))
    else:
        host.events.add("error", f"reading {what} failed: {one_line(exc)}")


class EngineWorkers:
    """Mixed into the App: the thread workers, over what `Host` declares (the engine, its factory, the event
    buffer, `post_message`)."""

    @work(thread=True, name="connect", group="engine", exit_on_error=False, description="connecting")
    def connect_engine(self: Host, stale: MigrationApp | None = None) -> None:
        """Connect a new engine; `stale` (one whose embedded daemon died) is closed first, which reaps the
        dead daemon and leaves its registration, so the new engine starts a fresh daemon."""
        if stale is not None:
            try:
                stale.close()
            except Exception as exc:  # noqa: BLE001 - closing a dead engine must not stop the reconnect
                self.events.add("warning", f"closing the lost engine: {one_line(exc)}")
        try:
            engine = self.session.factory()
        except Exception as exc:  # noqa: BLE001 - RunwayError, or a bug: either way one line, and retry
            self.post_message(ConnectionFailed(one_line(exc), initial=True))
            return
        engine.subscribe(self.events.handle)
        self.engine = engine
        self.post_message(EngineConnected(engine.server_info, engine.shown_address))

    @staticmethod
    def read_snapshot(engine: MigrationApp) -> Snapshot:
        started = time.monotonic()
        return Snapshot(engine.status(), engine.lock_info(), started)

    @work(thread=True, name="load-state", group="reads", exclusive=True, exit_on_error=False,
          description="reading state")
    def load_state(self: Host, reason: Reason) -> None:
        """The status of every migration and the lock: what the header and the migrations pane show."""
        engine = self.engine
        if engine is not None:
            self.post_state(engine, reason)

    def post_state(self: Host, engine: MigrationApp, reason: Reason) -> None:
        """In a worker: read the state and post it (a failed read is one line; nothing once cancelled)."""
        try:
            snapshot = self.read_snapshot(engine)
        except Exception as exc:  # noqa: BLE001 - the engine raises RunwayError; a bug is one line too
            _read_failed(self, exc, "state")
            return
        if not get_current_worker().is_cancelled:
            self.post_message(StateLoaded(snapshot, reason))

    @work(thread=True, name="load-lock", group="lock", exclusive=True, exit_on_error=False,
          description="reading the lock")
    def load_lock(self: Host) -> None:
        """Only the lock (one small read): shown in the header while our own step holds it."""
        engine = self.engine
        if engine is None or self.snapshot is None:
            return
        try:
            started = time.monotonic()
            lock = engine.lock_info()
        except Exception:  # noqa: BLE001
            return  # the step itself reports a lost server
        if not get_current_worker().is_cancelled:
            self.post_message(LockLoaded(lock, started))

    @work(thread=True, name="load-audit", group="audit", exclusive=True, exit_on_error=False,
          description="reading the audit log")
    def load_audit(self: Host, before: MigrationAuditlogEntry | None, text: str, index: int,
                   shown: AuditPage | None = None) -> None:
        """One page by key: `AUDIT_PAGE + 1` entries older than `before`; the extra one only says "more".
        With `shown` (the newest page, unfiltered, on screen), only the entries written since are read."""
        engine = self.engine
        if engine is None:
            return
        try:
            started = time.monotonic()
            fresh = read_newer(engine, shown.entries, AUDIT_PAGE + 1) if shown is not None else None
            if fresh is not None and shown is not None:
                merged = fresh + shown.entries
                page = AuditPage(merged[:AUDIT_PAGE], shown.has_more or len(merged) > AUDIT_PAGE, before, text,
                                 index, started)
            else:
                entries = read_page(engine, AUDIT_PAGE + 1, before, text)
                page = AuditPage(entries[:AUDIT_PAGE], len(entries) > AUDIT_PAGE, before, text, index, started)
        except Exception as exc:  # noqa: BLE001 - the engine raises RunwayError; a bug is one line too
            _read_failed(self, exc, "the audit log")
            return
        if get_current_worker().is_cancelled:
            return
        self.post_message(AuditLoaded(page))

    @work(thread=True, name="overview", group="overview", exit_on_error=False,
          description="reading the database overview")
    def load_overview(self: Host, previous: list[dict[str, Any]] | None = None) -> None:
        """Collections first (one cheap command), then their statistics one by one, the audit log's last:
        `collStats` costs a scan of the collection on some servers, so the pane fills in as they arrive.
        With `previous`, the audit log's row keeps its figures from there (see `request_overview`)."""
        engine = self.engine
        if engine is None:
            self.post_message(OverviewLoaded([], complete=True, failed=True))  # the pane waits for one
            return
        config = engine.config
        try:
            rows: list[dict[str, Any]] = engine.collections_list()
            kept = {r["name"]: r for r in previous or [] if r["name"] == config.auditlog_collection
                    and r.get("count") is not None}
            for row in rows:
                if row["name"] in kept:
                    row.update(count=kept[row["name"]]["count"], size=kept[row["name"]]["size"],
                               indexes=kept[row["name"]]["indexes"])
            pending = [r for r in rows if r["type"] == "collection" and r["name"] not in kept]
            self.post_message(OverviewLoaded([dict(r) for r in rows], complete=not pending))
            pending.sort(key=lambda r: r["name"] == config.auditlog_collection)  # the big one last
            for index, row in enumerate(pending, start=1):
                row.update(engine.collection_stats(row["name"]))
                if index == len(pending) or row["name"] == config.auditlog_collection or index % 8 == 0:
                    self.post_message(OverviewLoaded([dict(r) for r in rows],
                                                     complete=index == len(pending)))
        except Exception as exc:  # noqa: BLE001 - the engine raises RunwayError; a bug is one line too
            _read_failed(self, exc, "the database overview")
            self.post_message(OverviewLoaded([], complete=True, failed=True))

    @work(thread=True, name="files", group="files", exclusive=True, exit_on_error=False,
          description="reading the migration files")
    def load_files(self: Host) -> None:
        """The files alone, from disk: what pane 1 shows while the server cannot be reached."""
        try:
            report = files_status(self.app_config)
        except Exception as exc:  # noqa: BLE001 - a broken folder is one line in the log
            self.events.add("error", f"reading the migration files failed: {one_line(exc)}")
            return
        self.post_message(FilesLoaded(report))

    @work(thread=True, name="plan", group="engine", exit_on_error=False, description="planning")
    def compute_plan(self: Host, request: PlanRequest, report: StatusReport | None = None) -> None:
        """Always ends with a message (PlanReady or OperationFinished), so the busy state always clears."""
        engine = self.engine
        if engine is None:
            self.post_message(OperationFinished(OperationName.PLAN, error="not connected",
                                                outcome=Outcome.CONNECTION_LOST))
            return
        try:
            report = report or engine.status()
            plan = engine.plan(request.direction, steps=request.steps, to=request.to, all_=request.all_,
                               report=report)
            override = (find_override(report, request, engine.server_info.supports_transactions)
                        if plan.blockers and not request.preview else None)
        except Exception as exc:  # noqa: BLE001 - the engine raises RunwayError; a bug is one line too
            self.post_message(OperationFinished(OperationName.PLAN, error=one_line(exc),
                                                outcome=outcome_of(exc)))
            return
        self.post_message(PlanReady(plan, request, override))

    @work(thread=True, name="operation", group="engine", exit_on_error=False, description="running")
    def run_operation(self: Host, operation: OperationName, call: Operation) -> None:
        """Run one mutating engine call; the busy flag was set on the UI thread before this started."""
        engine = self.engine
        if engine is None:
            self.post_message(OperationFinished(operation, error="not connected",
                                                outcome=Outcome.CONNECTION_LOST))
            return
        with self.session.operating(self.busy or operation):
            _operate(self, engine, operation, call)


def _operate(host: Host, engine: MigrationApp, operation: OperationName, call: Operation) -> None:
    try:
        summary = call(engine)
    except StepFailedError as exc:
        host.post_message(OperationFinished(operation, error=str(exc),
                                            details=[f"completed before the failure: {c}" for c in exc.completed],
                                            snapshot=_snapshot_after(host, engine),
                                            outcome=outcome_of(exc) if outcome_of(exc) is Outcome.PAUSED
                                            else Outcome.FAILED))
        return
    except Exception as exc:  # noqa: BLE001 - a bug in a migration or the engine must not kill the UI
        outcome = outcome_of(exc)
        after = None if outcome is Outcome.CONNECTION_LOST else _snapshot_after(host, engine)
        host.post_message(OperationFinished(operation, error=one_line(exc),
                                            snapshot=after, outcome=outcome))
        return
    host.post_message(OperationFinished(operation, summary=summary,
                                        snapshot=_snapshot_after(host, engine)))

def _snapshot_after(host: Host, engine: MigrationApp) -> Snapshot | None:
    """The new state, read in the same worker right after the operation: the panes show the new version
    with the operation's own message, without a second worker and a second trip through the UI."""
    try:
        started = time.monotonic()
        kept = engine.take_status_after_run()  # a run's: no rescan of every file and record
        if kept is not None:
            return Snapshot(kept, engine.lock_info(), started)
        return host.read_snapshot(engine)
    except Exception:  # noqa: BLE001 - the app reloads the usual way (and reports) when this fails
        return None
