"""up and down: a run of steps under the lease, exactly what a person confirmed or nothing.

Under the lock the files are synchronised first (a new file is pending without a separate refresh), the plan
is made again, and compared with what was confirmed (`expect`): anything else is refused, with who moved the
database since (engine/moved.py). Each step then goes to the `StepRunner`; a `--group` run goes as one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pymongo
from pymongo.errors import ConnectionFailure, PyMongoError

from runway_tui.engine.errors import (
    BackfillUsageError,
    BlockedError,
    RunwayError,
    ServerUnreachableError,
    StepFailedError,
    StepInterruptedError,
    StepPausedError,
    UsageError,
)
from runway_tui.engine.models import Direction, Plan, RunResult, StatusReport, StepResult
from runway_tui.engine.planner import Expected
from runway_tui.engine.run.refresh import status_after, sync

if TYPE_CHECKING:
    from runway_tui.engine.lock import MigrationLock
    from runway_tui.engine.policy import Access
    from runway_tui.engine.run.locking import LeaseHolding
    from runway_tui.engine.run.operation import Operation
    from runway_tui.engine.runner import StepRunner


@dataclass(frozen=True)
class StepParts:
    """What a run uses."""

    op: Operation
    runner: StepRunner
    lease: LeaseHolding
    lock: MigrationLock
    plan: Callable[..., Plan]  # (direction, report=..., **request): the plan, announced to the front ends
    access: Access
    supports_transactions: bool
    unreachable: Callable[[BaseException], str]  # "cannot reach the server at ...: why"


class StepRuns:
    """One per connected engine: its runs, the overrides in force (its audit entries record them), when it last
    planned (what a person confirms) and the status right after its last run."""

    def __init__(self, parts: StepParts) -> None:
        self._parts = parts
        self.overrides: tuple[str, ...] = ()
        self._planned_at: dt.datetime | None = None
        self._status_after: StatusReport | None = None

    def planned(self, at: dt.datetime) -> None:
        self._planned_at = at

    def forget_status(self) -> None:
        self._status_after = None

    def take_status_after_run(self) -> StatusReport | None:
        report, self._status_after = self._status_after, None
        return report

    def run(self, direction: Direction, expect: Expected | None = None, **request: Any) -> RunResult:
        parts, op = self._parts, self._parts.op
        with op.writing(f"run {direction.value} steps", direction.value, exclusive_as=f"run {direction.value}"):
            planned_at = self._planned_at
            _refresh, report = sync(op)
            rows = {r.version: r for r in report.rows if r.script is not None and not r.script.is_broken}
            try:
                plan = parts.plan(direction, report=report, **request)
            except UsageError:
                if not parts.lease.moved_since_wait(report.current_version):
                    raise
                raise self._database_moved(direction, report, request, expect, planned_at) from None
            if expect is not None and Expected.of(plan) != expect:  # under the lock: nobody moves it after this
                raise self._database_moved(direction, report, request, expect, planned_at)
            if plan.blockers:
                raise BlockedError(f"refusing to run {direction.value}: " + "; ".join(plan.blockers))
            for warning in plan.warnings:
                op.log("warning", warning)
            self.overrides = overrides_of(plan, request, parts.access)
            try:
                completed = self._steps(plan, rows)
            finally:
                self.overrides = ()
                parts.lock.announce(None)
                if not parts.runner.tampered:  # else a migration changed the records: nothing kept is true
                    with contextlib.suppress(PyMongoError), pymongo.timeout(2.0):  # the server may be gone
                        self._status_after = status_after(op.store, report, [s.version for s in plan.steps])
                op.changed(direction.value)
                if plan.steps:
                    op.keep_evidence()
            return RunResult(plan, completed, completed[-1].step.to_version if completed else plan.current_version)

    def _steps(self, plan: Plan, rows: dict[int, Any]) -> list[StepResult]:
        parts = self._parts
        completed: list[StepResult] = []
        parts.runner.begin_run()
        try:
            if plan.group and plan.steps:
                completed = parts.runner.run_group(plan.steps, rows)
            for index, step in enumerate([] if plan.group else plan.steps, start=1):
                parts.lock.check()
                completed.append(parts.runner.run(step, rows.get(step.version), index, len(plan.steps)))
        except StepFailedError as exc:
            done = [f"{r.step.direction.value} {r.step.name}" for r in completed]
            summary = f" (completed before it: {', '.join(done)})" if done else " (no step completed)"
            if isinstance(exc, StepPausedError):  # a backfill at its checkpoint: `up` resumes it
                raise StepPausedError(str(exc) + summary, done, interrupted=exc.interrupted,
                                      reason=exc.reason) from exc
            if isinstance(exc, BackfillUsageError):
                raise BackfillUsageError(str(exc) + summary, done) from exc
            if isinstance(exc.__cause__, ConnectionFailure):  # the server went away mid-step: exit 5
                raise ServerUnreachableError(f"{parts.unreachable(exc.__cause__)}; the step in progress was not "
                                             "recorded as done" + summary) from exc
            kind = StepInterruptedError if isinstance(exc, StepInterruptedError) else StepFailedError
            raise kind(str(exc) + summary, done) from exc
        return completed

    def _database_moved(self, direction: Direction, report: StatusReport, request: dict[str, Any],
                        expect: Expected | None, planned_at: dt.datetime | None) -> RunwayError:
        """Who moved the database (from the audit log, since the confirmed plan or our wait), to what, and the fresh
        plan; never the planner's advice to step the other way (engine/moved.py)."""
        from runway_tui.engine.moved import database_moved, fresh_plan, moves_since

        waited = self._parts.lease.waited
        starts = [t for t in (planned_at if expect is not None else None, waited[0] if waited else None)
                  if t is not None]
        moves = moves_since(self._parts.op.store.audit, min(starts)) if starts else []
        fresh = fresh_plan(report, direction, request, expect, self._parts.supports_transactions)
        return database_moved(report, direction, request, expect, moves, fresh, waited is not None)


def overrides_of(plan: Plan, request: dict[str, Any], access: Access) -> tuple[str, ...]:
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
