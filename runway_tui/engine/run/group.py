"""`--group`: a whole run in ONE transaction, its bookkeeping written once at its end.

Every step's migration runs in the run's transaction, as a step of its own would (the guard watching,
the lease checked between steps); what each step records (its record, audit entry and source) is kept
and written by ONE `write_steps` at the run's end (one `bulkWrite`, or one bulk write per collection),
still inside the transaction, just before its commit. A failure anywhere rolls the whole run back and
records the failed attempt on the step it belongs to.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

from bson import ObjectId
from pymongo.errors import PyMongoError

from runway_tui.engine.errors import StepFailedError
from runway_tui.engine.events import StepAppliedEvent, StepStartedEvent
from runway_tui.engine.interrupts import allowed, deferred
from runway_tui.engine.messages import exception_line
from runway_tui.engine.models import MigrationAuditlogEntry, MigrationRecord, StatusRow, Step, StepResult
from runway_tui.engine.store import driver_errors
from runway_tui.engine.store.protocol import StepOutcome, StepWrite

if TYPE_CHECKING:
    from pymongo.client_session import ClientSession

    from runway_tui.engine.runner import StepRunner

Attempt = tuple[Step, MigrationRecord | None, str, float]  # step, its record before, checksum, monotonic start


class GroupRun:
    """One `--group` run over `steps`, on the runner's operation session."""

    def __init__(self, runner: StepRunner, steps: list[Step], rows: dict[int, StatusRow]) -> None:
        self.runner, self.deps, self.steps, self.rows = runner, runner.deps, steps, rows
        session = self.deps.sessions.current
        assert session is not None, "steps run only while the operation holds the lock"
        self.session: ClientSession = session
        self.done: list[tuple[Step, int]] = []
        self.written: list[MigrationAuditlogEntry] = []
        self.writes: list[tuple[StepWrite, Step]] = []  # written together at the run's end (`_write_all`)
        self.attempts: dict[int, Attempt] = {}  # by version: whose failure a record found changed at the end is
        self.current: Attempt | None = None
        self.recording = False  # the run's bookkeeping is being written (after its last step)
        self.committing = False

    def run(self) -> list[StepResult]:
        from runway_tui.engine.runner import _transaction_number

        runner, deps, session = self.runner, self.deps, self.session
        with deferred():
            session.start_transaction()
            transaction = _transaction_number(session)
        try:
            for index, step in enumerate(self.steps, start=1):
                self._step(index, step, transaction)
            with deferred():
                deps.lease.check()
                self.recording = True
                self._write_all()
                self.committing = True
                runner._commit(session)
        except BaseException as exc:  # noqa: BLE001 - every way out of the run is a recorded attempt
            if self.current is not None:
                exc = runner.watch.explained(self.current[0], exc)
            failure = self._failed(exc)
            if failure is not None:
                raise failure from exc
        for entry in self.written:
            deps.journal.written(entry)
        for step, duration in self.done:
            deps.events.emit(StepAppliedEvent(deps.events.source, step, duration, True))
        return [StepResult(step, duration, True) for step, duration in self.done]

    def _step(self, index: int, step: Step, transaction: object) -> None:
        """One migration of the run, in the run's transaction; its bookkeeping is kept for `_write_all`."""
        from runway_tui.engine.runner import _ms, _session_misuse

        runner, deps, session = self.runner, self.deps, self.session
        deps.lease.check()
        row = self.rows.get(step.version)
        if row is None or row.script is None:
            raise StepFailedError(f"{step.name}: the migration file is missing")
        runner._started(step)
        deps.events.emit(StepStartedEvent(deps.events.source, step, index, len(self.steps), True))
        started = time.monotonic()
        self.current = (step, row.record, row.script.checksum or "", started)
        with runner._environment(row.script):
            runner._attempt = ObjectId()
            runner.watch.begin(last_of_run=index == len(self.steps))
            try:
                with allowed(), runner._captured(step):
                    module, checksum = runner.deps.loader.load(step, row.script.path)
                    self.current = (step, row.record, checksum, started)
                    function = runner._entry_point(step, row.script, module)
            except BaseException as exc:  # noqa: BLE001 - the guard says whether it touched our collections
                with deferred():
                    verdict = runner.watch.end(step, exc)
                if verdict is exc:
                    raise
                raise verdict from exc
            runner.watch.pause()
            before = runner._read_model(step, row.record, checksum)
            runner.watch.call(step, function, session, transaction)
        with deferred():
            misuse = _session_misuse(session, transaction)
            if misuse is not None:
                raise misuse
            deps.lease.check()
            duration = _ms(started)
            entry = runner._entry(step, before, duration)
            self.writes.append((runner._success_write(step, row.record, checksum, duration, entry), step))
            self.attempts[step.version] = self.current
            runner.watch.verdict(step)
        self.done.append((step, duration))
        self.written.append(entry)

    def _write_all(self) -> None:
        """Every step's bookkeeping in ONE write, in the run's transaction (`MigrationStore.write_steps`)."""
        deps, session = self.deps, self.session
        outcome = deps.store.write_steps([write for write, _step in self.writes], session,
                                        lease_filter=deps.lease.lease_filter())
        if outcome is StepOutcome.LEASE_LOST:
            raise deps.lease.taken_away()
        if outcome is StepOutcome.RECORD_CHANGED:
            for write, step in self.writes:  # in the transaction: the record our write did not reach is the culprit
                record = deps.store.records.get(write.version, session=session)
                if (record is None or record.state.value != write.fields["state"]
                        or deps.store.records.run_id(write.version, session=session) != deps.lease.owner):
                    self.current = self.attempts.get(step.version, self.current)  # the failure is that step's
                    raise self.runner._record_changed(step, session)
            raise StepFailedError("--group: a record of the run changed under us (another runner?); its success "
                                  "was not recorded")

    def _failed(self, exc: BaseException) -> StepFailedError | None:
        """Abort the run's transaction, record the failed attempt, and say that nothing of the run is applied
        (None: the commit's error hid a commit that happened)."""
        from runway_tui.engine.runner import SessionMisuseError, _cleanup_budget, _irreversible

        runner, deps, session, done = self.runner, self.deps, self.session, self.done
        committed_by_migration = (isinstance(exc, SessionMisuseError) and exc.committed) or _irreversible(exc)
        with deferred(), _cleanup_budget(exc):
            if session.in_transaction:
                with contextlib.suppress(PyMongoError):
                    session.abort_transaction()
            elif self.committing and done and runner._recovered_commit(done[-1][0], exc, aborted=False):
                return None
            if self.current is None:  # before the first step started: nothing to record
                return StepFailedError(f"--group run failed before its first step: {exception_line(exc, deps.redact)}")
            step, record, checksum, started = self.current
            left = runner._record_failure(step, record, checksum, exc, started,
                                          in_transaction=not committed_by_migration, ran=True)
        failed = runner._failed(step, exc, rolled_back=not committed_by_migration, left=left)
        if isinstance(exc, SessionMisuseError) and exc.committed:
            return type(failed)(f"{failed} (--group: the migration committed the run's transaction itself, so the "
                                f"{len(done)} step(s) before it are applied)")
        advice = ""
        if driver_errors.too_big(exc):
            advice = ("; the run's transaction outgrew the server's limits (size or lifetime): drop --group (or set "
                      "group: false) to run each migration in its own transaction")
        where = ("at its commit" if self.committing else "recording its steps, at its end" if self.recording
                 else f"at step {len(done) + 1} of {len(self.steps)}")
        return type(failed)(f"{failed} (--group: the run failed {where} and was rolled back as a whole: none of "
                            f"its {len(self.steps)} migration(s) is applied{advice})")
