"""`compute_status` as a pure function, without a server: every row state and every problem, from a table.

The server tests (test_state.py, test_runner_states.py, ...) show the same states reached by real runs; these
pin the decision itself, one line per case, so that a change to the rules shows up as a changed row here."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from runway_tui.engine.models import AuditEvidence, LeaseStep, LockInfo, MigrationRecord, Problem, State
from runway_tui.engine.scripts import ScriptFile
from runway_tui.engine.status import compute_status

T0 = dt.datetime(2026, 3, 14, 9, 30)
OWNER = "owner-1"


def script(version: int | None, checksum: str = "c1", *, problem: str | None = None, name: str | None = None,
           description: str = "the file's words") -> ScriptFile:
    stem = name or f"{version or 0:03d}_step"
    return ScriptFile(Path(f"/project/migrations/{stem}.py"), stem, version, description,
                      None if problem and checksum == "c1" else checksum, problem=problem)


def record(version: int, state: State = State.PENDING, checksum: str = "c1", *, name: str | None = None,
           runner: dict | None = None, applied: bool | None = None) -> MigrationRecord:
    is_applied = state is State.APPLIED if applied is None else applied
    return MigrationRecord(version, name or f"{version:03d}_step", checksum, "the record's words", is_applied,
                           state=state, runner=runner, error="boom" if state is State.FAILED else None)


def lease(*, expired: bool = False, step: LeaseStep | None = None, owner: str = OWNER) -> LockInfo:
    return LockInfo(owner=owner, user="alice", host="ops-1", pid=4242, acquired_at=T0, expires_at=T0, operation="up",
                    expired=expired, client="cli", step=step)


RUNNER = {"owner": OWNER, "user": "alice", "host": "ops-1", "pid": 4242, "client": "cli", "since": T0}


def said(version: int, state: str) -> AuditEvidence:
    return AuditEvidence(version, state, "UpgradeTransaction" if state == "applied" else "DowngradeTransaction", T0,
                         "bob", "laptop")


# id, files, records, lease, evidence, {version or name: (state, problems)}, current version
CASES = [
    ("empty", [], [], None, None, {}, None),
    ("a new file is pending and unrecorded", [script(1)], [], None, None,
     {1: ("pending", {Problem.UNRECORDED})}, None),
    ("a recorded pending file", [script(1)], [record(1)], None, None, {1: ("pending", set())}, None),
    ("an applied file", [script(1)], [record(1, State.APPLIED)], None, None, {1: ("applied", set())}, 1),
    ("current is the newest applied, not the newest file",
     [script(1), script(2), script(3)], [record(1, State.APPLIED), record(2, State.APPLIED), record(3)], None, None,
     {1: ("applied", set()), 2: ("applied", set()), 3: ("pending", set())}, 2),
    ("an applied file edited since: drift", [script(1, "c2")], [record(1, State.APPLIED)], None, None,
     {1: ("applied", {Problem.DRIFT})}, 1),
    ("a pending record with another checksum is no drift (nothing ran)", [script(1, "c2")], [record(1)], None, None,
     {1: ("pending", set())}, None),
    ("a failed step: failed, and drift when its file changed", [script(1, "c2")], [record(1, State.FAILED)], None,
     None, {1: ("failed", {Problem.FAILED, Problem.DRIFT})}, None),
    ("a record without its file: orphan", [], [record(1, State.APPLIED)], None, None,
     {1: ("applied", {Problem.ORPHAN})}, 1),
    ("a pending record without its file: orphan (stale; the planner only warns)", [], [record(1)], None, None,
     {1: ("pending", {Problem.ORPHAN})}, None),
    ("a broken file", [script(1, problem="syntax error on line 3: invalid syntax")], [], None, None,
     {1: ("broken", {Problem.BROKEN})}, None),
    ("a broken applied file: broken, never drift", [script(1, "c2", problem="syntax error")],
     [record(1, State.APPLIED)], None, None, {1: ("applied", {Problem.BROKEN})}, 1),
    ("a file without a usable version", [script(None, problem="file name must be NNN_name.py", name="notes")], [],
     None, None, {"notes": ("broken", {Problem.BROKEN})}, None),
    ("pending below the newest applied: out of order", [script(1), script(2)], [record(2, State.APPLIED)], None,
     None, {1: ("pending", {Problem.UNRECORDED, Problem.OUT_OF_ORDER}), 2: ("applied", set())}, 2),
    ("applying with its runner holding the lease: running", [script(1)],
     [record(1, State.APPLYING, runner=RUNNER)], lease(), None, {1: ("running", set())}, None),
    ("applying with the lease expired: interrupted", [script(1)],
     [record(1, State.APPLYING, runner=RUNNER)], lease(expired=True), None, {1: ("interrupted", {Problem.FAILED})},
     None),
    ("reverting with the lease held by another: interrupted", [script(1)],
     [record(1, State.REVERTING, runner=RUNNER, applied=True)], lease(owner="someone-else"), None,
     {1: ("interrupted", {Problem.FAILED})}, 1),
    ("applying and no lease at all: interrupted", [script(1)], [record(1, State.APPLYING, runner=RUNNER)], None,
     None, {1: ("interrupted", {Problem.FAILED})}, None),
    ("applying, written before runners were recorded, under a live lease: running", [script(1)],
     [record(1, State.APPLYING)], lease(), None, {1: ("running", set())}, None),
    ("a step in a transaction named by the lease: running before its record changes", [script(1)], [record(1)],
     lease(step=LeaseStep(1, "001_step", "up", T0, 40, 100)), None, {1: ("running", set())}, None),
    ("the lease names a step down of an applied version: running", [script(1)], [record(1, State.APPLIED)],
     lease(step=LeaseStep(1, "001_step", "down", T0)), None, {1: ("running", set())}, 1),
    ("the lease names a step up of an applied version: that step is over", [script(1)], [record(1, State.APPLIED)],
     lease(step=LeaseStep(1, "001_step", "up", T0)), None, {1: ("applied", set())}, 1),
    ("the audit log says applied, the record pending: audit mismatch", [script(1)], [record(1)], None,
     {1: said(1, "applied")}, {1: ("pending", {Problem.AUDIT_MISMATCH})}, None),
    ("the audit log says applied and the record is gone", [script(1)], [], None, {1: said(1, "applied")},
     {1: ("pending", {Problem.UNRECORDED, Problem.AUDIT_MISMATCH})}, None),
    ("the audit log says reverted, the record applied", [script(1)], [record(1, State.APPLIED)], None,
     {1: said(1, "pending")}, {1: ("applied", {Problem.AUDIT_MISMATCH})}, 1),
    ("the audit log agrees", [script(1)], [record(1, State.APPLIED)], None, {1: said(1, "applied")},
     {1: ("applied", set())}, 1),
    ("a failed record says nothing settled: no mismatch (failed covers it)", [script(1)], [record(1, State.FAILED)],
     None, {1: said(1, "applied")}, {1: ("failed", {Problem.FAILED})}, None),
]


@pytest.mark.parametrize(("files", "records", "held", "evidence", "expected", "current"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_compute_status(files: list[ScriptFile], records: list[MigrationRecord], held: LockInfo | None,
                        evidence: dict[int, AuditEvidence] | None, expected: dict, current: int | None) -> None:
    report = compute_status(files, records, held, evidence)
    rows = {row.version if row.version is not None else row.name: (row.state, set(row.problems))
            for row in report.rows}
    assert rows == expected
    assert report.current_version == current


def test_every_state_and_every_problem_is_in_the_table() -> None:
    """The table above is the specification: a new state or problem must get its line."""
    states = {state for case in CASES for state, _ in case[5].values()}
    problems = {problem for case in CASES for _, found in case[5].values() for problem in found}
    assert states == {"pending", "applied", "failed", "running", "interrupted", "broken"}
    assert problems == set(Problem)


def test_duplicate_versions_keep_the_file_the_record_names_and_mark_the_other_broken() -> None:
    """(The scan marks both twins broken too; the status stands on its own even when given two usable files.)"""
    files = [script(1, name="001_a"), script(1, name="001_b")]
    report = compute_status(files, [record(1, State.APPLIED, name="001_b")])
    rows = {(row.name, row.record is not None, row.problems) for row in report.rows}
    assert rows == {("001_a", False, (Problem.BROKEN,)), ("001_b", True, ())}


def test_rows_are_sorted_by_version_with_versionless_files_last_and_words_from_the_file() -> None:
    files = [script(None, problem="bad name", name="zz"), script(3), script(1, problem="syntax error")]
    report = compute_status(files, [record(2, State.APPLIED), record(1, State.APPLIED)])
    assert [(row.version, row.name) for row in report.rows] == [(1, "001_step"), (2, "002_step"), (3, "003_step"),
                                                               (None, "zz")]
    descriptions = {row.version: row.description for row in report.rows}
    # a usable file gives the words; a broken or missing file leaves the record's
    assert descriptions == {1: "the record's words", 2: "the record's words", 3: "the file's words", None: ""}


def test_an_interrupted_row_says_why_its_runner_is_taken_to_be_gone() -> None:
    report = compute_status([script(1)], [record(1, State.APPLYING, runner=RUNNER)], lease(expired=True))
    (row,) = report.rows
    assert row.activity is not None and not row.activity.live
    assert row.activity.gone == "its lease expired unreleased at 2026-03-14 09:30:00 UTC"
