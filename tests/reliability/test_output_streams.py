"""Output that cannot be written never fails a step, and a closed stream stops a command before it runs.

A cron job logging to a full volume (`2>/dev/full`, `>/dev/full`) or a shell that closed a stream
(`>&-`, `2>&-`) is run here exactly as a user's shell runs it (`bash -c 'exec runway-tui ... REDIRECTS'`).
What is checked is what the user sees (exit code, the bytes of the stream that still works) and what the
database holds afterwards (records, audit entries, the migration's own effects).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pymongo import MongoClient

from tests.reliability.helpers import cli_env, no_traceback
from tests.support.project import Project

OUTPUT_LOST = 6  # README's exit-code table: the command did its work, its output could not be written

PRINTS = '''"""Prints a lot"""
import sys

version = 1


def upgrade(ctx):
    for n in range(50):
        print("line", n, "from the migration")
        print("to stderr", n, file=sys.stderr)
        ctx.log(f"ctx.log {n}")
    ctx.db.markers.insert_one({"v": 1}, session=ctx.session)


def downgrade(ctx):
    print("bye")
    ctx.db.markers.delete_one({"v": 1}, session=ctx.session)
'''

FAILS = '''"""Prints, then fails"""
version = 1


def upgrade(ctx):
    print("about to fail")
    raise ValueError("the step's own failure")


def downgrade(ctx):
    pass
'''


def shell(project: Project, *args: str, redirects: str) -> subprocess.CompletedProcess[str]:
    """`runway-tui --config <project> ARGS REDIRECTS` as bash runs it (the streams not redirected are captured)."""
    command = [sys.executable, "-m", "runway_tui", "--config", str(project.config_path), *args]
    return subprocess.run(["bash", "-c", f'exec "$@" {redirects}', "runway-tui", *command], cwd=project.root,
                          env=cli_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)


def database(project: Project) -> dict:
    """What a user inspecting the database finds: records, audit entries (oldest first), the markers."""
    with MongoClient(project.uri, serverSelectionTimeoutMS=5000) as client:
        db = client[project.db_name]
        return {"records": list(db.migrations.find({})), "audit": list(db.auditlog.find({}).sort("date", 1)),
                "markers": db.markers.count_documents({}), "collections": db.list_collection_names()}


def assert_applied_once(project: Project) -> None:
    found = database(project)
    assert [(r["_id"], r["state"]) for r in found["records"]] == [(1, "applied")], found["records"]
    assert [(e["transaction_name"], e.get("exc_name")) for e in found["audit"]] == [("UpgradeTransaction", None)], \
        found["audit"]
    assert found["markers"] == 1


def assert_nothing_ran(project: Project) -> None:
    found = database(project)
    assert found["records"] == [] and found["audit"] == [] and found["markers"] == 0, found
    assert found["collections"] == [], f"the command connected and created {found['collections']}"


# ------------------------------------------------------------------ a full disk under stderr or stdout
def test_a_printing_migration_with_stderr_on_a_full_disk_is_applied(any_project: Project) -> None:
    any_project.write_migration(1, "prints", PRINTS)
    result = shell(any_project, "up", redirects="2>/dev/full")
    assert result.returncode == OUTPUT_LOST, (result.returncode, result.stdout)
    assert result.stdout == "applied 1 migration(s); current version 001\n"
    assert_applied_once(any_project)  # no RecursionError recorded: the step ran as written


@pytest.mark.parametrize("json_mode", [False, True], ids=["text", "json"])
def test_a_successful_up_with_stdout_on_a_full_disk_is_applied_and_says_the_output_was_lost(
        json_mode: bool, project: Project) -> None:
    project.write_migration(1, "prints", PRINTS)
    result = shell(project, "up", *(["--json"] if json_mode else []), redirects=">/dev/full")
    no_traceback(result.stderr)
    assert result.returncode == OUTPUT_LOST, result.stderr
    assert "line 49 from the migration" in result.stderr and "ctx.log 49" in result.stderr  # the step's own output
    errors = [line for line in result.stderr.splitlines() if line.startswith("runway-tui: error:")]
    assert len(errors) == 1, result.stderr
    assert "stdout" in errors[0] and "No space left on device" in errors[0] and "internal error" not in errors[0]
    assert "the command itself succeeded" in errors[0], errors[0]
    if not json_mode:
        assert "applied 1 migration(s); current version 001" in errors[0]  # what stdout would have said
    assert_applied_once(project)


def test_a_failed_step_with_stdout_on_a_full_disk_exits_as_a_failed_step(project: Project) -> None:
    project.write_migration(1, "fails", FAILS)
    result = shell(project, "up", "--json", redirects=">/dev/full")
    no_traceback(result.stderr)
    assert result.returncode == 1, result.stderr
    assert "the step's own failure" in result.stderr and "about to fail" in result.stderr
    found = database(project)
    assert [e.get("exc_name") for e in found["audit"]] == ["ValueError"]


def test_status_with_stdout_on_a_full_disk_exits_with_the_output_code(project: Project) -> None:
    result = shell(project, "status", redirects=">/dev/full")
    no_traceback(result.stderr)
    assert result.returncode == OUTPUT_LOST, result.stderr
    assert result.stderr.count("runway-tui: error:") == 1 and "application test" in result.stderr


def test_help_on_a_full_disk_says_so_in_one_line() -> None:
    for args in (["--help"], ["--version"], ["up", "--help"]):
        result = subprocess.run(["bash", "-c", 'exec "$@" >/dev/full', "runway-tui", sys.executable, "-m",
                                 "runway_tui", *args], env=cli_env(), capture_output=True, text=True, timeout=60)
        no_traceback(result.stderr)
        assert result.returncode == OUTPUT_LOST, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and "No space left on device" in result.stderr, result.stderr


# ------------------------------------------------------------------ a closed stream: one line, exit 2, nothing run
CLOSED = [
    pytest.param(">&-", "stdout", "stderr", id="stdout-closed"),
    pytest.param("2>&-", "stderr", "stdout", id="stderr-closed"),
    pytest.param(">&- 2>&-", "stdout and stderr", None, id="both-closed"),
]


@pytest.mark.parametrize(("redirects", "closed", "speaks_on"), CLOSED)
@pytest.mark.parametrize("command", [("up",), ("up", "--json"), ("status",), ()],
                         ids=["up", "up-json", "status", "tui"])
def test_a_closed_stream_is_one_line_exit_2_and_nothing_run(redirects: str, closed: str, speaks_on: str | None,
                                                            command: tuple[str, ...], project: Project) -> None:
    project.write_migration(1, "prints", PRINTS)
    result = shell(project, *command, redirects=redirects)
    assert result.returncode == 2, (result.stdout, result.stderr)
    spoken = {"stdout": result.stdout, "stderr": result.stderr}
    if speaks_on is None:
        assert result.stdout == result.stderr == ""
    else:
        text = spoken[speaks_on]
        other = spoken["stderr" if speaks_on == "stdout" else "stdout"]
        assert other == ""
        no_traceback(text)
        if "--json" in command and speaks_on == "stdout":  # stdout is the machine's: the error is JSON there
            document = json.loads(text)
            assert document["ok"] is False and document["exit_code"] == 2 and closed in document["error"]
        else:
            assert text.count("\n") == 1 and text.startswith("runway-tui: error: "), text
            assert f"{closed} is closed" in text and "nothing was run" in text, text
    assert_nothing_ran(project)


# ------------------------------------------------------------------ the Python API: a failing subscriber
API_SCRIPT = """
import sys
from runway_tui.engine.events import StepLogEvent
from runway_tui.engine.factory import create_app

def broken(event):  # e.g. its log file is on a full disk
    raise OSError(28, "No space left on device")

with create_app(configuration=sys.argv[1], raise_on_none=True) as app:
    app.subscribe(broken, StepLogEvent)
    result = app.upgrade()
print("completed", [r.step.version for r in result.completed])
"""


def test_a_subscriber_that_cannot_write_never_fails_the_step(project: Project, tmp_path) -> None:
    """An API script's handler of the step's output fails: the step is applied all the same."""
    project.write_migration(1, "prints", PRINTS)
    script = tmp_path / "deploy.py"
    script.write_text(API_SCRIPT)
    result = subprocess.run([sys.executable, str(script), str(project.config_path)], cwd=project.root,
                            env=cli_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout == "completed [1]\n"
    assert "RecursionError" not in result.stderr
    assert_applied_once(project)


def test_a_junit_report_on_a_full_disk_after_a_success_is_the_output_code(project: Project) -> None:
    project.write_migration(1, "prints", PRINTS)
    result = shell(project, "up", "--junit", "/dev/full", redirects="")
    no_traceback(result.stderr)
    assert result.returncode == OUTPUT_LOST, result.stderr
    assert "--junit /dev/full: cannot write the report: No space left on device" in result.stderr
    assert result.stdout == "applied 1 migration(s); current version 001\n"
    assert_applied_once(project)
