"""Running migrations: up/down by one, N, to a version, all; plans run nothing; blockers and overrides."""

from __future__ import annotations

import pytest
from pymongo import MongoClient

from runway_tui.engine.errors import BlockedError, StepFailedError, UsageError
from runway_tui.engine.models import Direction
from tests.engine.helpers import data_migration, migration

FAILING_UP = 'ctx.db["things"].insert_one({"_id": 2}, session=ctx.session)\nraise RuntimeError("boom in 2")'


def things(mongo_client: MongoClient, project) -> list[int]:
    return sorted(d["_id"] for d in mongo_client[project.db_name]["things"].find())


@pytest.fixture
def five(project):
    for version in range(1, 6):
        project.write_migration(version, f"step_{version}", data_migration(version))
    return project


def versions(result) -> list[int]:
    return [r.step.version for r in result.completed]


def test_up_one_step_by_default_and_the_file_is_synced_first(app, five, mongo_client):
    result = app.upgrade()  # no refresh needed: up syncs the files first
    assert versions(result) == [1]
    assert result.current_version == 1
    assert things(mongo_client, five) == [1]
    assert app.session.get_current_version() == 1
    assert len(app.session.get_all_migration_models()) == 5


def test_up_n_then_to_then_all(app, five, mongo_client):
    assert versions(app.upgrade(steps=2)) == [1, 2]
    assert versions(app.upgrade(to=4)) == [3, 4]
    assert versions(app.upgrade(all_=True)) == [5]
    assert things(mongo_client, five) == [1, 2, 3, 4, 5]
    assert versions(app.upgrade(all_=True)) == []  # nothing left: not an error
    assert app.upgrade().current_version == 5


def test_down_one_n_to_and_to_zero(app, five, mongo_client):
    app.upgrade(all_=True)
    assert versions(app.downgrade()) == [5]
    assert versions(app.downgrade(steps=2)) == [4, 3]
    assert app.session.get_current_version() == 2
    assert things(mongo_client, five) == [1, 2]
    app.upgrade(all_=True)
    assert versions(app.downgrade(to=3)) == [5, 4]
    assert versions(app.downgrade(to=0)) == [3, 2, 1]
    assert things(mongo_client, five) == []
    assert app.session.get_current_version() is None
    assert versions(app.downgrade()) == []


def test_down_all(app, five, mongo_client):
    app.upgrade(to=3)
    assert versions(app.downgrade(all_=True)) == [3, 2, 1]
    assert things(mongo_client, five) == []


def test_api_shortcuts_return_counts(app, five):
    assert app.upgrade_once() == 1
    assert app.upgrade_to(3) == 2
    assert app.session.get_current_version() == 3
    assert app.downgrade_once() == 1
    assert app.downgrade_to(1) == 1
    assert app.upgrade_all() == 4
    assert app.downgrade_all() == 5
    assert app.session.get_current_version() is None


def test_plan_lists_exact_steps_and_runs_nothing(app, five, mongo_client):
    plan = app.plan(Direction.UP, all_=True)
    assert [(s.direction, s.version, s.name) for s in plan.steps] == [
        (Direction.UP, v, f"00{v}_step_{v}") for v in range(1, 6)]
    assert plan.current_version is None and plan.target_version == 5
    assert plan.blockers == []
    assert plan.uses_transactions is True
    assert [(s.from_version, s.to_version) for s in plan.steps][:2] == [(None, 1), (1, 2)]
    assert things(mongo_client, five) == []
    assert mongo_client[five.db_name]["migrations"].count_documents({}) == 0
    app.upgrade(to=4)
    down = app.plan(Direction.DOWN, to=1)
    assert [s.version for s in down.steps] == [4, 3, 2]
    assert (down.current_version, down.target_version) == (4, 1)
    assert [s.version for s in app.plan(Direction.UP, steps=1).steps] == [5]
    assert things(mongo_client, five) == [1, 2, 3, 4]


@pytest.mark.parametrize(("direction", "request_", "message"), [
    (Direction.UP, {"steps": 0}, "--steps must be 1 or more"),
    (Direction.UP, {"to": 42}, "version 42 does not exist (known versions: 1, 2, 3, 4, 5)"),
    (Direction.DOWN, {"to": 42}, "version 42 does not exist"),
    (Direction.UP, {"steps": 1, "to": 2}, "give only one of --steps, --to and --all"),
    (Direction.UP, {"to": 1}, "version 1 is below the current version 3; to go down to it: 'down --to 1'"),
    (Direction.DOWN, {"to": 5}, "version 5 is above the current version 3; to go up to it: 'up --to 5'"),
])
def test_impossible_requests_are_usage_errors(app, five, direction, request_, message):
    app.upgrade(to=3)
    with pytest.raises(UsageError) as info:
        app.plan(direction, **request_)
    assert message in str(info.value)
    runner = app.upgrade if direction is Direction.UP else app.downgrade
    with pytest.raises(UsageError):
        runner(**request_)
    assert app.session.get_current_version() == 3


def test_a_failure_stops_the_run_and_reports_what_succeeded(app, project, mongo_client):
    project.write_migration(1, "ok", data_migration(1))
    project.write_migration(2, "boom", migration(2, up=FAILING_UP))
    project.write_migration(3, "never", data_migration(3))
    with pytest.raises(StepFailedError) as info:
        app.upgrade(all_=True)
    message = str(info.value)
    assert "up 002_boom failed: RuntimeError: boom in 2" in message
    assert "completed before it: up 001_ok" in message
    assert info.value.completed == ["up 001_ok"]
    assert things(mongo_client, project) == [1]  # 2 rolled back with its transaction, 3 never ran
    records = {d["_id"]: d for d in mongo_client[project.db_name]["migrations"].find()}
    assert records[1]["is_applied"] is True
    assert records[2]["is_applied"] is False and records[2]["state"] == "pending"
    assert records[2]["error"] == "RuntimeError: boom in 2"
    assert records[3]["is_applied"] is False and records[3]["error"] is None
    assert app.lock_info() is None  # released on failure


def test_drift_blocks_only_the_runs_it_concerns_until_accepted_or_ignored(app, project, mongo_client):
    """Issue 18: drift on 001 blocked an urgent down of 014. Drift blocks a run that runs the drifted step, or
    (down) reverts through it; any other run goes ahead with the drift as a warning."""
    for version in (1, 2, 3, 4):
        project.write_migration(version, f"m{version}", data_migration(version))
    app.upgrade(steps=2)
    edited = project.scripts_dir / "001_m1.py"
    edited.write_text(edited.read_text() + "# edited\n")
    up = app.plan(Direction.UP, steps=1)  # 003: drift on 001 does not concern it
    assert up.blockers == [] and any("001_m1 (version 1) was changed after it was applied" in w
                                     for w in up.warnings)
    assert versions(app.upgrade()) == [3]
    assert versions(app.downgrade()) == [3]  # reverts 003 only: not through 001
    with pytest.raises(BlockedError) as info:
        app.downgrade(to=0)  # reverts through 001
    assert "001_m1 (version 1) was changed after it was applied" in str(info.value)
    assert "runway-tui accept 1" in str(info.value)
    with pytest.raises(BlockedError):
        app.downgrade(steps=2)
    assert things(mongo_client, project) == [1, 2]
    plan = app.plan(Direction.DOWN, to=0, ignore_drift=True)
    assert plan.blockers == [] and plan.warnings and "[ignored]" in plan.warnings[0]
    record = app.accept(1)
    assert record.checksum == app.status().rows[0].current_checksum
    assert app.status().is_clean
    assert versions(app.downgrade(to=0)) == [2, 1]
    with pytest.raises(UsageError, match="no checksum drift"):
        app.accept(2)
    with pytest.raises(UsageError, match="no record"):
        app.accept(99)


def test_out_of_order_needs_explicit_permission(app, project, mongo_client):
    project.write_migration(1, "a", data_migration(1))
    project.write_migration(3, "c", data_migration(3))
    app.upgrade(all_=True)
    project.write_migration(2, "b_merged_late", data_migration(2))
    with pytest.raises(BlockedError, match="--allow-out-of-order"):
        app.upgrade()
    assert things(mongo_client, project) == [1, 3]
    assert versions(app.upgrade(allow_out_of_order=True)) == [2]
    assert app.session.get_current_version() == 3
    assert things(mongo_client, project) == [1, 2, 3]


def test_orphan_blocks_only_a_step_that_needs_its_file(app, project):
    project.write_migration(1, "a", data_migration(1))
    project.write_migration(2, "b", data_migration(2))
    app.upgrade(all_=True)
    (project.scripts_dir / "002_b.py").unlink()
    with pytest.raises(BlockedError, match="file is missing"):
        app.downgrade()
    project.write_migration(3, "c", data_migration(3))
    assert versions(app.upgrade()) == [3]  # the orphan is a warning when not in the plan
    record = app.mark(2, applied=False)
    assert record.is_applied is False


def test_broken_file_blocks_up(app, project):
    project.write_migration(1, "a", data_migration(1))
    project.write_migration(2, "b", "version = 2\n")
    with pytest.raises(BlockedError, match="002_b.py is broken"):
        app.upgrade(all_=True)
    assert app.session.get_current_version() is None


def test_broken_file_blocks_only_plans_that_pass_it(app, project):
    project.write_migration(1, "a", data_migration(1))
    project.write_migration(2, "b", "version = 2\n")
    plan = app.plan(steps=1)
    assert not plan.blockers and any("002_b.py is broken" in w for w in plan.warnings)
    app.upgrade()  # 001 stops before the broken 002
    assert app.session.get_current_version() == 1
    with pytest.raises(BlockedError, match="002_b.py is broken"):
        app.upgrade()  # the broken file is what is pending now


def test_migration_that_cannot_be_imported_fails_cleanly(app, project):
    project.write_migration(1, "imports", migration(1, header="import not_a_module_anywhere\n"))
    with pytest.raises(StepFailedError, match="ModuleNotFoundError"):
        app.upgrade()
    record = app.repository.get(1)
    assert record.is_applied is False and "not_a_module_anywhere" in record.error
    assert app.lock_info() is None


def test_migration_can_import_a_helper_module(app, project, mongo_client):
    (project.scripts_dir / "_shared.py").write_text("COLL = 'from_helper'\n")
    project.write_migration(1, "uses_helper", migration(
        1, header="from _shared import COLL\n",
        up='ctx.db[COLL].insert_one({"_id": 1}, session=ctx.session)'))
    app.upgrade()
    assert mongo_client[project.db_name]["from_helper"].count_documents({}) == 1
    assert [s.name for s in app.scripts.scan()] == ["001_uses_helper"]


def test_operations_refuse_while_another_runs(app, project):
    project.write_migration(1, "reenter", migration(1))
    errors = []

    def nested(event):
        try:
            app.upgrade()
        except UsageError as exc:
            errors.append(str(exc))

    from runway_tui.engine.events import StepStartedEvent

    app.subscribe(nested, StepStartedEvent)
    app.upgrade()
    assert errors == ["cannot run up: another operation is running"]


def test_a_file_with_a_utf8_bom_runs(app, project, mongo_client):
    path = project.scripts_dir / "001_bom.py"
    path.write_bytes(b"\xef\xbb\xbf" + data_migration(1).encode("utf-8"))
    assert app.upgrade_once() == 1
    assert things(mongo_client, project) == [1]
    assert app.status().is_clean


def test_a_failed_steps_traceback_starts_at_the_users_code_with_project_relative_paths(app, project):
    """What the detail screen shows: the frames of the migration (and what it called), not runway-tui's own
    runner, and paths relative to the project instead of wherever it was checked out."""
    project.write_migration(1, "fails", migration(1, up='raise RuntimeError("boom")'))
    with pytest.raises(StepFailedError):
        app.upgrade()
    text = app.repository.get(1).error_traceback
    assert text.startswith("Traceback (most recent call last):\n") and text.rstrip().endswith("RuntimeError: boom")
    assert 'File "migrations/001_fails.py", line' in text
    assert "runway_tui" not in text and str(project.root) not in text
