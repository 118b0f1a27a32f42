"""Running planned steps: import the file, run it, record state and audit, all in one transaction
when the server and the migration allow it, or through `applying` -> `applied`/`failed` otherwise."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pymongo
from bson import ObjectId
from pymongo.errors import ConnectionFailure, PyMongoError

from runway_tui.engine import plugins
from runway_tui.engine.backfill.step import BackfillStep
from runway_tui.engine.capture import captured_output
from runway_tui.engine.context import MigrationContext
from runway_tui.engine.errors import (
    BackfillUsageError,
    LockLostError,
    RunwayCollectionsChangedError,
    StepFailedError,
    StepInterruptedError,
)
from runway_tui.engine.events import (
    StepAppliedEvent,
    StepFailedEvent,
    StepLogEvent,
    StepProgressEvent,
    StepStartedEvent,
)
from runway_tui.engine.interrupts import allowed, deferred
from runway_tui.engine.messages import exception_line, one_line, project_traceback
from runway_tui.engine.models import (
    Direction,
    MigrationAuditlogEntry,
    MigrationReadModel,
    MigrationRecord,
    State,
    StatusRow,
    Step,
    StepResult,
)
from runway_tui.engine.repository import StepOutcome, StepWrite
from runway_tui.engine.run.backfills import backfills_for, nothing_written, record_pause, restore
from runway_tui.engine.run.session import commit
from runway_tui.engine.run.session_misuse import SessionMisuseError, _session_misuse, _transaction_number
from runway_tui.engine.run.watching import CATALOG_BUDGET_S, LOOK_EVERY_S, StepWatch
from runway_tui.engine.scripts import ScriptFile
from runway_tui.engine.store import driver_errors
from runway_tui.engine.store.protocol import RecordChange
from runway_tui.engine.vocabulary import remedy

if TYPE_CHECKING:
    from runway_tui.engine.run.deps import RunDeps

__all__ = ["CATALOG_BUDGET_S", "DATE_FMT", "LOOK_EVERY_S", "SessionMisuseError", "StepRunner", "_session_misuse",
           "_transaction_number", "utcnow"]
TRANSACTION_NAMES = {Direction.UP: "UpgradeTransaction", Direction.DOWN: "DowngradeTransaction"}
DATE_FMT = "%Y-%m-%d %H:%M:%S"


def read_model(step: Step, record: MigrationRecord | None, checksum: str) -> MigrationReadModel:
    """What an audit entry says the migration was: its record's, or (no record yet) the step's own."""
    if record is not None:
        return record.read_model
    return MigrationReadModel(step.name, step.version, checksum, step.description, step.direction is Direction.DOWN)


class StepRunner:
    """Executes one step at a time for a MigrationApp (which holds the lock while we run)."""

    def __init__(self, deps: RunDeps) -> None:
        self.deps = deps  # narrow dependencies (engine/run/deps.py): never the app
        self._lost_in: int | None = None  # the step during which the lease was found taken away
        self._attempt: ObjectId | None = None  # the current step's audit entry: one per attempt, whatever happens
        self.watch = StepWatch(deps, self._call)  # runway's own collections, watched during each step
        self._backfill: BackfillStep | None = None  # the current attempt's backfills (engine/backfill/step.py)
        self._in_group = False

    def begin_run(self) -> None:
        """A new run: runway's collections are read again before its first step."""
        self.watch.new_run()

    def load(self, step: Step, path: Path) -> tuple[types.ModuleType, str]:
        """Import the migration from exactly the text we checksum (engine/run/loading.py)."""
        return self.deps.loader.load(step, path)

    # ------------------------------------------------------------------ running
    def run(self, step: Step, row: StatusRow | None, index: int, total: int) -> StepResult:
        """Run one step. However the migration leaves (an exception, `sys.exit`, Ctrl-C, SIGTERM), the
        attempt is recorded (audit entry, consistent record) and a StepFailedError (StepInterruptedError
        for an interrupt) is raised.

        Signals are held for the whole step but for the migration's own code (`allowed()`): one that
        arrives during our bookkeeping lands in the migration if it is still to run, or after the step
        is fully recorded."""
        with deferred():
            return self._run(step, row, index, total)

    def _run(self, step: Step, row: StatusRow | None, index: int, total: int) -> StepResult:
        deps = self.deps
        if row is None or row.script is None:
            raise StepFailedError(f"{step.name}: the migration file is missing")
        in_transaction = deps.target.supports_transactions and step.transactional
        self._started(step)
        deps.events.emit(StepStartedEvent(deps.events.source, step, index, total, in_transaction))
        started = time.monotonic()
        checksum = row.script.checksum or ""
        with self._environment(row.script):
            self._attempt = ObjectId()
            self._backfill = None
            deps.guard.new_step()
            deps.backfill.control.reset()
            self.watch.begin(last_of_run=index == total)
            try:
                with allowed(), self._captured(step):
                    module, checksum = self.deps.loader.load(step, row.script.path)
                    function = self._entry_point(step, row.script, module)
            except BaseException as exc:  # noqa: BLE001 - sys.exit() or Ctrl-C at import is a failed attempt too
                with deferred():
                    error = self.watch.end(step, exc)
                    kept = _irreversible(error)  # the file's own code changed runway's collections at import
                    left = self._record_failure(step, row.record, checksum, error, started, in_transaction=not kept,
                                                ran=kept)
                raise self._failed(step, error, rolled_back=not kept, left=left) from exc
            self.watch.pause()
            self._backfill = self._backfills(step, row.record, checksum, in_transaction=in_transaction)

            if in_transaction:
                return self._run_in_transaction(step, row.record, function, checksum, started)
            return self._run_without_transaction(step, row.record, function, checksum, started)

    def _environment(self, script: ScriptFile) -> contextlib.AbstractContextManager[Any]:
        """What a file needs importable while its step runs: for Mongorunway's format, the `mongorunway`
        stand-in and the project's folders (`import migrations`), as its CLI had them."""
        return plugins.script_format(script.format).environment(self.deps.target.project_dirs)

    def _entry_point(self, step: Step, script: ScriptFile, module: types.ModuleType) -> Callable[..., Any]:
        """The function the step calls with its context. A Mongorunway file's business rules are checked
        here: before the step's transaction, as Mongorunway does; a broken rule fails the step."""
        name = "upgrade" if step.direction is Direction.UP else "downgrade"
        fmt = plugins.script_format(script.format)
        # runway's own format calls upgrade(ctx) with the step's context later; another format may bind it now
        context = self._context(step, None) if script.format != "runway" else None
        return fmt.entry_point(module, name, context, self.deps.target.session_hex)

    # ------------------------------------------------------------------ group mode (engine/run/group.py)
    def run_group(self, steps: list[Step], rows: dict[int, StatusRow]) -> list[StepResult]:
        """`--group`: the whole run in ONE transaction with all its records and audit entries, so either
        every step commits or none does. A failure rolls everything back and records the failed attempt."""
        from runway_tui.engine.run.group import GroupRun

        self._backfill, self._in_group = None, True
        try:
            with deferred():
                return GroupRun(self, steps, rows).run()
        finally:
            self._in_group = False

    def _started(self, step: Step) -> None:
        """Other operators see which step runs (the lease says it): `running` in their status."""
        self.deps.lease.announce({"version": step.version, "name": step.name, "direction": step.direction.value,
                                "since": self.deps.clock()})

    def _progress(self, step: Step, done: int, total: int) -> None:
        self.deps.lease.progress(done, total)
        self.deps.events.emit(StepProgressEvent(self.deps, step, done, total))

    def _captured(self, step: Step) -> contextlib.AbstractContextManager[None]:
        """The migration's print()/stderr output becomes log lines (never our stdout: `up --json`)."""
        deps = self.deps
        return captured_output(lambda line: deps.events.emit(StepLogEvent(deps.events.source, step, deps.redact(line))))

    def _context(self, step: Step, session: Any) -> MigrationContext:
        deps, target = self.deps, self.deps.target
        return MigrationContext(
            db=target.database, client=target.client, session=session, application=target.application,
            version=step.version, name=step.name, direction=step.direction.value,
            _on_log=lambda message: deps.events.emit(StepLogEvent(deps.events.source, step, deps.redact(message))),
            _on_progress=lambda done, total: self._progress(step, done, total),
            _backfill=self._backfill if self._backfill is not None else self._backfills(
                step, None, "", in_transaction=session is not None),
        )

    def _backfills(self, step: Step, record: MigrationRecord | None, checksum: str, *,
                   in_transaction: bool) -> BackfillStep:
        """The attempt's backfills: its stored checkpoint (a paused or interrupted backfill resumes from it)."""
        return backfills_for(self.deps, step, record, self._read_model(step, record, checksum), checksum,
                             in_transaction=in_transaction, in_group=self._in_group)

    def _call(self, step: Step, function: Callable[..., Any], session: Any) -> None:
        """The migration's own code: the only place an interrupt is delivered during a step."""
        with allowed(), self._captured(step):
            function(self._context(step, session))

    def _run_in_transaction(self, step: Step, record: MigrationRecord | None, function: Callable[..., Any],
                            checksum: str, started: float) -> StepResult:
        deps = self.deps
        before = self._read_model(step, record, checksum)
        session = deps.sessions.current  # the operation's session: the lease names it (see MigrationApp._locked)
        assert session is not None, "steps run only while the operation holds the lock"
        effects_may_remain = False
        recorded: int | None = None  # the duration its record and audit entry say: the one every front end shows
        entry: MigrationAuditlogEntry | None = None
        try:
            with deferred():
                session.start_transaction()
                transaction = _transaction_number(session)
            self.watch.call(step, function, session, transaction)
            with deferred():
                misuse = _session_misuse(session, transaction)
                if misuse is not None:
                    effects_may_remain = misuse.committed
                    raise misuse
                deps.lease.check()  # locally; the server-side fence goes with the step's write, in its transaction
                recorded = _ms(started)
                entry = self._entry(step, before, recorded)
                self._write_success(step, record, checksum, recorded, session, entry)
                self.watch.verdict(step)  # still in the transaction: a change found now rolls the step back
                self._commit(session)
        except BaseException as exc:  # noqa: BLE001 - every way out of a step is a recorded attempt
            exc = self.watch.explained(step, exc)
            effects_may_remain = effects_may_remain or _irreversible(exc)
            left: State | None = None
            with deferred(), _cleanup_budget(exc):  # the server may be gone: bound the clean-up, do not hang
                aborted = session.in_transaction
                if aborted:
                    with contextlib.suppress(PyMongoError):  # the server discards it by itself anyway
                        session.abort_transaction()
                committed = not effects_may_remain and self._recovered_commit(step, exc, aborted=aborted)
                if not committed:
                    left = self._record_failure(step, record, checksum, exc, started,
                                                in_transaction=not effects_may_remain, ran=True)
            if not committed:
                raise self._failed(step, exc, rolled_back=not effects_may_remain, left=left) from exc
        if entry is not None:
            deps.journal.written(entry)
        duration = recorded if recorded is not None else _ms(started)
        deps.events.emit(StepAppliedEvent(deps.events.source, step, duration, True))
        return StepResult(step, duration, True)

    def _run_without_transaction(self, step: Step, record: MigrationRecord | None, function: Callable[..., Any],
                                 checksum: str, started: float) -> StepResult:
        deps = self.deps
        before = self._read_model(step, record, checksum)
        busy = State.APPLYING if step.direction is Direction.UP else State.REVERTING
        expected = [State.PENDING.value if step.direction is Direction.UP else State.APPLIED.value, None]
        if record is not None and record.backfill is not None:  # paused, or its runner died mid-walk: resumed
            expected += [State.PAUSED.value, record.state.value]
        try:  # nothing has run yet: a failure here leaves the migration as it was
            with deferred():
                deps.lease.verify()
                if record is None:
                    deps.store.records.upsert(self._new_record(step, checksum))
                marked = deps.store.records.update(step.version, {"state": busy.value, "error": None,
                                                              "runner": deps.journal.runner_document()},
                                               expect={"state": {"$in": expected}})  # None: Mongorunway
        except (PyMongoError, LockLostError) as exc:
            raise self._failed(step, exc, rolled_back=True) from exc
        if not marked:
            raise StepFailedError(f"{step.name}: its record changed under us (another runner?); refresh and retry")
        try:
            self.watch.call(step, function, None, None)
            with deferred():
                if self._backfill is not None:
                    self._backfill.flush()  # a loop over ctx.batches left early: its last batch's writes
                deps.lease.verify()
                self.watch.verdict(step)  # before the success is written
        except BaseException as exc:  # noqa: BLE001 - every way out of a step is a recorded attempt
            exc = self.watch.explained(step, exc)
            with deferred(), _cleanup_budget(exc):
                if self._backfill is not None:
                    self._backfill.abort()
                if nothing_written(deps, self._backfill, exc):  # refused before any write: as if never run
                    left = self._record_failure(step, record, checksum, exc, started, in_transaction=True, ran=True)
                    restore(deps, step, record)
                    raise self._failed(step, exc, rolled_back=True, left=None) from exc
                if self._backfill is not None and self._backfill.stored:
                    return self._paused(step, record, checksum, exc)
                left = self._record_failure(step, record, checksum, exc, started, in_transaction=False, ran=True)
            raise self._failed(step, exc, rolled_back=False, left=left) from exc
        duration = _ms(started)
        try:  # the step ran: its audit entry first (never lost), then the state; a failure leaves it `failed`
            with deferred():
                deps.lease.verify()  # no transaction: checked just before the writes (window: see RELIABILITY.md)
                entry = self._entry(step, before, duration)
                self._write_success(step, record, checksum, duration, None, entry)
                deps.journal.written(entry)
        except Exception as exc:
            with deferred(), _cleanup_budget(exc):  # the entry written first becomes the failure (same attempt)
                left = self._record_failure(step, record, checksum, exc, started, in_transaction=False, ran=True)
            raise self._failed(step, exc, rolled_back=False, left=left) from exc
        deps.events.emit(StepAppliedEvent(deps.events.source, step, duration, False))
        return StepResult(step, duration, False)

    # ------------------------------------------------------------------ state writes
    def _write_success(self, step: Step, record: MigrationRecord | None, checksum: str, duration: int,
                       session: Any, entry: MigrationAuditlogEntry) -> None:
        """The step's record and audit entry: one command in its transaction (see `MongoStore.write_step`);
        without a transaction, the audit entry first (it is never lost)."""
        deps = self.deps
        write = self._success_write(step, record, checksum, duration, entry)
        outcome = deps.store.write_step(write, session,
                                       lease_filter=deps.lease.lease_filter() if session is not None else None,
                                       audit_first=session is None)
        if outcome is StepOutcome.LEASE_LOST:
            raise deps.lease.taken_away()
        if outcome is StepOutcome.RECORD_CHANGED:
            raise self._record_changed(step, session)

    def _record_changed(self, step: Step, session: Any) -> StepFailedError:
        if self.deps.store.records.get(step.version, session=session) is None:
            return StepFailedError(f"{step.name}: its record vanished during the step (the migrations collection "
                                   "was dropped or emptied, by the migration itself?); its success was not recorded")
        return StepFailedError(f"{step.name}: its record changed under us (another runner?); its success was not "
                               "recorded")

    def _success_write(self, step: Step, record: MigrationRecord | None, checksum: str, duration: int,
                       entry: MigrationAuditlogEntry) -> StepWrite:
        """What a step that succeeded records: its record's new fields, its audit entry, its source."""
        deps = self.deps
        if step.direction is Direction.UP:
            fields = RecordChange.applied(deps.clock(), deps.identity(), checksum, duration_ms=duration, name=step.name,
                                          description=step.description, run_id=deps.lease.owner).fields
            expect_state = [State.PENDING.value, State.APPLYING.value, None]  # None: a Mongorunway record
        else:
            fields = RecordChange.pending(duration_ms=duration, run_id=deps.lease.owner).fields
            expect_state = [State.APPLIED.value, State.REVERTING.value, None]
        if (record is not None and record.backfill is not None) or (self._backfill and self._backfill.stored):
            fields["backfill"] = None  # done: the checkpoint goes, the audit log keeps the counts
        new = self._new_record(step, checksum) if record is None and step.direction is Direction.UP else None
        # the applied text, for drift shown as a diff: kept by the same command, in the same transaction
        source = (deps.store.sources.write(step.version, checksum, step.name, self.deps.loader.source, deps.clock())
                  if step.direction is Direction.UP else None)
        return StepWrite(step.version, fields, expect_state, entry, new, source)

    def _record_failure(self, step: Step, record: MigrationRecord | None, checksum: str, exc: BaseException,
                        started: float, *, in_transaction: bool, ran: bool) -> State | None:
        """Outside any transaction: note the error, and the `failed` state when effects may remain; returns the
        state the record is left in (None: unknown), so that what is said matches it.

        The attempt's entry is written under the attempt's id: a success entry written first (no transaction)
        becomes this failure. A record that vanished (its collection dropped or emptied) is written again."""
        deps = self.deps
        message = exception_line(exc, deps.redact)
        if not self._still_ours():
            self._lost_in = step.version
            deps.events.log("error", f"{step.name} failed after the migration lock was lost: nothing was recorded, the "
                             f"record now belongs to whoever holds the lock ({message})")
            return None
        try:
            fields: dict[str, Any] = {"error": message, "error_traceback": _traceback(deps, exc)}
            if ran and not in_transaction:
                fields["state"] = State.FAILED.value  # effects may be half applied: block until `mark`
            before = record
            if not deps.store.records.update(step.version, fields):  # never recorded, or its record vanished
                before = self._lost_record(step, checksum, record)
                deps.store.records.upsert(before)
                deps.store.records.update(step.version, fields)
            deps.store.audit.record(self._entry(step, self._read_model(step, record, checksum), _ms(started), exc))
            if "state" in fields:
                return State.FAILED
            return (before or self._lost_record(step, checksum, record)).state
        except PyMongoError as db_exc:
            deps.events.log("error", f"could not record the failure of {step.name}: "
                         f"{one_line(driver_errors.log_text(db_exc), redact=deps.redact)}")
            return None

    def _lost_record(self, step: Step, checksum: str, record: MigrationRecord | None) -> MigrationRecord:
        """The record of a step that has none (never synced, or dropped during the step): as it was before."""
        applied = step.direction is Direction.DOWN
        base = record or self._new_record(step, checksum)
        return MigrationRecord(version=step.version, name=base.name, checksum=base.checksum,
                               description=base.description, is_applied=applied,
                               state=State.APPLIED if applied else State.PENDING)

    def _still_ours(self) -> bool:
        """Whether we still hold the lease (checked on the server); unknown counts as ours."""
        try:
            return self.deps.lease.holds_on_server()
        except PyMongoError:
            return True

    def _recovered_commit(self, step: Step, exc: BaseException, *, aborted: bool) -> bool:
        """Whether a failed step committed anyway (an unknown commit outcome that was a success: its record
        says so). After a failed commit (`aborted` False: the session left its transaction), the server's
        transaction is ended first and the session replaced (engine/run/session.py): its locks would block
        our writes. The one recovery for both run paths (a step's transaction, a `--group` run's)."""
        if not aborted:
            self.deps.sessions.replace_after_unknown_commit()
        return self._committed_anyway(step, exc)

    def _committed_anyway(self, step: Step, exc: BaseException) -> bool:
        """After a commit error with an unknown outcome, the record tells whether it committed."""
        if not isinstance(exc, (ConnectionFailure, PyMongoError)):
            return False
        try:
            record = self.deps.store.records.get(step.version)
            run_id = self.deps.store.records.run_id(step.version)
        except PyMongoError:
            return False
        want = State.APPLIED if step.direction is Direction.UP else State.PENDING
        return record is not None and record.state is want and run_id == self.deps.lease.owner

    _commit = staticmethod(commit)  # engine/run/session.py (a --group run calls it too)

    # ------------------------------------------------------------------ a backfill that stops early
    def _paused(self, step: Step, record: MigrationRecord | None, checksum: str, exc: BaseException) -> NoReturn:
        """The backfill stopped at its checkpoint: left `paused` (engine/run/backfills.py), unless the lease is
        gone, when the new holder owns the record and finds the walk paused (note_abandoned)."""
        assert self._backfill is not None
        if not self._still_ours():
            self._lost_in = step.version
            raise self._failed(step, exc, rolled_back=False, left=None) from exc
        raise record_pause(self.deps, step, self._backfill, exc, _traceback(self.deps, exc)) from exc

    # ------------------------------------------------------------------ helpers
    def _failed(self, step: Step, exc: BaseException, rolled_back: bool, left: State | None = None) -> StepFailedError:
        """The step's error, saying what its record now says (`left`, as the failure was recorded)."""
        deps = self.deps
        message = exception_line(exc, deps.redact)
        lost = self._lost_in == step.version
        if lost and not isinstance(exc, LockLostError):
            message = (f"LockLostError: the migration lock was taken away during the step (by a forced unlock, or by "
                       f"another runner after our lease expired); nothing was recorded ({message})")
        if left is not None and not lost:
            rolled_back = left not in _UNSETTLED
        deps.events.emit(StepFailedEvent(deps.events.source, step, message, type(exc).__name__, rolled_back,
                                 state=left.value if left is not None and not lost else ""))
        kept = "" if rolled_back or lost else blocked_hint(step, left)
        if isinstance(exc, KeyboardInterrupt):
            return StepInterruptedError(f"{step.direction.value} {step.name} was interrupted: {message}; the "
                                        f"attempt was recorded{kept}")
        kind = BackfillUsageError if isinstance(exc, BackfillUsageError) else StepFailedError
        return kind(f"{step.direction.value} {step.name} failed: {message}{kept}")

    def close(self) -> None:
        self.watch.close()

    @property
    def tampered(self) -> bool:
        """A step of this run changed runway's collections in a way that was not undone (engine/guard.py)."""
        return self.watch.tampered

    def _new_record(self, step: Step, checksum: str) -> MigrationRecord:
        return MigrationRecord(version=step.version, name=step.name, checksum=checksum,
                               description=step.description, is_applied=False)

    _read_model = staticmethod(read_model)

    def _entry(self, step: Step, model: MigrationReadModel, duration: int,
               exc: BaseException | None = None) -> MigrationAuditlogEntry:
        deps = self.deps
        return deps.journal.entry(TRANSACTION_NAMES[step.direction], model, duration_ms=duration, exc=exc,
                               entry_id=self._attempt)


_UNSETTLED = (State.FAILED, State.APPLYING, State.REVERTING)


def _irreversible(exc: BaseException | None) -> bool:
    """The migration changed runway's collections in a way no abort can take back (engine/guard.py)."""
    return isinstance(exc, RunwayCollectionsChangedError) and not exc.undone


def _cleanup_budget(exc: BaseException) -> contextlib.AbstractContextManager[Any]:
    """After a connection failure, best-effort clean-up writes get one short budget (the server may be gone)."""
    return pymongo.timeout(1.0) if isinstance(exc, ConnectionFailure) else contextlib.nullcontext()


def _ms(started: float) -> int:
    return int(round((time.monotonic() - started) * 1000))


def utcnow() -> dt.datetime:
    """Naive UTC with millisecond precision (what BSON stores)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _traceback(deps: RunDeps, exc: BaseException) -> str:
    return project_traceback(exc, deps.target.config_dir, deps.redact)


def blocked_hint(step: Step, left: State | None) -> str:
    said = f", so its state is {left.value}" if left is not None else " and its record could not be written"
    return f"; its effects may remain{said}: check the data, then resolve it: {remedy('mark-either', step.version)}"
