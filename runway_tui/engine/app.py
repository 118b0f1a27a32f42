"""`MigrationApp`: one application (environment) of the config, connected, with every operation.

This is the engine API both front ends use. Inspection (`status`, `plan`, `history`, `server_info`,
`database_overview`) never writes. Mutating operations (`refresh`, `upgrade`, `downgrade`, `mark`,
`accept`, `unlock`, template creation) refuse in read-only mode before touching the server, run one
at a time per app, and take the migration lock for anything that writes state.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import getpass
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pymongo
from bson import ObjectId
from bson.binary import Binary, UuidRepresentation
from pymongo.client_session import ClientSession
from pymongo.errors import ConnectionFailure, PyMongoError

from runway_tui.engine import plugins
from runway_tui.engine.audit_filter import ActionError, AuditFilter
from runway_tui.engine.config import AppConfig
from runway_tui.engine.connection import ServerInfo, make_client, probe_server, unreachable
from runway_tui.engine.embedded import EmbeddedServer
from runway_tui.engine.errors import (
    BlockedError,
    ChangeStreamError,
    LockWaitCancelledError,
    ReadOnlyError,
    RunwayError,
    ServerUnreachableError,
    StepFailedError,
    StepInterruptedError,
    UsageError,
)
from runway_tui.engine.events import (
    ClosingEvent,
    EventBus,
    LockAcquiredEvent,
    LockReleasedEvent,
    LockWaitingEvent,
    LogEvent,
    MigrationEvent,
    PlanComputedEvent,
    RefreshDoneEvent,
    StartingEvent,
    StateChangedEvent,
)
from runway_tui.engine.evidence import Reading
from runway_tui.engine.guard import OwnCollectionsGuard
from runway_tui.engine.lock import MigrationLock, ServerClock
from runway_tui.engine.messages import exception_message, visible
from runway_tui.engine.models import (
    AuditEvidence,
    Direction,
    LockInfo,
    MigrationAuditlogEntry,
    MigrationReadModel,
    MigrationRecord,
    Plan,
    Problem,
    RefreshReport,
    Runner,
    RunResult,
    State,
    StatusReport,
    StepResult,
)
from runway_tui.engine.planner import Expected, plan_steps
from runway_tui.engine.policy import Access, resolve_access
from runway_tui.engine.record_files import file_of
from runway_tui.engine.repository import STATE_CHANGES
from runway_tui.engine.run import commands
from runway_tui.engine.run.deps import RunDeps, RunEvents, RunJournal, RunTarget
from runway_tui.engine.run.loading import ScriptLoader
from runway_tui.engine.run.operation import Operation
from runway_tui.engine.run.session import RunSession
from runway_tui.engine.runner import DATE_FMT, StepRunner, utcnow
from runway_tui.engine.runners import runner_document
from runway_tui.engine.scripts import ScriptDirectory
from runway_tui.engine.state_at import StateAt
from runway_tui.engine.status import compute_status
from runway_tui.engine.storage import store_for
from runway_tui.engine.store import driver_errors
from runway_tui.engine.timespec import TimeSpec, TimeSpecError, resolve_time
from runway_tui.engine.uri import mask_uri, scrub
from runway_tui.version import __version__

if TYPE_CHECKING:
    from runway_tui.engine.watch import ChangeWatch

logger = logging.getLogger("runway_tui")
Clock = Callable[[], dt.datetime]
_UNREAD = object()  # `status()` reads the lease itself


def _identity() -> tuple[str, str]:
    try:
        user = getpass.getuser()
    except Exception:
        user = os.environ.get("USER", "unknown")
    return user, socket.gethostname()


class MigrationApp:
    """A connected application. Use `create_app(...)` or `MigrationApp.open(config)`; close it when done
    (or use it as a context manager)."""

    def __init__(self, config: AppConfig, *, read_only: bool | None = None, clock: Clock | None = None,
                 connect: bool = True, access: Access | None = None, front_end: str = "api",
                 project_code: bool = True) -> None:
        self.config = config
        self.name = config.name
        # who drives this engine: "cli", "tui" or "api"; recorded with the lease, running records and audit entries
        self.front_end = front_end
        self._overrides: tuple[str, ...] = ()  # of the run in progress, recorded with each of its audit entries
        self._planned_at: dt.datetime | None = None  # when this engine last planned (what a person confirms)
        self._waited: tuple[dt.datetime, int | None] | None = None  # our last lock wait: began at, version then
        # read_only: None follows the config (production is read-only); True is --read-only; False is --write
        # `access`: decided by a front end from its flags (see engine/policy.py)
        self.access = access or resolve_access(config, read_only_flag=read_only is True,
                                               write_flag=read_only is False)
        # `project_code=False`: a probe (the TUI's application list) runs none of the project's code: no
        # `app_events` handler is imported or called; it must be read-only too, so no migration file runs.
        if not project_code and not self.access.read_only:
            raise ValueError("an engine that runs no project code must be read-only")
        self.project_code = project_code
        self.read_only = self.access.read_only
        self.events = EventBus()
        # Dates we write (audit entries, records) come from the server's clock, as the lease's do, so that
        # history is ordered and complete whatever the runners' clocks say; `clock` overrides it (tests).
        self.clock: Clock = clock or self._server_now
        self.user, self.host = _identity()
        self.session_id = Binary.from_uuid(uuid.uuid4(), UuidRepresentation.STANDARD)
        # The date of each version's newest state-changing audit entry, read under the lock by the last plan:
        # our next entry for that version is dated after it (see `audit_entry`).
        self._evidence_dates: dict[int, dt.datetime] = {}
        # The evidence as read under the current lock, and our state changes since (see `_keep_evidence`)
        self._reading: Reading | None = None
        self._written: dict[int, AuditEvidence] = {}
        # The scan cache lives beside the config (like the embedded data); it is content-addressed.
        self.scripts = ScriptDirectory.for_app(config)
        self._operation = threading.Lock()
        self._cancel_wait = threading.Event()  # set by cancel_lock_wait() from another thread
        self._closed = False
        self._indexes_ready = False
        # The status right after our last run, built from the run's own status and the records it changed
        # (re-read by id): a front end shows it instead of rescanning every file and re-reading every record.
        self._status_after_run: StatusReport | None = None
        self._embedded: EmbeddedServer | None = None
        self._server_info: ServerInfo | None = None
        self.sessions: RunSession | None = None  # the operation's session while it holds the lock (connect)
        self.session: Any = plugins.session_for(self)  # Mongorunway's `app.session` accessors (compat fills it)
        if project_code:  # e.g. a mongorunway.yaml's app_events, subscribed before StartingEvent
            for hook in plugins.startup_hooks():
                hook(self)
        if connect:
            self.connect()

    # ------------------------------------------------------------------ lifecycle
    def connect(self) -> None:
        """Start the embedded daemon if configured, connect, and learn the server's capabilities."""
        uri = self.config.uri
        shown = mask_uri(uri)  # shown_address is displayed by the front ends: never the password
        if self.config.is_embedded:
            self._embedded = EmbeddedServer(self.config.embedded_dir, self.config.timeouts.embedded_start_s,
                                            grace_s=self.config.timeouts.embedded_grace_s)
            uri = self._embedded.start()
            shown = f"embedded ({uri.split('?')[0]})"
        self.shown_address = shown
        # Sees what a migration sends through `ctx` to runway's own collections (engine/guard.py)
        self.guard = OwnCollectionsGuard()
        self.client = make_client(uri, self.config, event_listeners=[self.guard],
                                  **({"directConnection": True} if self.config.is_embedded else {}))
        try:
            self._server_info = probe_server(self.client, self.config, shown)
        except RunwayError:
            self.client.close()
            if self._embedded:
                self._embedded.stop()
            raise
        self.database = self.client[self.config.database]
        # ours, or Mongorunway's exact shapes with our fields beside them (compat: mongorunway)
        self.store = store_for(self.config, self.client, self.database,
                               combined=self.server_info.supports_client_bulk_write)
        self.repository, self.journal, self.sources = self.store.records, self.store.audit, self.store.sources
        assert self.store.evidence is not None
        self.evidence = self.store.evidence
        timeouts = self.config.timeouts
        self.lock = MigrationLock(self.store.lease,
                                  ServerClock(lambda: self.client.admin.command("hello"), self.server_info.local_time),
                                  user=self.user, host=self.host, pid=os.getpid(),
                                  ttl_s=timeouts.lock_ttl_s, wait_s=timeouts.lock_wait_s, client=self.front_end)
        # the one answer to "which collections are runway's": the watch, pane 2, the explorer and the guard
        self.own_collections = self.store.own_collections()
        self.guard.configure(self.database.name, self.own_collections.names)
        self.sessions = RunSession(self.client)
        self.runner = StepRunner(self._run_deps())
        self.operation = self._operation_context()
        self.emit(StartingEvent(self))

    def _run_deps(self) -> RunDeps:
        """What the step runner may use (engine/run/deps.py): the store, the lease, the session, the clock..."""
        assert self.sessions is not None
        config = self.config
        target = RunTarget(self.database, self.client, self.name, self.server_info.supports_transactions,
                           self.session_id.hex(), (config.config_path.parent, config.scripts_dir.parent),
                           config.config_path.parent)
        journal = RunJournal(self.audit_entry, self.evidence_written, self.runner_document, self.collections_changed)
        return RunDeps(self.store, self.lock, RunEvents(self, self.emit, self.log), self.now, lambda: self.identity,
                       self.sessions, self.redact, ScriptLoader(), self.guard, target, journal)

    @classmethod
    def open(cls, config: AppConfig, **kwargs: Any) -> MigrationApp:
        return cls(config, **kwargs)

    def close(self) -> None:
        """Release everything; the ClosingEvent handlers run exactly once."""
        if self._closed:
            return
        self._closed = True
        try:
            self.emit(ClosingEvent(self))
        finally:
            with contextlib.suppress(Exception):
                self.lock.release()
            with contextlib.suppress(Exception):
                self.runner.close()
            with contextlib.suppress(Exception), pymongo.timeout(1.0):  # endSessions must not hang on a dead server
                self.client.close()
            if self._embedded:
                self._embedded.stop()

    def __enter__(self) -> MigrationApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    # ------------------------------------------------------------------ events
    def listen(self, *event_types: type[MigrationEvent]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self.events.listen(*event_types)

    def subscribe(self, handler: Callable[..., Any], *event_types: type[MigrationEvent]) -> Callable[..., Any]:
        return self.events.subscribe(handler, *event_types)

    def unsubscribe(self, handler: Callable[..., Any]) -> None:
        self.events.unsubscribe(handler)

    def emit(self, event: MigrationEvent) -> None:
        self.events.dispatch(event)

    def log(self, level: str, message: str) -> None:
        message = self.redact(message)
        logger.log(logging.getLevelName(level.upper()) if isinstance(  # a log record may reach a terminal
            logging.getLevelName(level.upper()), int) else logging.INFO, visible(message))
        self.emit(LogEvent(self, level, message))

    # ------------------------------------------------------------------ small helpers
    def holds(self, lock: LockInfo | None) -> bool:
        """Whether `lock` (as read by `lock_info`) is this app's own lease."""
        return lock is not None and lock.owner == self.lock.owner

    @property
    def identity(self) -> str:
        return f"{self.user}@{self.host}"

    def now(self) -> dt.datetime:
        return self.clock()

    def _server_now(self) -> dt.datetime:
        """The server's time (estimated from `hello.localTime` and our monotonic clock), in BSON's milliseconds."""
        if not hasattr(self, "lock"):  # not connected: nothing better than our own clock
            return utcnow()
        now = self.lock.clock.now()
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    def redact(self, text: str) -> str:
        return scrub(text, self.config.secrets)

    @property
    def server_info(self) -> ServerInfo:
        assert self._server_info is not None
        return self._server_info

    def runner_document(self) -> dict[str, Any]:
        """Who runs the step about to mark its record `applying`/`reverting` (engine/runners.py)."""
        return runner_document(owner=self.lock.owner, user=self.user, host=self.host, pid=self.lock.pid,
                               client=self.front_end, since=self.now())

    def audit_entry(self, transaction_name: str, model: MigrationReadModel | None, *, duration_ms: int | None = None,
                    exc: BaseException | None = None, detail: str | None = None,
                    runner: Runner | None = None, entry_id: Any = None) -> MigrationAuditlogEntry:
        """An entry by us (or, with `runner`, about an attempt of that runner's that we found abandoned);
        `entry_id`: a step's attempt has one, so that its failure replaces a success written first."""
        date = self.now()
        previous = self._evidence_dates.get(model.version) if model is not None else None
        if previous is not None and date <= previous:
            # Runners estimate the server's clock, each a few milliseconds off: the runner that took the lock
            # after another could date its entry before the other's. Entries about one version are kept in the
            # order they happened (the lock serialises them), so the newest is the audit log's evidence.
            date = previous + dt.timedelta(milliseconds=1)
        return MigrationAuditlogEntry(
            session_id=self.session_id, transaction_name=transaction_name, migration_read_model=model,
            date_fmt=self.config.date_format or DATE_FMT, date=date, exc_name=type(exc).__name__ if exc else None,
            exc_message=exception_message(exc, self.redact) if exc else None, duration_ms=duration_ms,
            user=runner.user if runner else self.user, host=runner.host if runner else self.host,
            engine_version=__version__, client=runner.client if runner else self.front_end,
            pid=runner.pid if runner else self.lock.pid, overrides=() if runner else self._overrides,
            detail=self.redact(detail) if detail else None, id=entry_id if entry_id is not None else ObjectId())

    @contextlib.contextmanager
    def _writing(self, action: str, name: str, *, lease: bool = True, exclusive: bool = True,
                 connection: bool = True, exclusive_as: str | None = None) -> Iterator[None]:
        """The ritual of every writing operation, once: refused when read-only, one at a time, under the
        migration lock (`lease`), driver errors translated (`connection`)."""
        self._writable(action)
        with contextlib.ExitStack() as stack:
            if exclusive:
                stack.enter_context(self._exclusive(exclusive_as or name))
            if lease:
                stack.enter_context(self._locked(name))
            if connection:
                stack.enter_context(self._guard_connection())
            yield

    def _operation_context(self) -> Operation:
        """What the command functions (engine/run/commands.py) work with."""
        return Operation(self._writing, self.store, self.lock, self.scripts, self.config.scripts_dir,
                         lambda: self.identity, self.now, lambda: self._sync()[1], self.status,
                         lambda: self._read_evidence(under_lock=True), self._keep_evidence, self.audit_entry,
                         self.evidence_written, self.log, lambda name: self.emit(StateChangedEvent(self, name)))

    def _writable(self, action: str) -> None:
        if self.read_only:
            raise ReadOnlyError(f"application {self.name!r} is read-only: refusing to {action} "
                                f"({self.access.reason})")

    @contextlib.contextmanager
    def _exclusive(self, action: str) -> Iterator[None]:
        """One engine operation at a time per app, refused (not queued) when busy."""
        if not self._operation.acquire(blocking=False):
            raise UsageError(f"cannot {action}: another operation is running")
        self._status_after_run = None  # whatever this operation changes, the kept status no longer says it
        try:
            yield
        finally:
            self._operation.release()

    @contextlib.contextmanager
    def _locked(self, operation: str) -> Iterator[None]:
        """Hold the migration lock (waiting a bounded time) and make sure our indexes exist."""
        self._cancel_wait.clear()
        self._waited = None
        self._reading, self._written = None, {}
        told: list[bool] = []

        def waiting(holder: LockInfo, waited: float) -> None:
            if self._waited is None:  # where the database stood: a run overtaken meanwhile says so (engine/moved.py)
                with contextlib.suppress(PyMongoError):
                    self._waited = (self.lock.clock.now(), self.repository.current_version())
            if self._cancel_wait.is_set():
                raise LockWaitCancelledError(f"cancelled while waiting for the migration lock held by "
                                             f"{holder.holder} ({waited:.0f}s); nothing was run")
            self.emit(LockWaitingEvent(self, holder, waited))  # every second: front ends update one line
            dead = holder.looks_dead
            if len(told) < 1 + dead:  # the log says it once, and once more when the holder looks dead
                told.extend([True] * (1 + dead - len(told)))
                self.log("warning", _waiting_line(holder, self.lock.wait_s, self.lock.clock.now()))

        # One session for the whole operation: each step's transaction runs on it, and its id is
        # written with the lease (no extra round trip) so a runner taking over after a crash can end it.
        assert self.sessions is not None
        session = self.sessions.open()
        try:
            with self._guard_connection("to take the migration lock"):
                self.lock.acquire(operation, waiting, txn_session=session.session_id)
        except BaseException:
            self.sessions.end()
            raise
        self.emit(LockAcquiredEvent(self, operation))
        try:
            with self._guard_connection("to create the engine's indexes"):
                if not self._indexes_ready:
                    self.store.ensure_indexes()
                    self._indexes_ready = True
            if self.lock.took_over is not None:
                with self._guard_connection("to record the lease taken over"):
                    self._record_take_over(self.lock.took_over, operation)
            yield
        finally:
            self.lock.release()
            self.sessions.end()
            self.emit(LockReleasedEvent(self, operation))

    def _record_take_over(self, previous: LockInfo, operation: str) -> None:
        """The audit log says that a runner left its lease unreleased and that we took it over."""
        since = f" since {previous.acquired_at:%Y-%m-%d %H:%M:%S} UTC" if previous.acquired_at else ""
        expired = f" at {previous.expires_at:%Y-%m-%d %H:%M:%S} UTC" if previous.expires_at else ""
        detail = (f"lease expired unreleased: {previous.who} held it for '{previous.operation}'{since}, and it "
                  f"expired{expired}; taken over for '{operation}'")
        self.journal.append(self.audit_entry("LeaseTakenOverTransaction", None, detail=detail))
        self.log("warning", f"took over the migration lock: {detail}")

    def cancel_lock_wait(self) -> None:
        """Stop waiting for another runner's lock (thread-safe): the waiting operation raises
        LockWaitCancelledError within about a second and runs nothing. No effect once the lock is held."""
        self._cancel_wait.set()

    @property
    def run_session(self) -> ClientSession | None:
        """The session of the operation holding the lock (engine/run/session.py owns and replaces it)."""
        return self.sessions.current if self.sessions is not None else None

    @contextlib.contextmanager
    def _guard_connection(self, doing: str = "") -> Iterator[None]:
        """Driver connection errors become one clear 'cannot reach the server' error; any other server
        error one line saying what was being done (never an 'internal error' with a traceback)."""
        with driver_errors.translated(doing, address=self.shown_address, redact=self.redact,
                                      application=self.config.name):
            yield

    # ------------------------------------------------------------------ inspection (never writes)
    def status(self, lease: LockInfo | None | object = _UNREAD) -> StatusReport:
        """Files and records compared; the lease (read with them, or `lease` as just read by `lock_info`) tells
        a step running elsewhere from an interrupted one."""
        scripts = self.scripts.scan()
        with self._guard_connection():
            records = self.repository.all()
            if lease is _UNREAD:
                lease = self.lock.info()
            evidence = self._read_evidence()
        return compute_status(scripts, records, lease if isinstance(lease, LockInfo) else None, evidence=evidence)

    def plan(self, direction: Direction | str = Direction.UP, *, steps: int | None = None, to: int | None = None,
             all_: bool = False, ignore_drift: bool = False, allow_out_of_order: bool = False,
             group: bool | None = None, report: StatusReport | None = None) -> Plan:
        """`group`: the whole run in one transaction (None: the application's `group` setting)."""
        self._planned_at = self.lock.clock.now()  # a person may confirm this plan: its run says what moved since
        return self._plan(Direction(direction), steps=steps, to=to, all_=all_, ignore_drift=ignore_drift,
                          allow_out_of_order=allow_out_of_order, group=group, report=report)

    def _plan(self, direction: Direction, *, steps: int | None = None, to: int | None = None, all_: bool = False,
              ignore_drift: bool = False, allow_out_of_order: bool = False, group: bool | None = None,
              report: StatusReport | None = None) -> Plan:
        plan = plan_steps(report or self.status(), Direction(direction), steps=steps, to=to, all_=all_,
                          ignore_drift=ignore_drift, allow_out_of_order=allow_out_of_order,
                          supports_transactions=self.server_info.supports_transactions)
        if self.config.group if group is None else group:
            plan = dataclasses.replace(plan, group=True)
            plan.blockers.extend(self._group_blockers(plan))
        self.emit(PlanComputedEvent(self, plan))
        return plan

    def _group_blockers(self, plan: Plan) -> list[str]:
        """Why this run cannot be one transaction: a file opts out of them. A server without transactions cannot
        do it at all: a usage error (exit 2), whatever the database holds."""
        if not plan.steps:
            return []
        if not self.server_info.supports_transactions:
            raise UsageError(f"--group runs the whole run in one transaction, and the server at {self.shown_address} "
                             f"has no transactions ({self.server_info.topology}); drop --group (or set group: false "
                             f"for application {self.name!r})")
        return [f"--group: {s.name} sets transactional = False, so it cannot run inside the run's transaction; "
                "drop --group, or run it on its own first" for s in plan.steps if not s.transactional]

    def _read_evidence(self, under_lock: bool = False) -> dict[int, AuditEvidence]:
        """What the audit log says of every version (engine/evidence.py), compared with the records by
        `compute_status`: a record lost or rewritten behind the engine's back blocks every run. Our next entry
        about a version is dated after its newest (see `audit_entry`). `under_lock`: read by the operation
        holding the lock, so nobody else writes state changes until it ends: kept for `_keep_evidence`."""
        with self._guard_connection("to read the audit log"):
            reading = self.evidence.read()
        if under_lock:
            self._reading, self._written = reading, {}
        self._evidence_dates = {v: e.date for v, e in reading.evidence.items() if e.date is not None}
        return reading.evidence

    def evidence_written(self, entry: MigrationAuditlogEntry) -> None:
        """Our entry is in the log (committed): the evidence read under this lock plus it is the evidence now."""
        model = entry.migration_read_model
        state = STATE_CHANGES.get(entry.transaction_name)
        if model is not None and state is not None and entry.succeeded and self._reading is not None:
            self._written[model.version] = AuditEvidence(model.version, state, entry.transaction_name, entry.date,
                                                         entry.user, entry.host, entry.id)

    def _keep_evidence(self) -> None:
        """Under the lock, after an operation that wrote to the audit log: the evidence summary brought up to
        date when it is due (engine/evidence.py), then the log trimmed to `auditlog_limit`, never a version's
        evidence. Best effort: a failure here loses nothing (the log itself is the evidence)."""
        if self.lock.lost_reason is not None:  # no longer ours to write: the next holder does it
            return
        with contextlib.suppress(PyMongoError):
            reading = self._reading or self.evidence.read()
            if self._written:
                reading = dataclasses.replace(reading, evidence={**reading.evidence, **self._written})
            self.evidence.seal(reading, self.now())
            self.journal.trim({e.entry_id for e in reading.evidence.values()})

    def collections_changed(self) -> None:
        """A migration changed runway's collections (engine/guard.py): indexes are made again at the next lock."""
        self._indexes_ready = False

    def lock_info(self) -> LockInfo | None:
        with self._guard_connection():
            return self.lock.info()

    def history(self, limit: int | None = 10, skip: int = 0, *, ascending: bool = False, version: int | None = None,
                text: str | None = None, before: MigrationAuditlogEntry | None = None,
                since: dt.datetime | TimeSpec | str | None = None, until: dt.datetime | TimeSpec | str | None = None,
                user: str | None = None, action: str | Iterable[str] | None = None) -> list[MigrationAuditlogEntry]:
        """Audit entries, newest first; page with `before=<last entry shown>` (keyset, no skipping).

        `since`/`until` (inclusive): a datetime (naive is UTC), or text such as "2026-03-14T09:30" or "2h"
        (two hours before the server's now); `user`: "alice" or "alice@host"; `action`: "up", "mark",
        "accept drift"... (comma-separated for several). All are one query the server answers from the
        `date` index. A value that does not parse raises UsageError."""
        where = self.audit_filter(since=since, until=until, user=user, action=action)
        with self._guard_connection():
            return self.journal.history(limit=limit, skip=skip, ascending=ascending, version=version, text=text,
                                        before=before, now=self.lock.clock.now(), where=where)

    def audit_filter(self, *, since: dt.datetime | TimeSpec | str | None = None,
                     until: dt.datetime | TimeSpec | str | None = None, user: str | None = None,
                     action: str | Iterable[str] | None = None) -> AuditFilter:
        """The filter `history` applies, its times resolved against the server's clock (UsageError: bad input)."""
        now = self.now()
        times = {}
        for name, value in (("since", since), ("until", until)):
            try:
                times[name] = resolve_time(value, now)
            except TimeSpecError as exc:
                raise UsageError(f"{name}: {exc}") from None
        try:
            return AuditFilter.of(times["since"], times["until"], user, action)
        except ActionError as exc:
            raise UsageError(f"action: {exc}") from None

    def state_at(self, at: dt.datetime | TimeSpec | str) -> StateAt:
        """Which versions were applied at `at`, from the audit log alone (engine/state_at.py)."""
        try:
            moment = resolve_time(at, self.now())
        except TimeSpecError as exc:
            raise UsageError(f"at: {exc}") from None
        assert moment is not None
        with self._guard_connection("to read the audit log"):
            return StateAt.of(moment, self.journal.states_at(moment))

    def history_since(self, shown: list[MigrationAuditlogEntry], limit: int) -> list[MigrationAuditlogEntry] | None:
        """The entries written after the newest of `shown`, newest first; None when there are `limit` or more."""
        with self._guard_connection():
            return self.journal.newer_than(shown, limit)

    def stored_source(self, version: int, checksum: str) -> str | None:
        """The text that was applied as `version` with `checksum`, or None (applied before sources were kept,
        by another tool, or too large to keep)."""
        with self._guard_connection():
            return self.sources.find(version, checksum)

    def history_count(self, version: int | None = None, text: str | None = None) -> int:
        with self._guard_connection():
            return self.journal.count(version=version, text=text)

    def watch_changes(self) -> ChangeWatch:
        """A change stream on runway's own collections, already open (engine/watch.py): another operator's
        changes from now on. Raises ChangeStreamError where there is none (a standalone server)."""
        from runway_tui.engine.watch import ChangeWatch

        if not self.server_info.supports_change_streams:
            raise ChangeStreamError(f"the server at {self.shown_address} is {self.server_info.topology}: no change "
                                    "streams")
        return ChangeWatch(self.database, self.own_collections.meanings(), self.shown_address, self.redact).open()

    def ping(self) -> bool:
        try:
            self.client.admin.command("ping")
            return True
        except PyMongoError:
            return False

    # ------------------------------------------------------------------ commands
    def create_migration_file_template(self, name: str, description: str | None = None) -> Path:
        """A new migration file from the template (files only: works before `connect`)."""
        self._writable("create a migration file")
        path = self.scripts.create_template(name, description)
        self.log("info", f"created {path}")
        return path

    def refresh(self) -> RefreshReport:
        """Synchronise files with the migrations collection (one bulk write) and report what was found."""
        with self._writing("refresh the migrations collection", "refresh"):
            report, _status = self._sync()
            self._keep_evidence()  # a log older than its summary gets one (engine/evidence.py)
        self.emit(RefreshDoneEvent(self, report))
        self.emit(StateChangedEvent(self, "refresh"))
        return report

    def _sync(self) -> tuple[RefreshReport, StatusReport]:
        """Write what refresh found (one bulk write, none when in sync); return it and the status after."""
        scripts = self.scripts.scan()
        evidence = self._read_evidence(under_lock=True)
        status = compute_status(scripts, self.repository.all(), evidence=evidence)
        new: list[MigrationRecord] = []
        updates: dict[int, dict[str, Any]] = {}
        removals: list[int] = []
        report = RefreshReport(broken=[f"{r.script.path.name}: {r.script.problem}" for r in status.rows
                                       if r.script is not None and r.script.is_broken],
                               out_of_order=[r.version for r in status.with_problem(Problem.OUT_OF_ORDER)
                                             if r.version is not None])
        for row in status.rows:
            script, record, version = row.script, row.record, row.version
            if version is None or (script is not None and script.is_broken):
                continue
            if script is not None and record is None:
                new.append(MigrationRecord(version, script.name, script.checksum or "", script.description, False))
                report.new.append(version)
            elif script is not None and record is not None and record.state is State.PENDING and not record.is_applied:
                if (record.checksum, record.name, record.description) != (script.checksum, script.name,
                                                                         script.description):
                    updates[version] = {"checksum": script.checksum, "name": script.name,
                                        "description": script.description}
                    report.updated.append(version)
            elif script is None and record is not None:
                if record.state is not State.PENDING or record.is_applied:
                    report.orphans.append(version)  # never removed here: 'forget VERSION' does, audited
                elif file_of(record, scripts, self.config.scripts_dir) is not None:
                    report.kept.append(version)  # a file that may be its own exists: never lose its state
                else:
                    removals.append(version)
                    report.removed.append(version)
            if Problem.DRIFT in row.problems and version is not None:
                report.drift.append(version)
        self.repository.sync(new, updates, removals)
        self._record_abandoned(status)
        if report.changed_anything:
            self.log("info", f"refresh: {len(report.new)} new, {len(report.updated)} updated, "
                             f"{len(report.removed)} removed")
            status = compute_status(scripts, self.repository.all(), evidence=evidence)
        return report, status

    def _record_abandoned(self, status: StatusReport) -> None:
        """Under our lock, a step still `applying`/`reverting` was abandoned by its runner (killed, or it lost its
        lease): the audit log says so once, as that runner's failed attempt, when we first find it."""
        for row in status.rows:
            record, activity = row.record, row.activity
            if record is None or activity is None or activity.live or (record.runner or {}).get("noted_at"):
                continue
            runner = activity.runner
            since = f" since {runner.since:%Y-%m-%d %H:%M:%S} UTC" if runner and runner.since else ""
            by = f" by {runner.label}" if runner else ""
            detail = (f"{activity.direction.value} {record.name}{by}{since} never finished: {activity.gone}; found "
                      f"by {self.identity} (pid {self.lock.pid}, {self.front_end}); its effects may remain")
            entry = self.audit_entry("AbandonedStepTransaction", record.read_model, runner=runner)
            self.journal.append(dataclasses.replace(entry, exc_name="AbandonedAttempt", exc_message=detail))
            self.repository.update(record.version, {"runner": {**(record.runner or {}), "noted_at": self.now()}})
            self.log("warning", f"found an abandoned attempt: {detail}")

    def _after(self, report: StatusReport, versions: list[int]) -> StatusReport:
        """`report` (read under the lock) with the records of `versions` read again: one query of the records
        the run touched, no file scan (the run changed no file)."""
        changed = {r.version: r for r in self.repository.some(versions)} if versions else {}
        scripts = [r.script for r in report.rows if r.script is not None]
        records = {r.record.version: r.record for r in report.rows if r.record is not None}
        records.update(changed)
        for version in versions:
            if version not in changed:
                records.pop(version, None)
        return compute_status(scripts, sorted(records.values(), key=lambda r: r.version))

    def take_status_after_run(self) -> StatusReport | None:
        """The status right after this app's last run, once (None: read `status()`). Only our own lock was
        held until then, so it is the state as of the run's end; anything after is for the next poll."""
        report, self._status_after_run = self._status_after_run, None
        return report

    def upgrade(self, *, steps: int | None = None, to: int | None = None, all_: bool = False,
                ignore_drift: bool = False, allow_out_of_order: bool = False,
                expect: Expected | None = None, group: bool | None = None) -> RunResult:
        """`expect`: what a person confirmed (`Expected.of(plan)`); anything else is refused, nothing runs.
        `group`: the whole run in one transaction, all or nothing (None: the application's `group`)."""
        return self._run(Direction.UP, expect, steps=steps, to=to, all_=all_, ignore_drift=ignore_drift,
                         allow_out_of_order=allow_out_of_order, group=group)

    def downgrade(self, *, steps: int | None = None, to: int | None = None, all_: bool = False,
                  ignore_drift: bool = False, expect: Expected | None = None, group: bool | None = None) -> RunResult:
        return self._run(Direction.DOWN, expect, steps=steps, to=to, all_=all_, ignore_drift=ignore_drift,
                         group=group)

    def upgrade_once(self) -> int:
        return len(self.upgrade().completed)

    def downgrade_once(self) -> int:
        return len(self.downgrade().completed)

    def upgrade_to(self, version: int) -> int:
        return len(self.upgrade(to=version).completed)

    def downgrade_to(self, version: int) -> int:
        return len(self.downgrade(to=version).completed)

    def upgrade_all(self) -> int:
        return len(self.upgrade(all_=True).completed)

    def downgrade_all(self) -> int:
        return len(self.downgrade(all_=True).completed)

    def _run(self, direction: Direction, expect: Expected | None = None, **request: Any) -> RunResult:
        with self._writing(f"run {direction.value} steps", direction.value, exclusive_as=f"run {direction.value}"):
            planned_at = self._planned_at
            _refresh, report = self._sync()  # a new file is pending without a separate refresh, same lock
            rows = {r.version: r for r in report.rows if r.script is not None and not r.script.is_broken}
            try:
                plan = self._plan(direction, report=report, **request)
            except UsageError:
                if not self._moved_since_wait(report):
                    raise
                raise self._database_moved(direction, report, request, expect, planned_at) from None
            if expect is not None and Expected.of(plan) != expect:  # under the lock: nobody moves it after this
                raise self._database_moved(direction, report, request, expect, planned_at)
            if plan.blockers:
                raise BlockedError(f"refusing to run {direction.value}: " + "; ".join(plan.blockers))
            for warning in plan.warnings:
                self.log("warning", warning)
            self._overrides = _overrides_of(plan, request, self.access)
            completed: list[StepResult] = []
            self.runner.begin_run()
            try:
                if plan.group and plan.steps:
                    completed = self.runner.run_group(plan.steps, rows)
                for index, step in enumerate([] if plan.group else plan.steps, start=1):
                    self.lock.check()
                    completed.append(self.runner.run(step, rows.get(step.version), index, len(plan.steps)))
            except StepFailedError as exc:
                done = [f"{r.step.direction.value} {r.step.name}" for r in completed]
                summary = f" (completed before it: {', '.join(done)})" if done else " (no step completed)"
                if isinstance(exc.__cause__, ConnectionFailure):  # the server went away mid-step: exit 5
                    lost = unreachable(self.shown_address, exc.__cause__, self.config)
                    raise ServerUnreachableError(f"{lost}; the step in progress was not recorded as done"
                                                 + summary) from exc
                kind = StepInterruptedError if isinstance(exc, StepInterruptedError) else StepFailedError
                raise kind(str(exc) + summary, done) from exc
            finally:
                self._overrides = ()
                self.lock.announce(None)
                if not self.runner.tampered:  # else a migration changed the records: nothing kept is true
                    with contextlib.suppress(PyMongoError), pymongo.timeout(2.0):  # the server may be gone
                        self._status_after_run = self._after(report, [s.version for s in plan.steps])
                self.emit(StateChangedEvent(self, direction.value))
                if plan.steps:
                    self._keep_evidence()
            return RunResult(plan, completed, completed[-1].step.to_version if completed else plan.current_version)

    def _moved_since_wait(self, report: StatusReport) -> bool:
        return self._waited is not None and self._waited[1] != report.current_version

    def _database_moved(self, direction: Direction, report: StatusReport, request: dict[str, Any],
                        expect: Expected | None, planned_at: dt.datetime | None) -> RunwayError:
        """Who moved the database (from the audit log, since the confirmed plan or our wait), to what, and the fresh
        plan; never the planner's advice to step the other way (engine/moved.py)."""
        from runway_tui.engine.moved import database_moved, fresh_plan, moves_since

        waited = self._waited is not None
        starts = [t for t in (planned_at if expect is not None else None, self._waited[0] if self._waited else None)
                  if t is not None]
        moves = moves_since(self.journal, min(starts)) if starts else []
        fresh = fresh_plan(report, direction, request, expect, self.server_info.supports_transactions)
        return database_moved(report, direction, request, expect, moves, fresh, waited)

    def mark(self, version: int, *, applied: bool) -> MigrationRecord:
        """Record a migration as applied or pending without running it (audited)."""
        return commands.mark(self.operation, version, applied=applied)

    def baseline(self, to: int) -> list[int]:
        """Record every version up to `to` as applied without running it (engine/run/commands.py)."""
        return commands.baseline(self.operation, to)

    def accept(self, version: int) -> MigrationRecord:
        """Accept an applied migration's edited file: store its current checksum (audited)."""
        return commands.accept(self.operation, version)

    def forget(self, version: int) -> MigrationRecord:
        """Remove the record of a migration whose file is gone (an orphan), without running anything (audited)."""
        return commands.forget(self.operation, version)

    def unlock(self, *, force: bool = False) -> LockInfo | None:
        """Remove an expired lease, or any lease with `force` (audited). Returns what was removed."""
        return commands.unlock(self.operation, force=force)

    # ------------------------------------------------------------------ database overview (read only)
    def database_overview(self) -> list[dict[str, Any]]:
        """Collections with estimated count, size, index count and validator presence."""
        from runway_tui.engine.overview import collections_overview

        with self._guard_connection():
            return collections_overview(self)

    def collections_list(self) -> list[dict[str, Any]]:
        """The collections, without statistics (one command): fill them with `collection_stats`."""
        from runway_tui.engine.overview import collections_list

        with self._guard_connection():
            return collections_list(self)

    def collection_stats(self, name: str) -> dict[str, Any]:
        from runway_tui.engine.overview import collection_stats

        with self._guard_connection():
            return collection_stats(self, name)

    def collection_detail(self, name: str, sample: int = 5) -> dict[str, Any]:
        from runway_tui.engine.overview import collection_detail

        with self._guard_connection():
            return collection_detail(self, name, sample)


def _waiting_line(holder: LockInfo, wait_s: float, now: dt.datetime) -> str:
    """The one log line of a wait: who holds the lock, and at once whether that runner looks dead."""
    if holder.looks_dead:
        left = (holder.expires_at - now).total_seconds() if holder.expires_at else None
        expiry = f"; its lease expires in {left:.0f}s" if left is not None else ""
        return (f"the migration lock is held by {holder.who}, but {holder.gone_reason()}: that runner looks dead"
                f"{expiry}, and we take the lock over then (waiting up to {wait_s:g}s)")
    return f"waiting for the migration lock held by {holder.who} for '{holder.operation}' (up to {wait_s:g}s)"


def _overrides_of(plan: Plan, request: dict[str, Any], access: Access) -> tuple[str, ...]:
    """The overrides in force for a run, as its audit entries record them."""
    found = []
    if request.get("ignore_drift"):
        found.append("drift ignored")
    if request.get("allow_out_of_order"):
        found.append("out of order allowed")
    if plan.group:
        found.append("group")
    if access.production_write:
        found.append("production write")
    return tuple(found)
