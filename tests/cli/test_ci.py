"""The CLI as CI runs it, as Flyway and golang-migrate users expect (issue 18): `up` applies everything pending,
one JSON schema for success and failure (with each step's log lines), a stream of events (`--json-lines`), step
headers on stderr in JSON mode, versions printed one way, `--lock-wait` and a JUnit report (`--junit`)."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET

import pytest

from runway_tui.engine.errors import ExitCode
from tests.cli.test_cli import set_config
from tests.engine.helpers import data_migration, migration

STEP_KEYS = {"version", "name", "duration_ms", "logs"}
FAILED_KEYS = {"version", "name", "error", "in_transaction", "rolled_back", "logs"}


def printing(version: int, *, fail: bool = False, transactional: bool | None = None) -> str:
    body = f'print("hello from {version}")\nctx.log("logged by {version}")\n' + \
        f'ctx.db["things"].insert_one({{"_id": {version}}}, session=ctx.session)'
    if fail:
        body += f'\nraise RuntimeError("boom in {version}")'
    return migration(version, up=body, down=f'ctx.db["things"].delete_one({{"_id": {version}}}, session=ctx.session)',
                     transactional=transactional)


@pytest.fixture
def three(project):
    for version in (1, 2, 3):
        project.write_migration(version, f"step_{version}", printing(version))
    return project


def test_up_applies_everything_pending_down_and_upgrade_keep_one_step(main_cli, three):
    up = main_cli("up")
    assert up.returncode == 0, up.stderr
    assert "applied 3 migration(s); current version 003" in up.stdout
    down = main_cli("down")
    assert "reverted 1 migration(s); current version 002" in down.stdout
    assert main_cli("down").returncode == 0
    upgrade = main_cli("upgrade")  # Mongorunway's verb keeps its one step
    assert "applied 1 migration(s); current version 002" in upgrade.stdout, upgrade.stdout
    help_text = main_cli("up", "--help").stdout + main_cli("--help").stdout
    assert "every pending migration" in help_text and "one step" in help_text


def test_one_json_schema_for_success_with_each_steps_logs(main_cli, three):
    result = main_cli("up", "--json")
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["direction"] == "up" and data["current_version"] == 3
    assert [s["version"] for s in data["completed"]] == [1, 2, 3]
    for step in data["completed"]:
        assert set(step) >= STEP_KEYS and isinstance(step["duration_ms"], int)
        assert step["logs"] == [f"hello from {step['version']}", f"logged by {step['version']}"]
    assert "failed" not in data and data["warnings"] == []
    # a CI log says which step printed what: the headers stay on stderr in JSON mode
    lines = result.stderr.splitlines()
    header = next(i for i, line in enumerate(lines) if "[2/3] up 002_step_2" in line)
    assert "hello from 2" in lines[header + 1]


@pytest.mark.parametrize(("transactional", "rolled_back"), [(None, True), (False, False)])
def test_one_json_schema_for_failure(main_cli, project, transactional, rolled_back):
    project.write_migration(1, "ok", printing(1))
    project.write_migration(2, "bad", printing(2, fail=True, transactional=transactional))
    project.write_migration(3, "never", printing(3))
    result = main_cli("up", "--json")
    assert result.returncode == ExitCode.STEP_FAILED
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["exit_code"] == 1 and "boom in 2" in data["error"]
    (done,) = data["completed"]
    assert set(done) >= STEP_KEYS and done["version"] == 1 and done["logs"] == ["hello from 1", "logged by 1"]
    failed = data["failed"]
    assert set(failed) >= FAILED_KEYS
    assert (failed["version"], failed["name"]) == (2, "002_bad") and "RuntimeError: boom in 2" in failed["error"]
    assert failed["in_transaction"] is (transactional is None) and failed["rolled_back"] is rolled_back
    assert failed["logs"] == ["hello from 2", "logged by 2"]


def test_a_run_refused_before_any_step_has_the_same_schema(main_cli, project):
    project.write_migration(1, "broken", "version = 1\n")
    data = json.loads(main_cli("up", "--json").stdout)
    assert data["ok"] is False and data["exit_code"] == 4 and data["completed"] == [] and "failed" not in data


def test_json_lines_streams_the_events_then_the_result(main_cli, three):
    result = main_cli("up", "--json-lines")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[-1] == "result" and events[-1]["ok"] is True
    assert [s["version"] for s in events[-1]["completed"]] == [1, 2, 3]
    assert kinds[:4] == ["step_started", "step_log", "step_log", "step_applied"]
    assert events[0]["version"] == 1 and events[0]["index"] == 1 and events[0]["total"] == 3
    assert events[1]["message"] == "hello from 1"
    assert all(isinstance(e, dict) for e in events) and kinds.count("step_applied") == 3


def test_versions_print_one_way_cut_text_ends_with_an_ellipsis_and_new_files_are_a_state(main_cli, project):
    long = "A description far longer than any table column should ever show, cut somewhere in the middle of it."
    project.write_migration(1, "first", data_migration(1, doc=long))
    project.write_migration(2, "second", data_migration(2))
    dry = main_cli("up", "--dry-run")
    row = next(line for line in dry.stdout.splitlines() if "001_first" in line)
    assert " 001 " in row and " 1 " not in row, dry.stdout
    assert "…" in row and long not in dry.stdout
    status = main_cli("status")
    row = next(line for line in status.stdout.splitlines() if "002_second" in line)
    assert row.split()[2] == "new" and "new" not in row.split("002_second")[1], status.stdout  # a state, not a note
    assert "…" in next(line for line in status.stdout.splitlines() if "001_first" in line)
    data = json.loads(main_cli("status", "--json").stdout)
    assert all(m["problems"] == [] and m["recorded"] is False for m in data["migrations"])
    refreshed = main_cli("refresh")
    assert "new: 001, 002" in refreshed.stdout, refreshed.stdout
    main_cli("up")
    history = main_cli("history")
    assert "001_first" in history.stdout
    failing = migration(3, up="raise RuntimeError('" + "x" * 200 + "')")
    project.write_migration(3, "fails", failing)
    main_cli("up")
    result_cell = next(line for line in main_cli("history").stdout.splitlines() if "003_fails" in line)
    assert "…" in result_cell


def live_lease(mongo_client, project) -> None:
    """A runner elsewhere, alive (it renewed its lease just now), holding the lock for ten minutes."""
    now = mongo_client.admin.command("hello")["localTime"].replace(tzinfo=None)
    mongo_client[project.db_name]["migrations_lock"].insert_one(
        {"_id": "runway", "owner": "o", "token": "t", "user": "ghost", "host": "box", "pid": 7, "client": "cli",
         "operation": "up", "acquired_at": now, "heartbeat_at": now,
         "expires_at": now + dt.timedelta(minutes=10)})


def test_lock_wait_on_the_command_line(main_cli, project, mongo_client):
    """The config waits 600 s: only --lock-wait makes this test end (and say so) in time."""
    set_config(project, "lock_wait_s: 5", "lock_wait_s: 600")
    project.write_migration(1, "a", data_migration(1))
    live_lease(mongo_client, project)
    result = main_cli("up", "--lock-wait", "0.5")
    assert result.returncode == ExitCode.LOCK_TIMEOUT, result.stderr
    assert "held by ghost@box (pid 7, cli)" in result.stderr
    waits = [line for line in result.stderr.splitlines() if "waiting" in line]
    assert len(waits) == 1, result.stderr  # said once, not once a second
    bad = main_cli("up", "--lock-wait", "-1")
    assert bad.returncode == ExitCode.BAD_INPUT and "--lock-wait" in bad.stderr


def test_junit_report_of_the_steps(main_cli, project, tmp_path):
    project.write_migration(1, "ok", printing(1))
    project.write_migration(2, "bad", printing(2, fail=True))
    project.write_migration(3, "never", printing(3))
    report = tmp_path / "reports" / "migrations.xml"
    result = main_cli("up", "--junit", str(report))
    assert result.returncode == ExitCode.STEP_FAILED
    suites = ET.parse(report).getroot()
    suite = suites.find("testsuite")
    assert suite is not None and suite.get("tests") == "3" and suite.get("failures") == "1"
    assert suite.get("skipped") == "1"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == ["up 001_ok", "up 002_bad", "up 003_never"]
    assert cases["up 001_ok"].find("failure") is None
    assert "hello from 1" in cases["up 001_ok"].findtext("system-out")
    failure = cases["up 002_bad"].find("failure")
    assert failure is not None and "boom in 2" in failure.get("message")
    assert cases["up 003_never"].find("skipped") is not None
    again = main_cli("down", "--junit", str(report))  # 001 reverted: a report of one passing step
    assert again.returncode == 0
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite.get("tests") == "1" and suite.get("failures") == "0"


def test_drift_elsewhere_is_a_warning_of_the_run_in_json_and_on_stderr(main_cli, project):
    project.write_migration(1, "a", data_migration(1))
    assert main_cli("up").returncode == 0
    path = project.scripts_dir / "001_a.py"
    path.write_text(path.read_text() + "# edited\n")
    project.write_migration(2, "b", data_migration(2))
    data = json.loads(main_cli("up", "--json").stdout)
    assert data["ok"] is True and [s["version"] for s in data["completed"]] == [2]
    (warning,) = data["warnings"]
    assert "001_a (version 1) was changed after it was applied" in warning and "not part of this run" in warning
    human = main_cli("down")
    assert human.returncode == 0 and "warning: 001_a (version 1) was changed" in human.stderr
