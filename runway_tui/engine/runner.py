"""Running planned steps: import the file, run it, record state and audit, all in one transaction
when the server and the migration allow it, or through `applying` -> `applied`/`failed` otherwise."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import traceback
import types
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pymongo
from pymongo.errors import ConnectionFailure, PyMongoError

from runway_tui.engine.context import MigrationContext
from runway_tui.engine.errors import StepFailedError
from runway_tui.engine.events import (
    StepAppliedEvent,
    StepFailedEvent,
    StepLogEvent,
    StepProgressEvent,
    StepStartedEvent,
)
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
from runway_tui.engine.scripts import checksum_text

if TYPE_CHECKING:
    from runway_tui.engine.app import MigrationApp

TRANSACTION_NAMES = {Direction.UP: "UpgradeTransaction", Direction.DOWN: "DowngradeTransaction"}
DATE_FMT = "%Y-%m-%d %H:%M:%S"


class StepRunner:
    """Executes one step at a time for a MigrationApp (which holds the lock while we run)."""

    def __init__(self, app: MigrationApp) -> None:
        self.app = app

    # ------------------------------------------------------------------ loading
    def load(self, step: Step, path: Path) -> tuple[types.ModuleType, str]:
        """Import the migration from exactly the text we checksum (only up/down ever runs a file)."""
        text = path.read_bytes().decode("utf-8")
        module = types.ModuleType(f"runway_migration_{step.version}")
        module.__file__ = str(path)
        import sys

        sys.path.insert(0, str(path.parent))  # lets a migration import helpers (files starting with "_")
        try:
            exec(compile(text.removeprefix("\ufeff"), str(path), "exec"), module.__dict__)  # noqa: S102 - running migrations is our job
        finally:
            sys.path.remove(str(path.parent))
        return module, checksum_text(text)

    # ------------------------------------------------------------------ running
    def run(self, step: Step, row: StatusRow | None, index: int, total: int) -> StepResult:
        app = self.app
        if row is None or row.script is None:
            raise StepFailedError(f"{step.name}: the migration file is missing")
        in_transaction = app.server_info.supports_transactions and step.transactional
        app.emit(StepStartedEvent(app, step, index, total, in_transaction))
        started = time.monotonic()
        module = None
        checksum = row.script.checksum or ""
        try:
            module, checksum = self.load(step, row.script.path)
            function = getattr(module, "upgrade" if step.direction is Direction.UP else "downgrade", None)
            if not callable(function):
                raise TypeError(f"{row.script.path.name} has no callable {step.direction.value}grade(ctx)")
        except Exception as exc:
            self._record_failure(step, row.record, checksum, exc, started, in_transaction=False, ran=False)
            raise self._failed(step, exc, rolled_back=True) from exc

        if in_transaction:
            return self._run_in_transaction(step, row.record, function, checksum, started)
        return self._run_without_transaction(step, row.record, function, checksum, started)

    def _context(self, step: Step, session: Any) -> MigrationContext:
        app = self.app
        return MigrationContext(
            db=app.database, client=app.client, session=session, application=app.name, version=step.version,
            name=step.name, direction=step.direction.value,
            _on_log=lambda message: app.emit(StepLogEvent(app, step, message)),
            _on_progress=lambda done, total: app.emit(StepProgressEvent(app, step, done, total)),
        )

    def _run_in_transaction(self, step: Step, record: MigrationRecord | None, function: Callable[..., Any],
                            checksum: str, started: float) -> StepResult:
        app = self.app
        before = self._read_model(step, record, checksum)
        session = app.run_session  # the operation's session: the lease names it (see MigrationApp._locked)
        assert session is not None, "steps run only while the app holds the lock"
        try:
            session.start_transaction()
            function(self._context(step, session))
            app.lock.check()
            duration = _ms(started)
            self._write_success(step, record, checksum, duration, session)
            app.journal.append(self._entry(step, before, duration), session=session)
            self._commit(session)
        except Exception as exc:
            with _cleanup_budget(exc):  # the server may be gone: bound the clean-up, do not hang
                if session.in_transaction:
                    with contextlib.suppress(PyMongoError):  # the server discards it by itself anyway
                        session.abort_transaction()
                else:  # the commit failed: end the server's transaction now, or its locks block our writes
                    with contextlib.suppress(PyMongoError):
                        app.client.admin.command("killSessions", [session.session_id])
                    app.run_session = app.client.start_session()  # the killed one cannot run the next step
                committed = self._committed_anyway(step, exc)
                if not committed:
                    self._record_failure(step, record, checksum, exc, started, in_transaction=True, ran=True)
            if not committed:
                raise self._failed(step, exc, rolled_back=True) from exc
        duration = _ms(started)
        app.emit(StepAppliedEvent(app, step, duration, True))
        return StepResult(step, duration, True)

    def _run_without_transaction(self, step: Step, record: MigrationRecord | None, function: Callable[..., Any],
                                 checksum: str, started: float) -> StepResult:
        app = self.app
        before = self._read_model(step, record, checksum)
        busy = State.APPLYING if step.direction is Direction.UP else State.REVERTING
        expected = State.PENDING if step.direction is Direction.UP else State.APPLIED
        try:  # nothing has run yet: a failure here leaves the migration as it was
            if record is None:
                app.repository.upsert(self._new_record(step, checksum))
            marked = app.repository.update(step.version, {"state": busy.value, "error": None},
                                           expect={"state": {"$in": [expected.value, None]}})  # None: Mongorunway
        except PyMongoError as exc:
            raise self._failed(step, exc, rolled_back=True) from exc
        if not marked:
            raise StepFailedError(f"{step.name}: its record changed under us (another runner?); refresh and retry")
        try:
            function(self._context(step, None))
            app.lock.check()
        except Exception as exc:
            with _cleanup_budget(exc):
                self._record_failure(step, record, checksum, exc, started, in_transaction=False, ran=True)
            raise self._failed(step, exc, rolled_back=False) from exc
        duration = _ms(started)
        try:  # the step ran: its audit entry first (never lost), then the state; a failure leaves it `failed`
            app.journal.append(self._entry(step, before, duration))
            self._write_success(step, record, checksum, duration, None)
        except Exception as exc:
            with _cleanup_budget(exc):
                self._record_failure(step, record, checksum, exc, started, in_transaction=False, ran=True)
            raise self._failed(step, exc, rolled_back=False) from exc
        app.emit(StepAppliedEvent(app, step, duration, False))
        return StepResult(step, duration, False)

    # ------------------------------------------------------------------ state writes
    def _write_success(self, step: Step, record: MigrationRecord | None, checksum: str, duration: int,
                       session: Any) -> None:
        app = self.app
        if step.direction is Direction.UP:
            fields = {"is_applied": True, "state": State.APPLIED.value, "checksum": checksum,
                      "applied_at": app.now(), "applied_by": app.identity, "duration_ms": duration, "error": None,
                      "name": step.name, "description": step.description, "run_id": app.lock.owner}
            expect_state = [State.PENDING.value, State.APPLYING.value, None]  # None: a Mongorunway record
        else:
            fields = {"is_applied": False, "state": State.PENDING.value, "applied_at": None, "applied_by": None,
                      "duration_ms": duration, "error": None, "run_id": app.lock.owner}
            expect_state = [State.APPLIED.value, State.REVERTING.value, None]
        if record is None and step.direction is Direction.UP:
            app.repository.upsert(self._new_record(step, checksum), session=session)
        if not app.repository.update(step.version, fields, session=session, expect={"state": {"$in": expect_state}}):
            raise StepFailedError(f"{step.name}: its record changed under us (another runner?); nothing was recorded")

    def _record_failure(self, step: Step, record: MigrationRecord | None, checksum: str, exc: BaseException,
                        started: float, *, in_transaction: bool, ran: bool) -> None:
        """Outside any transaction: note the error, and the `failed` state when effects may remain."""
        app = self.app
        message = app.redact(f"{type(exc).__name__}: {exc}")
        try:
            if record is None and step.direction is Direction.UP:
                app.repository.upsert(self._new_record(step, checksum))
            fields: dict[str, Any] = {"error": message, "error_traceback": _traceback(app, exc)}
            if ran and not in_transaction:
                fields["state"] = State.FAILED.value  # effects may be half applied: block until `mark`
            app.repository.update(step.version, fields)
            app.journal.append(self._entry(step, self._read_model(step, record, checksum), _ms(started), exc))
        except PyMongoError as db_exc:
            app.log("error", f"could not record the failure of {step.name}: "
                         f"{app.redact(str(db_exc).split(', Timeout:')[0])}")

    def _committed_anyway(self, step: Step, exc: BaseException) -> bool:
        """After a commit error with an unknown outcome, the record tells whether it committed."""
        if not isinstance(exc, (ConnectionFailure, PyMongoError)):
            return False
        try:
            record = self.app.repository.get(step.version)
            doc = self.app.repository.collection.find_one({"_id": step.version}, {"run_id": 1}) or {}
        except PyMongoError:
            return False
        want = State.APPLIED if step.direction is Direction.UP else State.PENDING
        return record is not None and record.state is want and doc.get("run_id") == self.app.lock.owner

    @staticmethod
    def _commit(session: Any) -> None:
        for attempt in range(3):
            try:
                session.commit_transaction()
                return
            except PyMongoError as exc:
                if attempt < 2 and exc.has_error_label("UnknownTransactionCommitResult"):
                    continue
                raise

    # ------------------------------------------------------------------ helpers
    def _failed(self, step: Step, exc: BaseException, rolled_back: bool) -> StepFailedError:
        app = self.app
        message = app.redact(f"{type(exc).__name__}: {exc}")
        app.emit(StepFailedEvent(app, step, message, type(exc).__name__, rolled_back))
        return StepFailedError(f"{step.direction.value} {step.name} failed: {message}")

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
        app = self.app
        return app.audit_entry(TRANSACTION_NAMES[step.direction], model, duration_ms=duration, exc=exc)


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


def _traceback(app: Any, exc: BaseException) -> str:
    """The failure's traceback, secrets scrubbed, for the detail screen (the `error` stays one line)."""
    return app.redact("".join(traceback.format_exception(exc)))[-TRACEBACK_CHARS:]
