"""refresh: the files on disk synchronised with the migrations collection (one bulk write), under the lease.

`sync` is also the first thing every run and every command does under the lock, so that a new file is pending
without a separate refresh. A step found still `applying`/`reverting` whose runner is gone is audited once,
as that runner's failed attempt (`note_abandoned`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from runway_tui.engine.backfill.checkpoint import PauseReason
from runway_tui.engine.models import MigrationRecord, Problem, RefreshReport, State, StatusReport
from runway_tui.engine.record_files import file_of
from runway_tui.engine.run.operation import Operation
from runway_tui.engine.status import compute_status
from runway_tui.engine.store.protocol import MigrationStore


def refresh(op: Operation) -> RefreshReport:
    """Synchronise files with the migrations collection and report what was found."""
    with op.writing("refresh the migrations collection", "refresh"):
        report, _status = sync(op)
        op.keep_evidence()  # a log older than its summary gets one (engine/evidence.py)
    return report


def sync(op: Operation) -> tuple[RefreshReport, StatusReport]:
    """Write what refresh found (one bulk write, none when in sync); return it and the status after."""
    scripts = op.scripts.scan()
    evidence = op.read_evidence()
    status = compute_status(scripts, op.store.records.all(), evidence=evidence)
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
            elif file_of(record, scripts, op.scripts_dir) is not None:
                report.kept.append(version)  # a file that may be its own exists: never lose its state
            else:
                removals.append(version)
                report.removed.append(version)
        if Problem.DRIFT in row.problems and version is not None:
            report.drift.append(version)
    op.store.records.sync(new, updates, removals)
    note_abandoned(op, status)
    if report.changed_anything:
        op.log("info", f"refresh: {len(report.new)} new, {len(report.updated)} updated, "
                       f"{len(report.removed)} removed")
        status = compute_status(scripts, op.store.records.all(), evidence=evidence)
    return report, status


def note_abandoned(op: Operation, status: StatusReport) -> None:
    """Under our lock, a step still `applying`/`reverting` was abandoned by its runner (killed, or it lost its
    lease): the audit log says so once, as that runner's failed attempt, when we first find it."""
    for row in status.rows:
        record, activity = row.record, row.activity
        if record is None or activity is None or activity.live or (record.runner or {}).get("noted_at"):
            continue
        runner = activity.runner
        if record.backfill is not None:
            _paused_by_death(op, record, runner.label if runner else "its runner", activity.gone)
            continue
        since = f" since {runner.since:%Y-%m-%d %H:%M:%S} UTC" if runner and runner.since else ""
        by = f" by {runner.label}" if runner else ""
        detail = (f"{activity.direction.value} {record.name}{by}{since} never finished: {activity.gone}; found "
                  f"by {op.runner_label()}; its effects may remain")
        entry = op.entry("AbandonedStepTransaction", record.read_model, runner=runner)
        op.store.audit.append(dataclasses.replace(entry, exc_name="AbandonedAttempt", exc_message=detail))
        op.store.records.update(record.version, {"runner": {**(record.runner or {}), "noted_at": op.now()}})
        op.log("warning", f"found an abandoned attempt: {detail}")


def _paused_by_death(op: Operation, record: MigrationRecord, who: str, gone: str) -> None:
    """A backfill whose runner died mid-walk: `paused` at its checkpoint (every batch it committed is done, exactly
    once on a replica set; the one in flight died with its session, which taking the lease ended)."""
    assert record.backfill is not None
    checkpoint = record.backfill.paused(PauseReason.RUNNER_LOST, who, op.now())
    detail = (f"backfill paused (runner lost) at {checkpoint.progress_text()}: {who} {gone}; found by "
              f"{op.runner_label()}; 'up' resumes it from its checkpoint")
    op.store.audit.append(op.entry("BackfillPauseTransaction", record.read_model, detail=detail))
    op.store.records.update(record.version, {"state": State.PAUSED.value, "runner": None,
                                             "backfill": checkpoint.to_document()})
    op.log("warning", detail)


def status_after(store: MigrationStore, report: StatusReport, versions: list[int]) -> StatusReport:
    """`report` (read under the lock) with the records of `versions` read again: one query of the records
    the run touched, no file scan (the run changed no file)."""
    changed = {r.version: r for r in store.records.some(versions)} if versions else {}
    scripts = [r.script for r in report.rows if r.script is not None]
    records = {r.record.version: r.record for r in report.rows if r.record is not None}
    records.update(changed)
    for version in versions:
        if version not in changed:
            records.pop(version, None)
    return compute_status(scripts, sorted(records.values(), key=lambda r: r.version))
