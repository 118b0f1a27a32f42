"""`MigrationApp`: one application (environment) of the config, connected, with every operation.

This is the engine API both front ends use. Inspection (`status`, `plan`, `history`, `server_info`,
`database_overview`) never writes. Mutating operations (`refresh`, `upgrade`, `downgrade`, `mark`,
`accept`, `unlock`, template creation) refuse in read-only mode before touching the server, run one
at a time per app, and take the migration lock for anything that writes state.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pymongo
from bson import ObjectId
from bson.binary import Binary, UuidRepresentation
from pymongo.errors import PyMongoError

from runway_tui.engine import overview, plugins
from runway_tui.engine.audit_reader import AuditReader
from runway_tui.engine.backfill.control import BackfillControl
from runway_tui.engine.config import AppConfig
from runway_tui.engine.connection import ServerInfo, make_client, probe_server, unreachable
from runway_tui.engine.embedded import EmbeddedServer
from runway_tui.engine.errors import ChangeStreamError, ReadOnlyError, RunwayError, UsageError
from runway_tui.engine.events import (
    ClosingEvent,
    EventBus,
    LogEvent,
    MigrationEvent,
    PlanComputedEvent,
    RefreshDoneEvent,
    StartingEvent,
    StateChangedEvent,
)
from runway_tui.engine.guard import OwnCollectionsGuard
from runway_tui.engine.lock import MigrationLock, ServerClock
from runway_tui.engine.messages import exception_message, visible
from runway_tui.engine.models import (
    Direction,
    LockInfo,
    MigrationAuditlogEntry,
    MigrationReadModel,
    MigrationRecord,
    Plan,
    RefreshReport,
    Runner,
    RunResult,
    StatusReport,
)
from runway_tui.engine.planner import Expected
from runway_tui.engine.policy import Access, resolve_access
from runway_tui.engine.run import commands
from runway_tui.engine.run import refresh as refreshing
from runway_tui.engine.run.deps import BackfillSetup, RunDeps, RunEvents, RunJournal, RunTarget
from runway_tui.engine.run.evidence_book import EvidenceBook
from runway_tui.engine.run.loading import ScriptLoader
from runway_tui.engine.run.locking import LeaseHolding, LeaseParts
from runway_tui.engine.run.operation import Operation
from runway_tui.engine.run.planning import make_plan
from runway_tui.engine.run.refresh import sync
from runway_tui.engine.run.session import RunSession
from runway_tui.engine.run.stepping import StepParts, StepRuns
from runway_tui.engine.runner import DATE_FMT, StepRunner, utcnow
from runway_tui.engine.runners import runner_document
from runway_tui.engine.scripts import ScriptDirectory
from runway_tui.engine.state_at import StateAt
from runway_tui.engine.status import compute_status
from runway_tui.engine.storage import store_for
from runway_tui.engine.store import driver_errors
from runway_tui.engine.timespec import TimeSpec
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
    (or use it as a context manager). The operations themselves live in engine/run/ (refresh, stepping,
    commands) and engine/audit_reader.py; this class connects them and keeps the public names."""

    def __init__(self, config: AppConfig, *, read_only: bool | None = None, clock: Clock | None = None,
                 connect: bool = True, access: Access | None = None, front_end: str = "api",
                 project_code: bool = True) -> None:
        self.config = config
        self.name = config.name
        # who drives this engine: "cli", "tui" or "api"; recorded with the lease, running records and audit entries
        self.front_end = front_end
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
        # The scan cache lives beside the config (like the embedded data); it is content-addressed.
        self.scripts = ScriptDirectory.for_app(config)
        self._operation = threading.Lock()
        self._closed = False
        self._embedded: EmbeddedServer | None = None
        self._server_info: ServerInfo | None = None
        self._runs: StepRuns | None = None  # the runs, once connected (engine/run/stepping.py)
        self.backfill_control = BackfillControl()  # pause/resume/cancel of a running backfill: flags, no database
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
        self._assemble()
        self.emit(StartingEvent(self))

    def _assemble(self) -> None:
        """The engine's parts over the connection: each owns its state, none sees the app."""
        assert self.sessions is not None
        config, events = self.config, RunEvents(self, self.emit, self.log)
        self._book = EvidenceBook(self.evidence, self.journal, self._guard_connection)
        self._lease = LeaseHolding(LeaseParts(self.lock, self.sessions, self.store, events, self._guard_connection,
                                              self.audit_entry, self._book.forget_reading))
        target = RunTarget(self.database, self.client, self.name, self.server_info.supports_transactions,
                           self.session_id.hex(), (config.config_path.parent, config.scripts_dir.parent),
                           config.config_path.parent)
        journal = RunJournal(self.audit_entry, self._book.written, self.runner_document,
                             self._lease.collections_changed)
        self.runner = StepRunner(RunDeps(self.store, self.lock, events, self.now, lambda: self.identity, self.sessions,
                                         self.redact, ScriptLoader(), self.guard, target, journal,
                                         BackfillSetup(self.backfill_control, config.backfill)))
        self.operation = Operation(
            writing=self._writing, store=self.store, lease=self.lock, scripts=self.scripts,
            scripts_dir=config.scripts_dir, identity=lambda: self.identity,
            runner_label=lambda: f"{self.identity} (pid {self.lock.pid}, {self.front_end})", now=self.now,
            synced_status=lambda: sync(self.operation)[1], status=self.status,
            read_evidence=lambda: self._book.read(under_lock=True), keep_evidence=self._keep_evidence,
            entry=self.audit_entry, written=self._book.written, log=self.log,
            changed=lambda name: self.emit(StateChangedEvent(self, name)))
        self._runs = StepRuns(StepParts(self.operation, self.runner, self._lease, self.lock, self._plan, self.access,
                                        self.server_info.supports_transactions,
                                        lambda exc: unreachable(self.shown_address, exc, config)))
        self.audit_log = AuditReader(self.store, self.now, self.lock.clock.now, self._guard_connection)

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
        previous = self._book.newest_date(model.version) if model is not None else None
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
            pid=runner.pid if runner else self.lock.pid,
            overrides=() if runner or self._runs is None else self._runs.overrides,
            detail=self.redact(detail) if detail else None, id=entry_id if entry_id is not None else ObjectId())

    # ------------------------------------------------------------------ the ritual of a writing operation
    @contextlib.contextmanager
    def _writing(self, action: str, name: str, *, lease: bool = True, exclusive: bool = True,
                 connection: bool = True, exclusive_as: str | None = None) -> Iterator[None]:
        """Once for every writing operation: refused when read-only, one at a time, under the migration lock
        (`lease`), driver errors translated (`connection`)."""
        self._writable(action)
        with contextlib.ExitStack() as stack:
            if exclusive:
                stack.enter_context(self._exclusive(exclusive_as or name))
            if lease:
                stack.enter_context(self._lease.held(name))
            if connection:
                stack.enter_context(self._guard_connection())
            yield

    def _writable(self, action: str) -> None:
        if self.read_only:
            raise ReadOnlyError(f"application {self.name!r} is read-only: refusing to {action} "
                                f"({self.access.reason})")

    @contextlib.contextmanager
    def _exclusive(self, action: str) -> Iterator[None]:
        """One engine operation at a time per app, refused (not queued) when busy."""
        if not self._operation.acquire(blocking=False):
            raise UsageError(f"cannot {action}: another operation is running")
        if self._runs is not None:
            self._runs.forget_status()  # whatever this operation changes, the kept status no longer says it
        try:
            yield
        finally:
            self._operation.release()

    @contextlib.contextmanager
    def _guard_connection(self, doing: str = "") -> Iterator[None]:
        """Driver connection errors become one clear 'cannot reach the server' error; any other server
        error one line saying what was being done (never an 'internal error' with a traceback)."""
        with driver_errors.translated(doing, address=self.shown_address, redact=self.redact,
                                      application=self.config.name):
            yield

    def _keep_evidence(self) -> None:
        self._book.keep(self.now(), lease_lost=self.lock.lost_reason is not None)

    def pause_backfill(self) -> None:
        """Ask the running backfill to stop after its current batch and wait, the lease held (thread-safe, no
        database call: the step's worker writes what it must). Other operators see who paused it."""
        self.backfill_control.pause(self.identity)

    def resume_backfill(self) -> None:
        self.backfill_control.resume(self.identity)

    def cancel_backfill(self) -> None:
        """Stop the running backfill after its current batch: the migration is left `paused` at its checkpoint and
        the lease released; the next `up` resumes it."""
        self.backfill_control.cancel(self.identity)

    def cancel_lock_wait(self) -> None:
        """Stop waiting for another runner's lock (thread-safe): the waiting operation raises
        LockWaitCancelledError within about a second and runs nothing. No effect once the lock is held."""
        if self._runs is not None:
            self._lease.cancel_wait()

    # ------------------------------------------------------------------ inspection (never writes)
    def status(self, lease: LockInfo | None | object = _UNREAD) -> StatusReport:
        """Files and records compared; the lease (read with them, or `lease` as just read by `lock_info`) tells
        a step running elsewhere from an interrupted one."""
        scripts = self.scripts.scan()
        with self._guard_connection():
            records = self.repository.all()
            if lease is _UNREAD:
                lease = self.lock.info()
            evidence = self._book.read()
        return compute_status(scripts, records, lease if isinstance(lease, LockInfo) else None, evidence=evidence)

    def plan(self, direction: Direction | str = Direction.UP, *, steps: int | None = None, to: int | None = None,
             all_: bool = False, ignore_drift: bool = False, allow_out_of_order: bool = False,
             group: bool | None = None, report: StatusReport | None = None) -> Plan:
        """`group`: the whole run in one transaction (None: the application's `group` setting)."""
        assert self._runs is not None
        self._runs.planned(self.lock.clock.now())  # a person may confirm this plan: its run says what moved since
        return self._plan(Direction(direction), steps=steps, to=to, all_=all_, ignore_drift=ignore_drift,
                          allow_out_of_order=allow_out_of_order, group=group, report=report)

    def _plan(self, direction: Direction, *, report: StatusReport | None = None, group: bool | None = None,
              **request: Any) -> Plan:
        info = self.server_info
        plan = make_plan(report or self.status(), Direction(direction), info.supports_transactions,
                         self.config.group if group is None else group,
                         f"the server at {self.shown_address} has no transactions ({info.topology}); drop --group "
                         f"(or set group: false for application {self.name!r})", **request)
        self.emit(PlanComputedEvent(self, plan))
        return plan

    def lock_info(self) -> LockInfo | None:
        with self._guard_connection():
            return self.lock.info()

    def history(self, *args: Any, **kwargs: Any) -> list[MigrationAuditlogEntry]:
        """Audit entries, newest first (engine/audit_reader.py `AuditReader.history`: its filters and paging)."""
        return self.audit_log.history(*args, **kwargs)

    def state_at(self, at: dt.datetime | TimeSpec | str) -> StateAt:
        return self.audit_log.state_at(at)

    def history_since(self, shown: list[MigrationAuditlogEntry], limit: int) -> list[MigrationAuditlogEntry] | None:
        return self.audit_log.history_since(shown, limit)

    def stored_source(self, version: int, checksum: str) -> str | None:
        return self.audit_log.stored_source(version, checksum)

    def history_count(self, version: int | None = None, text: str | None = None) -> int:
        return self.audit_log.history_count(version, text)

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

    def take_status_after_run(self) -> StatusReport | None:
        """The status right after this app's last run, once (None: read `status()`). Only our own lock was
        held until then, so it is the state as of the run's end; anything after is for the next poll."""
        return self._runs.take_status_after_run() if self._runs is not None else None

    # ------------------------------------------------------------------ commands (engine/run/)
    def create_migration_file_template(self, name: str, description: str | None = None) -> Path:
        """A new migration file from the template (files only: works before `connect`)."""
        self._writable("create a migration file")
        path = self.scripts.create_template(name, description)
        self.log("info", f"created {path}")
        return path

    def refresh(self) -> RefreshReport:
        """Synchronise files with the migrations collection (one bulk write) and report what was found."""
        report = refreshing.refresh(self.operation)
        self.emit(RefreshDoneEvent(self, report))
        self.emit(StateChangedEvent(self, "refresh"))
        return report

    def upgrade(self, *, steps: int | None = None, to: int | None = None, all_: bool = False,
                ignore_drift: bool = False, allow_out_of_order: bool = False,
                expect: Expected | None = None, group: bool | None = None) -> RunResult:
        """`expect`: what a person confirmed (`Expected.of(plan)`); anything else is refused, nothing runs.
        `group`: the whole run in one transaction, all or nothing (None: the application's `group`)."""
        assert self._runs is not None
        return self._runs.run(Direction.UP, expect, steps=steps, to=to, all_=all_, ignore_drift=ignore_drift,
                              allow_out_of_order=allow_out_of_order, group=group)

    def downgrade(self, *, steps: int | None = None, to: int | None = None, all_: bool = False,
                  ignore_drift: bool = False, expect: Expected | None = None, group: bool | None = None) -> RunResult:
        assert self._runs is not None
        return self._runs.run(Direction.DOWN, expect, steps=steps, to=to, all_=all_, ignore_drift=ignore_drift,
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

    # ------------------------------------------------------------------ database overview (engine/overview.py)
    def database_overview(self) -> list[dict[str, Any]]:
        """Collections with estimated count, size, index count and validator presence."""
        with self._guard_connection():
            return overview.collections_overview(self)

    def collections_list(self) -> list[dict[str, Any]]:
        """The collections, without statistics (one command): fill them with `collection_stats`."""
        with self._guard_connection():
            return overview.collections_list(self)

    def collection_stats(self, name: str) -> dict[str, Any]:
        with self._guard_connection():
            return overview.collection_stats(self, name)

    def collection_detail(self, name: str, sample: int = 5) -> dict[str, Any]:
        with self._guard_connection():
            return overview.collection_detail(self, name, sample)
