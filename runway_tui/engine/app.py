"""`MigrationApp`: one application (environment) of the config, connected, with every operation.

This is the engine API both front ends use. Inspection (`status`, `plan`, `history`, `server_info`,
`database_overview`) never writes. Mutating operations (`refresh`, `upgrade`, `downgrade`, `mark`,
`accept`, `unlock`, template creation) refuse in read-only mode before touching the server, run one
at a time per app, and take the migration lock for anything that writes state. The operations live in
engine/run/ (the connection and the parts in wiring.py); the convenience names in app_verbs.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pymongo
from bson.binary import Binary, UuidRepresentation

from runway_tui.engine import plugins
from runway_tui.engine.app_verbs import AppVerbs
from runway_tui.engine.backfill.control import BackfillControl
from runway_tui.engine.config import AppConfig
from runway_tui.engine.connection import ServerInfo
from runway_tui.engine.events import (
    ClosingEvent,
    EventBus,
    LogEvent,
    PlanComputedEvent,
    RefreshDoneEvent,
    StartingEvent,
    StateChangedEvent,
)
from runway_tui.engine.messages import visible
from runway_tui.engine.models import (
    Direction,
    LockInfo,
    MigrationAuditlogEntry,
    MigrationRecord,
    Plan,
    RefreshReport,
    RunResult,
    StatusReport,
)
from runway_tui.engine.planner import Expected
from runway_tui.engine.policy import Access, resolve_access
from runway_tui.engine.run import commands
from runway_tui.engine.run import refresh as refreshing
from runway_tui.engine.run.gate import OperationGate
from runway_tui.engine.run.planning import make_plan
from runway_tui.engine.run.session import RunSession
from runway_tui.engine.run.wiring import assemble, open_connection
from runway_tui.engine.runner import utcnow
from runway_tui.engine.runners import runner_document
from runway_tui.engine.scripts import ScriptDirectory
from runway_tui.engine.status import compute_status
from runway_tui.engine.store import driver_errors
from runway_tui.engine.uri import scrub

if TYPE_CHECKING:
    from runway_tui.engine.embedded import EmbeddedServer
    from runway_tui.engine.run.stepping import StepRuns

logger = logging.getLogger("runway_tui")
Clock = Callable[[], dt.datetime]
_UNREAD = object()  # `status()` reads the lease itself


def _identity() -> tuple[str, str]:
    try:
        user = getpass.getuser()
    except Exception:
        user = os.environ.get("USER", "unknown")
    return user, socket.gethostname()


class MigrationApp(AppVerbs):
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
        self._closed = False
        self._embedded: EmbeddedServer | None = None
        self._server_info: ServerInfo | None = None
        self._runs: StepRuns | None = None  # the runs, once connected (engine/run/stepping.py)
        self.backfill_control = BackfillControl()  # pause/resume/cancel of a running backfill: flags, no database
        # the ritual of every writing operation (engine/run/gate.py): read-only, one at a time, lease, driver errors
        self.gate = OperationGate(self.name, self.access, forget_status=self._forget_status,
                                  lease=lambda name: self._lease.held(name), connection=self.guard_connection)
        self.sessions: RunSession | None = None  # the operation's session while it holds the lock (connect)
        self.session: Any = plugins.session_for(self)  # Mongorunway's `app.session` accessors (compat fills it)
        if project_code:  # e.g. a mongorunway.yaml's app_events, subscribed before StartingEvent
            for hook in plugins.startup_hooks():
                hook(self)
        if connect:
            self.connect()

    # ------------------------------------------------------------------ lifecycle
    def connect(self) -> None:
        """Start the embedded daemon if configured, connect, learn the server's capabilities and build the parts
        (engine/run/wiring.py)."""
        c = open_connection(self.config, user=self.user, host=self.host, front_end=self.front_end)
        self.shown_address, self._embedded, self.guard, self.client = c.shown_address, c.embedded, c.guard, c.client
        self._server_info, self.database, self.store, self.lock = c.server_info, c.database, c.store, c.lock
        self.own_collections, self.sessions = c.own_collections, c.sessions
        self.repository, self.journal, self.sources = self.store.records, self.store.audit, self.store.sources
        self.evidence = c.store.evidence
        parts = assemble(self, c)
        self._book, self._entries, self._lease, self.runner = parts.book, parts.entries, parts.lease, parts.runner
        self.operation, self._runs, self.audit_log = parts.operation, parts.runs, parts.audit_log
        self.emit(StartingEvent(self))

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

    # ------------------------------------------------------------------ log and small helpers
    def log(self, level: str, message: str) -> None:
        message = self.redact(message)
        logger.log(logging.getLevelName(level.upper()) if isinstance(  # a log record may reach a terminal
            logging.getLevelName(level.upper()), int) else logging.INFO, visible(message))
        self.emit(LogEvent(self, level, message))

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

    def audit_entry(self, transaction_name: str, *args: Any, **kwargs: Any) -> MigrationAuditlogEntry:
        """An audit entry by us, dated after its version's newest (engine/run/entries.py)."""
        return self._entries.entry(transaction_name, *args, **kwargs)

    @contextlib.contextmanager
    def guard_connection(self, doing: str = "") -> Iterator[None]:
        """Driver connection errors become one clear 'cannot reach the server' error; any other server
        error one line saying what was being done (never an 'internal error' with a traceback)."""
        with driver_errors.translated(doing, address=self.shown_address, redact=self.redact,
                                      application=self.config.name):
            yield

    def _forget_status(self) -> None:
        if self._runs is not None:
            self._runs.forget_status()

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
        with self.guard_connection():
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
        return self.plan_for(Direction(direction), steps=steps, to=to, all_=all_, ignore_drift=ignore_drift,
                          allow_out_of_order=allow_out_of_order, group=group, report=report)

    def plan_for(self, direction: Direction, *, report: StatusReport | None = None, group: bool | None = None,
              **request: Any) -> Plan:
        info = self.server_info
        plan = make_plan(report or self.status(), Direction(direction), info.supports_transactions,
                         self.config.group if group is None else group,
                         f"the server at {self.shown_address} has no transactions ({info.topology}); drop --group "
                         f"(or set group: false for application {self.name!r})", **request)
        self.emit(PlanComputedEvent(self, plan))
        return plan

    def lock_info(self) -> LockInfo | None:
        with self.guard_connection():
            return self.lock.info()

    def take_status_after_run(self) -> StatusReport | None:
        """The status right after this app's last run, once (None: read `status()`). Only our own lock was
        held until then, so it is the state as of the run's end; anything after is for the next poll."""
        return self._runs.take_status_after_run() if self._runs is not None else None

    # ------------------------------------------------------------------ commands (engine/run/)
    def create_migration_file_template(self, name: str, description: str | None = None) -> Path:
        """A new migration file from the template (files only: works before `connect`)."""
        self.gate.writable("create a migration file")
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
