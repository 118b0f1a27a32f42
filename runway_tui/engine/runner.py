"""Running planned steps: import the file, run it, record state and audit, all in one transaction
when the server and the migration allow it, or through `applying` -> `applied`/`failed` otherwise."""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import os
import time
import traceback
import types
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pymongo
from bson import ObjectId
from pymongo.errors import ConnectionFailure, PyMongoError

from runway_tui.engine.capture import captured_output
from runway_tui.engine.context import MigrationContext
from runway_tui.engine.errors import (
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
from runway_tui.engine.guard import Change, catalog, catalog_changes
from runway_tui.engine.interrupts import allowed, deferred
from runway_tui.engine.messages import exception_line, one_line
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
from runway_tui.engine.scripts import ScriptFile
from runway_tui.engine.store import driver_errors
from runway_tui.engine.store.protocol import RecordChange
from runway_tui.engine.vocabulary import remedy

if TYPE_CHECKING:
    from runway_tui.engine.run.deps import RunDeps

TRANSACTION_NAMES = {Direction.UP: "UpgradeTransaction", Direction.DOWN: "DowngradeTransaction"}
CATALOG_BUDGET_S = 5.0  # one `listCollections` of runway's collections (engine/guard.py): milliseconds, normally
# The catalog is looked at after a step when this long has passed since the last look, and always after a
# run's last step: every step of real work gets its own look, a run of 1000 no-op steps a few dozen.
LOOK_EVERY_S = 0.1
DATE_FMT = "%Y-%m-%d %H:%M:%S"


class StepRunner:
    """Executes one step at a time for a MigrationApp (which holds the lock while we run)."""

    def __init__(self, deps: RunDeps) -> None:
        self.deps = deps  # narrow dependencies (engine/run/deps.py): never the app
        self._lost_in: int | None = None  # the step during which the lease was found taken away
        self._attempt: ObjectId | None = None  # the current step's audit entry: one per attempt, whatever happens
        # runway's collections (name -> UUID) as the last step left them (engine/guard.py); None: read it first
        self._catalog: dict[str, Any] | None = None
        self._changes: list[Change] = []  # the guard's findings for the current step, across its windows
        self._looking: concurrent.futures.Future[dict[str, Any] | None] | None = None  # the catalog, being read
        self._looked_at = 0.0  # monotonic time of the last look at the catalog
        self._unlooked: list[str] = []  # steps run since the last look (whose catalog changes it would see)
        self._last_of_run = True  # the current step is the run's last: its catalog is always looked at
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self.tampered = False  # a step of this run changed runway's collections in a way that was not undone

    def begin_run(self) -> None:
        """A new run: runway's collections are read again before its first step."""
        self._catalog, self._looking, self.tampered, self._unlooked = None, None, False, []

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
        self._last_of_run = index == total
        if row is None or row.script is None:
            raise StepFailedError(f"{step.name}: the migration file is missing")
        in_transaction = deps.target.supports_transactions and step.transactional
        self._started(step)
        deps.events.emit(StepStartedEvent(deps.events.source, step, index, total, in_transaction))
        started = time.monotonic()
        checksum = row.script.checksum or ""
        with self._environment(row.script):
            self._watch_begin()
            try:
                with allowed(), self._captured(step):
                    module, checksum = self.deps.loader.load(step, row.script.path)
                    function = self._entry_point(step, row.script, module)
            except BaseException as exc:  # noqa: BLE001 - sys.exit() or Ctrl-C at import is a failed attempt too
                with deferred():
                    error = self._watch_end(step, exc)
                    kept = _irreversible(error)  # the file's own code changed runway's collections at import
                    left = self._record_failure(step, row.record, checksum, error, started, in_transaction=not kept,
                                                ran=kept)
                raise self._failed(step, error, rolled_back=not kept, left=left) from exc
            self._watch_pause()

            if in_transaction:
                return self._run_in_transaction(step, row.record, function, checksum, started)
            return self._run_without_transaction(step, row.record, function, checksum, started)

    def _environment(self, script: ScriptFile) -> contextlib.AbstractContextManager[Any]:
        """What a file needs importable while its step runs: for Mongorunway's format, the `mongorunway`
        stand-in and the project's folders (`import migrations`), as its CLI had them."""
        if script.format != "mongorunway":
            return contextlib.nullcontext()
        from runway_tui.compat.mongorunway import steps

        return steps.environment(list(self.deps.target.project_dirs))

    def _entry_point(self, step: Step, script: ScriptFile, module: types.ModuleType) -> Callable[..., Any]:
        """The function the step calls with its context. A Mongorunway file's business rules are checked
        here: before the step's transaction, as Mongorunway does; a broken rule fails the step."""
        name = "upgrade" if step.direction is Direction.UP else "downgrade"
        if script.format == "mongorunway":
            from runway_tui.compat.mongorunway import steps

            return steps.entry_point(module, name, self._context(step, None), self.deps.target.session_hex)
        function = getattr(module, name, None)
        if not callable(function):
            raise TypeError(f"{script.path.name} has no callable {name}(ctx)")
        return function

    # ------------------------------------------------------------------ group mode (engine/run/group.py)
    def run_group(self, steps: list[Step], rows: dict[int, StatusRow]) -> list[StepResult]:
        """`--group`: the whole run in ONE transaction with all its records and audit entries, so either
        every step commits or none does. A failure rolls everything back and records the failed attempt."""
        from runway_tui.engine.run.group import GroupRun

        with deferred():
            return GroupRun(self, steps, rows).run()

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
        )

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
            self._call_watched(step, function, session, transaction)
            with deferred():
                misuse = _session_misuse(session, transaction)
                if misuse is not None:
                    effects_may_remain = misuse.committed
                    raise misuse
                deps.lease.check()  # locally; the server-side fence goes with the step's write, in its transaction
                recorded = _ms(started)
                entry = self._entry(step, before, recorded)
                self._write_success(step, record, checksum, recorded, session, entry)
                self._watch_verdict(step)  # still in the transaction: a change found now rolls the step back
                self._commit(session)
        except BaseException as exc:  # noqa: BLE001 - every way out of a step is a recorded attempt
            exc = self._explained(step, exc)
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
        expected = State.PENDING if step.direction is Direction.UP else State.APPLIED
        try:  # nothing has run yet: a failure here leaves the migration as it was
            with deferred():
                deps.lease.verify()
                if record is None:
                    deps.store.records.upsert(self._new_record(step, checksum))
                marked = deps.store.records.update(step.version, {"state": busy.value, "error": None,
                                                              "runner": deps.journal.runner_document()},
                                               expect={"state": {"$in": [expected.value, None]}})  # None: Mongorunway
        except (PyMongoError, LockLostError) as exc:
            raise self._failed(step, exc, rolled_back=True) from exc
        if not marked:
            raise StepFailedError(f"{step.name}: its record changed under us (another runner?); refresh and retry")
        try:
            self._call_watched(step, function, None, None)
            with deferred():
                deps.lease.verify()
                self._watch_verdict(step)  # before the success is written
        except BaseException as exc:  # noqa: BLE001 - every way out of a step is a recorded attempt
            exc = self._explained(step, exc)
            with deferred(), _cleanup_budget(exc):
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
            fields = RecordChange.applied(deps.clock(), deps.identity, checksum, duration_ms=duration, name=step.name,
                                          description=step.description, run_id=deps.lease.owner).fields
            expect_state = [State.PENDING.value, State.APPLYING.value, None]  # None: a Mongorunway record
        else:
            fields = RecordChange.pending(duration_ms=duration, run_id=deps.lease.owner).fields
            expect_state = [State.APPLIED.value, State.REVERTING.value, None]
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

    @staticmethod
    def _commit(session: Any) -> None:
        for attempt in range(3):
            try:
                session.commit_transaction()
                return
            except PyMongoError as exc:
                if attempt < 2 and driver_errors.commit_result_unknown(exc):
                    continue
                raise

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
        kept = "" if rolled_back or lost else self._blocked_hint(step, left)
        if isinstance(exc, KeyboardInterrupt):
            return StepInterruptedError(f"{step.direction.value} {step.name} was interrupted: {message}; the "
                                        f"attempt was recorded{kept}")
        return StepFailedError(f"{step.direction.value} {step.name} failed: {message}{kept}")

    @staticmethod
    def _blocked_hint(step: Step, left: State | None) -> str:
        said = f", so its state is {left.value}" if left is not None else " and its record could not be written"
        return f"; its effects may remain{said}: check the data, then resolve it: {remedy('mark-either', step.version)}"

    # ------------------------------------------------------------------ runway's own collections (engine/guard.py)
    def _watch_begin(self) -> None:
        """A new attempt: its entry id, the collections as they are now (once a run), and the guard armed."""
        self._attempt, self._changes = ObjectId(), []
        if self._looking is not None:  # a look left behind by a step that failed first: start afresh
            self._looking, self._catalog = None, None
        if self._catalog is None:
            self._catalog = self._read_catalog()
        self._watch_resume(None, None)

    def _watch_resume(self, session: Any, transaction: Any) -> None:
        self.deps.guard.arm(ignore_threads=[self.deps.lease.heartbeat_ident])
        if session is not None:
            self.deps.guard.in_transaction(session.session_id, transaction)

    def _watch_pause(self) -> None:
        """The engine writes now (`applying`...): the guard looks away, keeping what it saw."""
        self._changes += self.deps.guard.disarm()

    def _call_watched(self, step: Step, function: Callable[..., Any], session: Any, transaction: Any) -> None:
        """The migration's code with the guard on: a change to runway's collections seen on the wire fails the
        step at once; the look at the catalog starts now and is taken by `_watch_verdict`, before anything of
        the step is kept (so that its round trip overlaps the step's own next one)."""
        with deferred():
            self._watch_resume(session, transaction)
        try:
            self._call(step, function, session)
        except BaseException as exc:  # noqa: BLE001 - the guard's verdict may replace it
            with deferred():
                verdict = self._watch_end(step, exc)
            if verdict is exc:
                raise
            raise verdict from exc
        with deferred():
            self._changes += self.deps.guard.disarm()
            if self._changes:  # seen on the wire: no need to wait for the catalog
                verdict = self._watch_end(step, None)
                if verdict is not None:
                    raise verdict
            self._unlooked.append(step.name)
            if self._last_of_run or time.monotonic() - self._looked_at >= LOOK_EVERY_S:
                self._looking = self._lookout().submit(self._read_catalog)

    def _watch_verdict(self, step: Step) -> None:
        """Before the step's success is committed (or, without a transaction, written): the catalog compared
        with before the step; a drop or rename by any client fails the step."""
        looking, self._looking = self._looking, None
        if looking is None:
            return
        try:
            after = looking.result(timeout=CATALOG_BUDGET_S + 1)
        except Exception:  # noqa: BLE001 - a lost server: the step's own writes say what matters
            after = None
        verdict = self._watch_end(step, None, after=after, looked=True)
        if verdict is not None:
            raise verdict

    def _explained(self, step: Step, exc: BaseException) -> BaseException:
        """A failure after the migration's code (its record gone, a write conflict...): the catalog look still
        under way says whether the migration caused it by changing runway's collections."""
        if self._looking is None and not self._unlooked:
            return exc
        with deferred():
            if self._looking is None:  # not looked at yet (a fast step): look now, the step failed anyway
                self._looking = self._lookout().submit(self._read_catalog)
            try:
                self._watch_verdict(step)
            except RunwayCollectionsChangedError as verdict:
                verdict.__cause__ = exc
                return verdict
        return exc

    def _lookout(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="runway-guard")
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)

    def _watch_end(self, step: Step, error: BaseException | None, *, after: dict[str, Any] | None = None,
                   looked: bool = False) -> Any:
        """The guard off and the collections compared: `error`, or the step's failure when the migration changed
        runway's collections (then said loudly when it could not be undone)."""
        deps = self.deps
        changes = self._changes + deps.guard.disarm()
        self._changes = []
        if not looked:  # a lost server: no catalog to compare (and no wait for one)
            after = None if isinstance(error, ConnectionFailure) else self._read_catalog()
        since = [name for name in self._unlooked if name != step.name]
        self._looked_at, self._unlooked = time.monotonic(), []
        if self._catalog is not None and after is not None:
            seen = deps.guard.names if any(not c.collection for c in changes) else {c.collection for c in changes}
            found = catalog_changes(self._catalog, after, seen)
            if found and since:  # the look before this one came before these steps, already committed
                found = [dataclasses.replace(c, text=f"{c.text} (during this step or {', '.join(since)}, run since "
                                                      "the last look)") for c in found]
            changes += found
        self._catalog = after
        if not changes:
            return error
        undone = all(c.undoable for c in changes)
        what = "; ".join(dict.fromkeys(c.text for c in changes))
        also = f" (it also raised {exception_line(error, deps.redact)})" if error is not None else ""
        who = "a migration" if since and any("run since the last look" in c.text for c in changes) else "the migration"
        if undone:
            text = (f"{who} changed runway's own collections ({what}) in the step's transaction: rolled back "
                    f"with it; only the engine writes there{also}")
        else:
            text = (f"{who} changed runway's own collections ({what}), which could not be undone: only the "
                    f"engine writes there; check them (status, history) before anything else runs{also}")
            self.tampered = True
            deps.journal.collections_changed()
            deps.events.log("error", f"{step.name} changed runway's own collections ({what}) and this could not be "
                                     "undone: its step is failed; check the records and the audit log before anything "
                                     "else runs")
            if any(c.collection in ("", deps.lease.collection.name) for c in changes):
                with contextlib.suppress(PyMongoError):
                    deps.lease.reclaim()  # our lease was deleted under us: ours again, unless someone took it
        verdict = RunwayCollectionsChangedError(text, undone=undone)
        verdict.__cause__ = error
        return verdict

    def _read_catalog(self) -> dict[str, Any] | None:
        try:
            with pymongo.timeout(CATALOG_BUDGET_S):
                return catalog(self.deps.target.database, self.deps.guard.names)
        except PyMongoError:  # the step's own error (a lost server) says what matters
            return None

    def _new_record(self, step: Step, checksum: str) -> MigrationRecord:
        return MigrationRecord(version=step.version, name=step.name, checksum=checksum,
                               description=step.description, is_applied=False)

    @staticmethod
    def _read_model(step: Step, record: MigrationRecord | None, checksum: str) -> MigrationReadModel:
        if record is not None:
            return record.read_model
        return MigrationReadModel(step.name, step.version, checksum, step.description, step.direction is Direction.DOWN)

    def _entry(self, step: Step, model: MigrationReadModel, duration: int,
               exc: BaseException | None = None) -> MigrationAuditlogEntry:
        deps = self.deps
        return deps.journal.entry(TRANSACTION_NAMES[step.direction], model, duration_ms=duration, exc=exc,
                               entry_id=self._attempt)


class SessionMisuseError(StepFailedError):
    """The migration ended or replaced the step's transaction (`ctx.session`) itself."""

    def __init__(self, message: str, committed: bool) -> None:
        super().__init__(message)
        self.committed = committed  # its writes may be in the database: the step cannot be rolled back


def _transaction_number(session: Any) -> Any:
    server_session = getattr(session, "_server_session", None)
    return getattr(server_session, "transaction_id", None)


def _session_misuse(session: Any, transaction: Any) -> SessionMisuseError | None:
    """After the migration returned: is `ctx.session` still in the step's own transaction?"""
    if session.in_transaction and _transaction_number(session) == transaction:
        return None
    state = getattr(getattr(session, "_transaction", None), "state", None)
    aborted = not session.in_transaction and state == _TXN_ABORTED
    if aborted:
        return SessionMisuseError("the migration aborted the step's transaction (ctx.session.abort_transaction()); "
                                  "its writes were discarded. A migration fails by raising an exception",
                                  committed=False)
    return SessionMisuseError("the migration ended the step's transaction itself (commit_transaction(), or a "
                              "transaction of its own on ctx.session): its writes may be in the database, so the "
                              "step cannot be rolled back. Never end or restart ctx.session's transaction",
                              committed=True)


_TXN_ABORTED = 6  # pymongo's _TxnState.ABORTED
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


TRACEBACK_CHARS = 8000  # the end of it: the migration's own frames and the error


def _traceback(deps: RunDeps, exc: BaseException) -> str:
    """The failure's traceback, secrets scrubbed, for the detail screen (the `error` stays one line). It starts
    at the first frame in the project (the migration, then what it called), not in runway-tui's runner, and
    names the project's files relative to it, as the user knows them."""
    root = str(deps.target.config_dir) + os.sep
    start = exc.__traceback__
    while start is not None and not start.tb_frame.f_code.co_filename.startswith(root):
        start = start.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, start or exc.__traceback__))
    return deps.redact(text.replace(f'File "{root}', 'File "'))[-TRACEBACK_CHARS:]
