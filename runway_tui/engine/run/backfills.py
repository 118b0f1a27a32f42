"""A step's backfills as the runner sees them: built from its narrow dependencies, and its end when it stops early.

A backfill stopped before its end leaves its migration `paused` at its checkpoint (never `failed`): every batch
it committed is done, exactly once on a replica set, and the next `up` resumes it. The pause is recorded with
its reason and who caused it (an audit entry), and said in one line with the way on.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from pymongo.errors import PyMongoError

from runway_tui.engine.backfill.checkpoint import PauseReason
from runway_tui.engine.backfill.step import BackfillParts, BackfillStep, StepFacts
from runway_tui.engine.errors import BackfillCancelled, BackfillUsageError, LockLostError, StepPausedError
from runway_tui.engine.events import StepFailedEvent, StepProgressEvent
from runway_tui.engine.messages import exception_line, one_line
from runway_tui.engine.models import Direction, MigrationReadModel, MigrationRecord, State, Step
from runway_tui.engine.store import driver_errors

if TYPE_CHECKING:
    from runway_tui.engine.run.deps import RunDeps


def backfills_for(deps: RunDeps, step: Step, record: MigrationRecord | None, model: MigrationReadModel,
                  checksum: str, *, in_transaction: bool, in_group: bool) -> BackfillStep:
    """The attempt's backfills over the runner's dependencies; its record's checkpoint resumes a paused walk."""
    parts = BackfillParts(
        database=deps.target.database, session=lambda: deps.sessions.current,
        transactions=deps.target.supports_transactions, store=deps.store, lease=deps.lease,
        control=deps.backfill.control, settings=deps.backfill.settings, guard=deps.guard, identity=deps.identity,
        clock=deps.clock, entry=lambda name, entry_model, detail=None, exc=None: deps.journal.entry(
            name, entry_model, detail=detail, exc=exc),
        emit=lambda f: deps.events.emit(StepProgressEvent(deps.events.source, step, f.done, f.total, f)),
        log=deps.events.log)
    facts = StepFacts(step.version, step.direction.value, checksum, model, in_transaction, in_group)
    return BackfillStep(parts, facts, record.backfill if record is not None else None)


def nothing_written(deps: RunDeps, backfill: BackfillStep | None, exc: BaseException) -> bool:
    """A backfill refused its call (bad input) before any batch, and the migration wrote nothing itself."""
    return (isinstance(exc, BackfillUsageError) and not deps.guard.migration_wrote
            and (backfill is None or (backfill.resumed_from is None and backfill.checkpoint.done == 0)))


def restore(deps: RunDeps, step: Step, record: MigrationRecord | None) -> None:
    """The record as it was before the step (nothing ran), the failed attempt's error kept on it."""
    with contextlib.suppress(PyMongoError):
        before = record.state if record is not None else State.PENDING
        kept = record.backfill.to_document() if record is not None and record.backfill is not None else None
        deps.store.records.update(step.version, {"state": before.value, "runner": None, "backfill": kept})


def pause_reason(exc: BaseException) -> PauseReason:
    if isinstance(exc, BackfillCancelled):
        return PauseReason.CANCEL
    if isinstance(exc, KeyboardInterrupt):
        return PauseReason.SIGNAL
    if isinstance(exc, LockLostError):
        return PauseReason.LEASE_LOST
    return PauseReason.ERROR


def record_pause(deps: RunDeps, step: Step, backfill: BackfillStep, exc: BaseException,
                 traceback_text: str) -> StepPausedError:
    """Leave the migration `paused` (record and audit entry, under our lease) and return the error to raise."""
    reason = pause_reason(exc)
    by = exc.by if isinstance(exc, BackfillCancelled) else deps.identity()
    message = exception_line(exc, deps.redact)
    error = exc if reason is PauseReason.ERROR else None
    fields: dict[str, Any] = {"state": State.PAUSED.value, "runner": None, "error": message if error else None,
                              "error_traceback": traceback_text if error else None,
                              "backfill": backfill.paused_checkpoint(reason, by).to_document()}
    try:
        deps.store.records.update(step.version, fields)
        deps.store.audit.append(backfill.pause_entry(reason, by, error))
    except PyMongoError as db_exc:
        deps.events.log("error", f"could not record the pause of {step.name}: "
                        f"{one_line(driver_errors.log_text(db_exc), redact=deps.redact)}")
    verb = "up" if step.direction is Direction.UP else "down"
    said = f"{step.direction.value} {step.name} paused at {backfill.checkpoint.progress_text()}"
    why = {PauseReason.SIGNAL: "interrupted", PauseReason.CANCEL: f"cancelled by {by}",
           PauseReason.LEASE_LOST: "the migration lock was lost"}.get(reason, message)
    deps.events.emit(StepFailedEvent(deps.events.source, step, f"paused: {why}", type(exc).__name__, False,
                                     state=State.PAUSED.value))
    return StepPausedError(f"{said} ({why}); nothing done is lost: run 'runway-tui {verb}' to resume",
                           interrupted=reason is PauseReason.SIGNAL, reason=reason.value)
