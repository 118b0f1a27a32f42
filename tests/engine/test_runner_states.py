"""Running or interrupted, decided from the record and the lease alone (engine/runners.py, engine/status.py):
plain unit tests of `compute_status` over every case, no server needed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from runway_tui.engine.models import LeaseStep, LockInfo, MigrationRecord, Problem, State
from runway_tui.engine.planner import plan_steps
from runway_tui.engine.scripts import ScriptFile
from runway_tui.engine.status import compute_status

NOW = dt.datetime(2026, 3, 14, 9, 30)
RUNNER = {"owner": "run-1", "user": "alice", "host": "ops-1", "pid": 4242, "client": "cli",
          "since": NOW - dt.timedelta(minutes=3)}


def files(*records: MigrationRecord) -> list[ScriptFile]:
    """Each record's file, unchanged since it was recorded (no drift, no orphan)."""
    return [ScriptFile(Path(f"{r.name}.py"), r.name, r.version, r.description, r.checksum) for r in records]


def record(state: State, runner: dict | None = RUNNER, applied: bool = False) -> MigrationRecord:
    return MigrationRecord(12, "012_backfill", "abc", "Backfill.", applied, state, runner=runner)


def lease(owner: str = "run-1", *, expired: bool = False, gone: bool = False, step: LeaseStep | None = None,
          silent: float | None = None) -> LockInfo:
    return LockInfo(owner=owner, user="alice", host="ops-1", pid=4242, acquired_at=NOW, expires_at=NOW,
                    operation="up", expired=expired, client="cli", heartbeat_at=NOW, step=step,
                    process_gone=gone, silent_s=silent)


def row(rec: MigrationRecord, held: LockInfo | None):
    (only,) = compute_status([], [rec], held).rows
    return only


@pytest.mark.parametrize("state", [State.APPLYING, State.REVERTING])
def test_a_marked_record_whose_runner_holds_a_live_lease_is_running(state):
    shown = row(record(state), lease())
    assert shown.state == "running" and Problem.FAILED not in shown.problems
    assert shown.activity.runner.label == "alice@ops-1 (pid 4242, cli)"
    assert shown.activity.direction.value == ("up" if state is State.APPLYING else "down")
    assert shown.to_json()["runner"] == {"user": "alice", "host": "ops-1", "pid": 4242, "client": "cli",
                                         "since": "2026-03-14T09:27:00Z"}


@pytest.mark.parametrize(("held", "why"), [
    (None, "no longer holds the migration lock"),
    (lease(expired=True), "expired unreleased"),
    (lease(gone=True), "its process (pid 4242) is not running on ops-1"),
    (lease(owner="run-2"), "now held by alice@ops-1 (pid 4242, cli), not by its runner"),
])
def test_a_marked_record_whose_runner_is_gone_is_interrupted(held, why):
    shown = row(record(State.APPLYING), held)
    assert shown.state == "interrupted" and Problem.FAILED in shown.problems
    assert why in shown.activity.gone and shown.to_json()["runner_gone"] == shown.activity.gone
    assert shown.to_json()["runner"]["pid"] == 4242


def test_a_silent_heartbeat_alone_is_still_running():
    """Its lease is live until it expires: nobody else can run, so the step is not called interrupted."""
    assert row(record(State.APPLYING), lease(silent=50.0)).state == "running"


def test_a_record_marked_before_runners_were_recorded_follows_the_lease():
    assert row(record(State.APPLYING, runner=None), lease()).state == "running"
    assert row(record(State.APPLYING, runner=None), None).state == "interrupted"


def test_a_step_in_a_transaction_is_running_while_the_lease_names_it():
    step = LeaseStep(12, "012_backfill", "up", NOW, done=40, total=100)
    shown = row(record(State.PENDING, runner=None), lease(step=step))
    assert shown.state == "running" and shown.activity.progress == "40/100"
    assert shown.to_json()["progress"] == {"done": 40, "total": 100}
    assert row(record(State.APPLIED, runner=None, applied=True), lease(step=step)).state == "applied"  # committed
    down = LeaseStep(12, "012_backfill", "down", NOW)
    assert row(record(State.APPLIED, runner=None, applied=True), lease(step=down)).state == "running"
    assert row(record(State.PENDING, runner=None), lease(step=step, expired=True)).state == "pending"


def test_failed_stays_failed_and_counts_tell_the_three_apart():
    records = [MigrationRecord(1, "001_a", "a", "", False, State.FAILED),
               MigrationRecord(2, "002_b", "b", "", False, State.APPLYING, runner=RUNNER),
               MigrationRecord(3, "003_c", "c", "", False, State.REVERTING, runner={**RUNNER, "owner": "run-0"})]
    report = compute_status(files(*records), records, lease())
    assert [r.state for r in report.rows] == ["failed", "running", "interrupted"]
    counts = report.counts()
    assert (counts["failed"], counts["running"], counts["interrupted"]) == (1, 1, 1)
    assert not report.is_clean
    assert compute_status(files(*records[1:2]), records[1:2], lease()).is_clean  # a running step passes `check`


def test_the_plan_waits_for_a_running_step_and_offers_mark_only_for_an_interrupted_one():
    running = compute_status([], [record(State.APPLYING)], lease())
    (blocker,) = plan_steps(running, "up").blockers  # type: ignore[arg-type]
    assert "is running: up by alice@ops-1 (pid 4242, cli) since 2026-03-14 09:27:00 UTC" in blocker
    assert "wait for it to finish" in blocker and "mark" not in blocker and "unlock" not in blocker
    interrupted = compute_status([], [record(State.APPLYING)], None)
    (blocker,) = plan_steps(interrupted, "up").blockers  # type: ignore[arg-type]
    assert "was interrupted" in blocker and "runway-tui mark 12 --applied" in blocker
