"""`plan_steps` as a pure function, without a server: which steps each request runs, every refusal, and every
blocker and warning, from tables.

Reports are built by `compute_status` from files and records (both pure), as the engine builds them; the
server tests (test_plan.py, test_step.py, tests/cli) show the same plans reached through real commands."""

from __future__ import annotations

import pytest

from runway_tui.engine.errors import DatabaseMovedError, UsageError
from runway_tui.engine.models import Direction, LeaseStep, State
from runway_tui.engine.planner import Expected, check_expected, plan_steps
from runway_tui.engine.status import compute_status
from runway_tui.engine.vocabulary import remedy
from tests.engine.test_status_unit import RUNNER, T0, lease, record, said, script

UP, DOWN = Direction.UP, Direction.DOWN


def report(files: list[int | tuple], applied: tuple[int, ...] = (), **status: object):
    """Files by version (`(version, checksum, problem[, name])` for an odd one), records applied for `applied`."""
    scripts = [script(f) if isinstance(f, int) else script(*f[:2], problem=f[2], name=f[3] if len(f) > 3 else None)
               for f in files]
    return compute_status(scripts, [record(v, State.APPLIED) for v in applied], **status)  # type: ignore[arg-type]


# id, files, applied, direction, request, [(version, from, to)], target
SELECTIONS = [
    ("up: one step by default", [1, 2, 3], (), UP, {}, [(1, None, 1)], 1),
    ("up --steps 2", [1, 2, 3], (), UP, {"steps": 2}, [(1, None, 1), (2, 1, 2)], 2),
    ("up --all", [1, 2, 3], (), UP, {"all_": True}, [(1, None, 1), (2, 1, 2), (3, 2, 3)], 3),
    ("up --to 2", [1, 2, 3], (), UP, {"to": 2}, [(1, None, 1), (2, 1, 2)], 2),
    ("up from the current version", [1, 2, 3], (1,), UP, {}, [(2, 1, 2)], 2),
    ("up with nothing pending: no step, the target stays", [1, 2], (1, 2), UP, {"all_": True}, [], 2),
    ("up of an older pending file keeps the current version", [1, 2], (2,), UP,
     {"allow_out_of_order": True}, [(1, 2, 2)], 2),
    ("down: one step by default", [1, 2], (1, 2), DOWN, {}, [(2, 2, 1)], 1),
    ("down --to 0: everything, newest first", [1, 2], (1, 2), DOWN, {"to": 0}, [(2, 2, 1), (1, 1, None)], None),
    ("down --all", [1, 2, 3], (1, 2), DOWN, {"all_": True}, [(2, 2, 1), (1, 1, None)], None),
    ("down --steps 5 stops at nothing applied", [1, 2], (1,), DOWN, {"steps": 5}, [(1, 1, None)], None),
    ("down with nothing applied: no step", [1, 2], (), DOWN, {}, [], None),
    ("down --to 1 over a gap", [1, 2, 3], (1, 3), DOWN, {"to": 1}, [(3, 3, 1)], 1),
]


@pytest.mark.parametrize(("files", "applied", "direction", "request_", "expected", "target"),
                         [case[1:] for case in SELECTIONS], ids=[case[0] for case in SELECTIONS])
def test_the_steps_a_request_runs(files: list, applied: tuple[int, ...], direction: Direction, request_: dict,
                                  expected: list[tuple], target: int | None) -> None:
    plan = plan_steps(report(files, applied), direction, **request_)
    assert [(s.version, s.from_version, s.to_version) for s in plan.steps] == expected
    assert all(s.direction is direction for s in plan.steps)
    assert plan.target_version == target
    assert plan.current_version == (max(applied) if applied else None)
    assert plan.blockers == []


# id, files, applied, direction, request, the start of the error
REFUSALS = [
    ("two ways of choosing", [1], (), UP, {"steps": 1, "all_": True}, "give only one of --steps, --to and --all"),
    ("--to with --steps", [1], (), UP, {"steps": 1, "to": 1}, "give only one of --steps, --to and --all"),
    ("--steps 0", [1], (), UP, {"steps": 0}, "--steps must be 1 or more, got 0"),
    ("up --to an unknown version", [1, 2], (), UP, {"to": 7},
     "version 7 does not exist (known versions: 1, 2); create it or pick an existing one"),
    ("down --to an unknown version", [1, 2], (1,), DOWN, {"to": 7},
     f"version 7 does not exist (known versions: 1, 2); to revert everything: {remedy('down-to', 0)}"),
    ("a negative version", [1], (), UP, {"to": -1}, "version -1 does not exist"),
    ("many known versions are shown as a range", list(range(1, 11)), (), UP, {"to": 70},
     "version 70 does not exist (known versions: 1..10)"),
    ("up --to below the current version", [1, 2, 3], (1, 2), UP, {"to": 1},
     f"version 1 is below the current version 2; to go down to it: {remedy('down-to', 1)}"),
    ("down --to above the current version", [1, 2, 3], (1,), DOWN, {"to": 3},
     f"version 3 is above the current version 1; to go up to it: {remedy('up-to', 3)}"),
]


@pytest.mark.parametrize(("files", "applied", "direction", "request_", "message"),
                         [case[1:] for case in REFUSALS], ids=[case[0] for case in REFUSALS])
def test_requests_that_cannot_mean_anything_are_refused(files: list, applied: tuple[int, ...],
                                                        direction: Direction, request_: dict, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        plan_steps(report(files, applied), direction, **request_)
    assert str(caught.value).startswith(message)


def test_up_to_a_version_below_the_current_is_fine_while_an_older_file_is_pending() -> None:
    plan = plan_steps(report([1, 2, 3], (2,)), UP, to=1, allow_out_of_order=True)
    assert [s.version for s in plan.steps] == [1]


DRIFTED = (1, "edited", None)
BROKEN_2 = (2, "c1", "syntax error on line 3: invalid syntax")
BROKEN_3 = (3, "c1", "syntax error on line 1: invalid syntax")
NAMELESS = (None, "c1", "file name must be NNN_name.py", "notes")
DRIFT = (f"001_step (version 1) was changed after it was applied (checksum c1 -> edited); restore the file, or "
         f"accept the edit: {remedy('accept', 1)}")
OUT_OF_ORDER = "001_step (version 1) is pending but older than the current version 2 (merged out of order)"


# id, files, applied, direction, request, blockers, warnings
CHECKS = [
    ("drift in the run blocks", [DRIFTED, 2], (1,), DOWN, {}, [DRIFT], []),
    ("drift in the run, ignored, warns", [DRIFTED, 2], (1,), DOWN, {"ignore_drift": True}, [],
     [DRIFT + " [ignored]"]),
    ("drift outside the run warns", [DRIFTED, 2], (1,), UP, {}, [], [DRIFT + " [not part of this run]"]),
    ("down through a drifted version blocks", [DRIFTED, 2, 3], (1, 2, 3), DOWN, {"to": 0}, [DRIFT], []),
    ("a broken file the run reaches blocks", [1, BROKEN_2], (), UP, {"all_": True},
     ["002_step.py is broken: syntax error on line 3: invalid syntax"], []),
    ("a broken next file blocks even the one step", [1, BROKEN_2], (1,), UP, {},
     ["002_step.py is broken: syntax error on line 3: invalid syntax"], []),
    ("a broken file beyond where the run stops warns", [1, 2, BROKEN_3], (), UP, {"steps": 1}, [],
     ["003_step.py is broken: syntax error on line 1: invalid syntax"]),
    ("a file without a version blocks every up", [1, NAMELESS], (), UP, {},
     ["notes.py is broken: file name must be NNN_name.py"], []),
    ("a file without a version only warns for down", [1, NAMELESS], (1,), DOWN, {}, [],
     ["notes.py is broken: file name must be NNN_name.py"]),
    ("an applied broken file in a down run blocks", [1, BROKEN_2], (1, 2), DOWN, {},
     ["002_step.py is broken: syntax error on line 3: invalid syntax"], []),
    ("an out-of-order file in the run blocks", [1, 2], (2,), UP, {},
     [OUT_OF_ORDER + f"; to apply it anyway: {remedy('allow-out-of-order')}"], []),
    ("an out-of-order file, allowed, warns", [1, 2], (2,), UP, {"allow_out_of_order": True}, [],
     [OUT_OF_ORDER + " [allowed]"]),
    ("an out-of-order file does not hold up a down run", [1, 2], (2,), DOWN, {}, [], []),
]


@pytest.mark.parametrize(("files", "applied", "direction", "request_", "blockers", "warnings"),
                         [case[1:] for case in CHECKS], ids=[case[0] for case in CHECKS])
def test_blockers_and_warnings_of_the_files(files: list, applied: tuple[int, ...], direction: Direction,
                                            request_: dict, blockers: list[str], warnings: list[str]) -> None:
    plan = plan_steps(report(files, applied), direction, **request_)
    assert plan.blockers == blockers
    assert plan.warnings == warnings


RESOLVE = f"check the database, then resolve it: {remedy('mark-either', 1)}"


@pytest.mark.parametrize(("state", "held", "blocker"), [
    (State.FAILED, None, f"001_step (version 1) is failed: boom; {RESOLVE}"),
    (State.APPLYING, lease(expired=True),
     "001_step (version 1) was interrupted: up by alice@ops-1 (pid 4242, cli) since 2026-03-14 09:30:00 UTC never "
     f"finished, and its lease expired unreleased at 2026-03-14 09:30:00 UTC; its effects may be partly applied: "
     f"{RESOLVE}"),
    (State.APPLYING, lease(),
     "001_step (version 1) is running: up by alice@ops-1 (pid 4242, cli) since 2026-03-14 09:30:00 UTC; wait for "
     "it to finish (its runner releases the migration lock when it does)"),
], ids=["failed", "interrupted", "running"])
@pytest.mark.parametrize("direction", [UP, DOWN])
def test_an_unsettled_step_blocks_every_run(state: State, held: object, blocker: str, direction: Direction) -> None:
    status = compute_status([script(1), script(2)], [record(1, state, runner=RUNNER)], held)  # type: ignore[arg-type]
    assert plan_steps(status, direction, all_=True).blockers == [blocker]


def test_a_running_step_in_a_transaction_shows_its_progress() -> None:
    held = lease(step=LeaseStep(1, "001_step", "up", T0, 40, 100))
    status = compute_status([script(1)], [record(1)], held)
    (blocker,) = plan_steps(status, UP).blockers
    assert blocker.startswith("001_step (version 1) is running: up by alice@ops-1 (pid 4242, cli) since "
                              "2026-03-14 09:30:00 UTC, 40/100; wait for it to finish")


@pytest.mark.parametrize(("records", "direction", "expected"), [
    ([record(1, State.APPLIED), record(2, State.APPLIED)], DOWN,
     ([f"002_step (version 2) is applied but its file is missing; restore the file, or record it as reverted: "
       f"{remedy('mark', 2, 'pending')}"], [])),
    ([record(1, State.APPLIED), record(2, State.APPLIED)], UP,
     ([], [f"002_step (version 2) is recorded but its file is missing; to remove the record: {remedy('forget', 2)}"])),
    ([record(1, State.APPLIED), record(2)], UP,
     ([], ["002_step (version 2) is pending but its file was deleted; the next sync removes its record"])),
], ids=["applied orphan in the run blocks", "applied orphan elsewhere warns", "a stale pending record warns"])
def test_records_without_their_file(records: list, direction: Direction, expected: tuple) -> None:
    plan = plan_steps(compute_status([script(1)], records), direction)
    assert (plan.blockers, plan.warnings) == expected


def test_the_audit_log_contradicting_a_record_blocks_every_run_first() -> None:
    status = compute_status([script(1), script(2), script(3)], [record(1, State.APPLIED), record(2)],
                            evidence={2: said(2, "applied")})
    plan = plan_steps(status, UP, all_=True, allow_out_of_order=True)
    (first, *rest) = plan.blockers
    assert first.startswith("002_step (version 2): the audit log shows it applied (2026-03-14 09:30:00 UTC by "
                            "bob@laptop, ")
    assert first.endswith(f"then settle it: {remedy('mark-or-rerun', 2, 'applied', 'pending')}")
    assert rest == []


def test_many_contradictions_name_a_few_and_count_the_rest() -> None:
    versions = range(1, 7)
    status = compute_status([script(v) for v in versions], [], evidence={v: said(v, "applied") for v in versions})
    blockers = plan_steps(status, UP).blockers
    assert [b.split(":")[0] for b in blockers[:2]] == ["001_step (version 1)", "002_step (version 2)"]
    assert blockers[2] == ("and 4 more versions whose records the audit log contradicts the same way (3, 4, 5, 6): "
                           "settle each the same way")
    assert len(blockers) == 3


def test_a_plan_says_whether_the_server_has_transactions() -> None:
    assert plan_steps(report([1]), UP, supports_transactions=True).uses_transactions
    assert not plan_steps(report([1]), UP).uses_transactions


def test_a_confirmation_binds_to_the_plan_it_showed() -> None:
    shown = plan_steps(report([1, 2, 3], (1,)), UP, all_=True)
    check_expected(plan_steps(report([1, 2, 3], (1,)), UP, all_=True), Expected.of(shown))  # the same: runs
    moved = plan_steps(report([1, 2, 3], (1, 2)), UP, all_=True)
    with pytest.raises(DatabaseMovedError) as caught:
        check_expected(moved, Expected.of(shown))
    assert str(caught.value) == ("the database moved since the confirmation (from 001, 002 003 was confirmed; "
                                 "now from 002, 003): nothing was run")
