"""The headless CLI run as a subprocess: every subcommand, --json, exit codes, one-line errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import re
import signal
import subprocess
import sys
import textwrap

import pytest

from runway_tui.engine.errors import ExitCode
from tests.engine.helpers import data_migration, migration
from tests.support.cli import REPO_ROOT, run_cli
from tests.support.server import free_port
from tests.support.waiting import Gate

ANSI = "\x1b["


def ok_json(proc: subprocess.CompletedProcess[str]) -> dict:
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    assert data["ok"] is True
    return data


def one_line_error(proc: subprocess.CompletedProcess[str], code: int) -> str:
    """The exit code, no traceback, and exactly one error line (progress notes may precede it)."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()
              and not line.startswith(" ")]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith("runway-tui: error: ")
    assert proc.stderr.rstrip().endswith(errors[0])
    return errors[0]


def set_config(project, old: str, new: str) -> None:
    text = project.config_path.read_text()
    assert old in text
    project.config_path.write_text(text.replace(old, new))


def test_status_plan_check_write_nothing_and_report(main_cli, project, mongo_client):
    project.write_migration(1, "create_users", data_migration(1, doc="Create users."))
    project.write_migration(2, "add_index", data_migration(2))
    human = main_cli("status")
    assert human.returncode == 0, human.stderr
    assert "VERSION" in human.stdout and "001_create_users" in human.stdout and "Create users." in human.stdout
    assert "current version none" in human.stdout
    assert ANSI not in human.stdout + human.stderr
    data = ok_json(main_cli("status", "--json"))
    assert set(data) >= {"application", "database", "server", "read_only", "current_version", "counts", "lock",
                         "migrations"}
    assert data["application"] == "test" and data["database"] == project.db_name
    assert data["current_version"] is None and data["lock"] is None
    assert data["server"]["supports_transactions"] is True
    assert [(m["version"], m["name"], m["state"]) for m in data["migrations"]] == [
        (1, "001_create_users", "pending"), (2, "002_add_index", "pending")]
    assert set(data["migrations"][0]) >= {"description", "problems", "file", "checksum", "stored_checksum",
                                          "applied_at", "applied_by", "error"}
    plan = ok_json(main_cli("plan", "--json"))
    assert [s["version"] for s in plan["steps"]] == [1, 2]
    assert set(plan) >= {"direction", "current_version", "target_version", "steps", "blockers", "warnings"}
    human_plan = main_cli("plan")
    assert "would apply 2 migration(s)" in human_plan.stdout and "002_add_index" in human_plan.stdout
    check = main_cli("check", "--json")
    assert check.returncode == 0 and json.loads(check.stdout)["ok"] is True
    assert project.db_name not in mongo_client.list_database_names()  # nothing was written anywhere
    assert main_cli("up").returncode == 0
    applied = main_cli("status").stdout
    row = next(line for line in applied.splitlines() if "001_create_users" in line)
    assert row.split()[:3] == ["✓", "001", "applied"]  # Mongorunway B14: symbols and states, not numbers


def test_up_down_and_dry_run(main_cli, project, mongo_client):
    for version in (1, 2, 3, 4):
        project.write_migration(version, f"m{version}", data_migration(version))
    things = mongo_client[project.db_name]["things"]
    dry = ok_json(main_cli("up", "--all", "--dry-run", "--json"))
    assert dry["dry_run"] is True and [s["version"] for s in dry["steps"]] == [1, 2, 3, 4]
    assert things.count_documents({}) == 0
    up = main_cli("up", "--steps", "1")  # new files picked up without a refresh
    assert up.returncode == 0, up.stderr
    assert "applied 1 migration(s); current version 001" in up.stdout  # versions as the TUI shows them
    assert "[1/1] up 001_m1 (transaction)" in up.stderr
    data = ok_json(main_cli("up", "--steps", "2", "--json"))
    assert set(data) >= {"direction", "current_version", "completed"}
    assert [s["version"] for s in data["completed"]] == [2, 3] and data["current_version"] == 3
    assert data["completed"][0]["in_transaction"] is True
    assert ok_json(main_cli("up", "--to", "4", "--json"))["current_version"] == 4
    down_dry = ok_json(main_cli("down", "--to", "1", "--dry-run", "--json"))
    assert [s["version"] for s in down_dry["steps"]] == [4, 3, 2]
    assert things.count_documents({}) == 4
    assert ok_json(main_cli("down", "--json"))["current_version"] == 3
    assert ok_json(main_cli("down", "--steps", "2", "--json"))["current_version"] == 1
    assert ok_json(main_cli("up", "--all", "--json"))["current_version"] == 4
    down = main_cli("down", "--to", "0")
    assert "reverted 4 migration(s); current version none" in down.stdout
    assert things.count_documents({}) == 0
    assert ok_json(main_cli("up", "--all", "--json"))["current_version"] == 4
    assert ok_json(main_cli("down", "--all", "--json"))["current_version"] is None
    nothing = main_cli("down")
    assert nothing.returncode == 0 and "nothing to revert" in nothing.stdout


def test_new_refresh_history(main_cli, project):
    created = main_cli("new", "Add users: email index")
    assert created.returncode == 0, created.stderr
    path = project.scripts_dir / "001_add_users_email_index.py"
    assert path.exists() and str(path) in created.stdout
    second = ok_json(main_cli("new", "backfill", "--description", "Fill it.", "--json"))
    assert second["path"] == str(project.scripts_dir / "002_backfill.py")
    refresh = ok_json(main_cli("refresh", "--json"))
    assert set(refresh) >= {"new", "updated", "drift", "orphans", "removed", "out_of_order", "broken"}
    assert refresh["new"] == [1, 2]
    assert "in sync" in main_cli("refresh").stdout
    assert main_cli("up", "--all").returncode == 0
    history = ok_json(main_cli("history", "--limit", "1", "--json"))
    (entry,) = history["entries"]
    assert set(entry) >= {"session_id", "transaction_name", "migration_read_model", "date", "exc_name",
                          "exc_message", "duration_ms", "user", "host", "engine_version", "succeeded"}
    assert entry["transaction_name"] == "UpgradeTransaction"
    assert entry["migration_read_model"]["version"] == 2
    assert len(entry["session_id"]) == 32
    table = main_cli("history")
    assert "UpgradeTransaction" not in table.stdout and " up " in table.stdout  # the TUI's action names
    assert "001_add_users_email_index" in table.stdout


def test_check_mark_accept_unlock(main_cli, project, mongo_client):
    project.write_migration(1, "a", data_migration(1))
    project.write_migration(2, "b", data_migration(2))
    assert main_cli("up", "--steps", "1").returncode == 0
    path = project.scripts_dir / "001_a.py"
    path.write_text(path.read_text() + "# edited\n")
    check = main_cli("check", "--json")
    assert check.returncode == ExitCode.VALIDATION_FAILED
    report = json.loads(check.stdout)
    assert report["ok"] is False and report["exit_code"] == 4
    assert [(p["version"], p["problem"]) for p in report["problems"]] == [(1, "drift")]
    human = main_cli("check")
    assert human.returncode == 4 and "runway-tui accept 1" in human.stdout
    blocked = main_cli("down")  # reverts the drifted 001 (an up of 002 would only be warned: issue 18)
    assert "accept 1" in one_line_error(blocked, ExitCode.VALIDATION_FAILED)
    assert main_cli("down", "--dry-run").returncode == ExitCode.VALIDATION_FAILED  # the plan is blocked
    assert main_cli("status", "--read-only").returncode == 0
    assert ok_json(main_cli("accept", "1", "--json"))["version"] == 1
    assert main_cli("check").returncode == 0
    marked = ok_json(main_cli("mark", "2", "--applied", "--json"))
    assert marked["state"] == "applied"
    assert "marked 002_b as pending" in main_cli("mark", "2", "--pending").stdout
    assert ok_json(main_cli("unlock", "--json"))["removed"] is None
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    mongo_client[project.db_name]["migrations_lock"].insert_one(
        {"_id": "runway", "owner": "o", "user": "ghost", "host": "box", "pid": 7, "operation": "up",
         "acquired_at": now, "expires_at": now + dt.timedelta(minutes=10)})
    assert "has not expired" in one_line_error(main_cli("unlock"), ExitCode.BAD_INPUT)
    forced = main_cli("unlock", "--force")
    assert forced.returncode == 0 and "removed the lock held by ghost@box (pid 7)" in forced.stdout
    names = [e["transaction_name"] for e in mongo_client[project.db_name]["auditlog"].find().sort("_id", 1)]
    assert names == ["UpgradeTransaction", "AcceptChecksumTransaction", "MarkAppliedTransaction",
                     "MarkPendingTransaction", "ForceUnlockTransaction"]


def test_exit_1_when_a_step_fails(cli, project):
    project.write_migration(1, "ok", data_migration(1))
    project.write_migration(2, "bad", migration(2, up="raise RuntimeError('disk on fire')"))
    proc = cli("up", "--all")
    line = one_line_error(proc, ExitCode.STEP_FAILED)
    assert "up 002_bad failed: RuntimeError: disk on fire" in line
    assert "completed before it: up 001_ok" in line
    assert "failed (rolled back): RuntimeError: disk on fire" in proc.stderr
    data = json.loads(cli("up", "--json").stdout)
    assert data == {"ok": False, "error": data["error"], "exit_code": 1, "direction": "up", "current_version": 1,
                    "completed": [], "warnings": [], "failed": data["failed"]}  # a success's schema, plus the failure
    assert (data["failed"]["version"], data["failed"]["rolled_back"]) == (2, True)
    debug = cli("up", "--debug")
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    project.write_migration(3, "broken", "version = 3\n")
    check = cli("check")
    assert check.returncode == ExitCode.VALIDATION_FAILED and "003_broken" in check.stdout
    assert "Traceback" not in check.stderr


def test_exit_3_when_the_lock_is_not_acquired(cli, project, mongo_client):
    set_config(project, "lock_wait_s: 5", "lock_wait_s: 0.5")
    project.write_migration(1, "a", data_migration(1))
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    mongo_client[project.db_name]["migrations_lock"].insert_one(
        {"_id": "runway", "owner": "o", "user": "ghost", "host": "box", "pid": 7, "operation": "up",
         "acquired_at": now, "expires_at": now + dt.timedelta(minutes=10)})
    line = one_line_error(cli("up"), ExitCode.LOCK_TIMEOUT)
    assert "held by ghost@box (pid 7)" in line
    status = ok_json(cli("status", "--json"))  # reading needs no lock
    assert status["lock"]["user"] == "ghost"


def test_exit_5_when_the_server_cannot_be_reached(cli, project):
    port = free_port()
    set_config(project, f'uri: "{project.uri}"', f'uri: "mongodb://runner:hunter2secret@127.0.0.1:{port}/"')
    set_config(project, "server_selection_ms: 5000", "server_selection_ms: 300")
    line = one_line_error(cli("up"), ExitCode.UNREACHABLE)
    assert "cannot reach the server" in line and f"127.0.0.1:{port}" in line
    assert "hunter2secret" not in line
    data = json.loads(cli("check", "--json").stdout)
    assert data["ok"] is False and data["exit_code"] == 5 and "hunter2secret" not in data["error"]


@pytest.mark.parametrize(("args", "expected"), [
    (("up", "--steps", "0"), "expected a whole number of 1 or more"),
    (("up", "--steps", "two"), "expected a whole number of 1 or more, got 'two'"),
    (("up", "--steps", "1", "--to", "2"), "not allowed with argument"),
    (("down", "--to", "-1"), "expected a version number"),
    (("mark", "1"), "--applied --pending is required"),
    (("mark", "x", "--applied"), "expected a version number, got 'x'"),
    (("frobnicate",), "invalid choice: 'frobnicate'"),
    (("status", "--bogus"), "unrecognized arguments: --bogus"),
    (("new", "!!!"), "has no letters or digits"),
    (("new",), "the following arguments are required: name"),
    (("history", "--limit", "0"), "expected a whole number of 1 or more"),
    (("--app", "nope", "status"), "unknown application 'nope'"),
    (("up", "--to", "9"), "version 9 does not exist"),
    (("accept", "9"), "version 9 has no record"),
    (("mark", "9", "--applied"), "version 9 does not exist"),
    (("up", "--read-only"), "read-only"),
    (("new", "x", "--read-only"), "read-only"),
    (("refresh", "--read-only"), "read-only"),
    (("mark", "1", "--applied", "--read-only"), "read-only"),
    (("accept", "1", "--read-only"), "read-only"),
    (("unlock", "--read-only"), "read-only"),
    (("down", "--read-only"), "read-only"),
])
def test_exit_2_for_bad_input_without_traceback(main_cli, project, args, expected):
    project.write_migration(1, "a", data_migration(1))
    line = one_line_error(main_cli(*args), ExitCode.BAD_INPUT)
    assert expected in line


def test_bad_input_in_a_real_process(cli):
    """The process boundary: argparse errors exit 2 with one line, no usage dump, no traceback."""
    for args in (("up", "--steps", "0"), ("frobnicate",), ("--app", "nope", "status")):
        one_line_error(cli(*args), ExitCode.BAD_INPUT)


def test_exit_2_for_config_errors_naming_file_line_key(cli, project, tmp_path):
    set_config(project, "    read_only: false", "    read_onyl: false")
    line = one_line_error(cli("status"), ExitCode.BAD_INPUT)
    assert f"{project.config_path}:11: applications.test.read_onyl: unknown key (did you mean 'read_only'?)" in line
    debug = cli("status", "--debug")
    assert debug.returncode == 2 and "Traceback" in debug.stderr
    missing = run_cli("--config", str(tmp_path / "missing.yaml"), "status")
    assert "configuration file not found" in one_line_error(missing, ExitCode.BAD_INPUT)
    nowhere = run_cli("status", cwd=tmp_path, env={"RUNWAY_CONFIG": ""})
    assert "no configuration found" in one_line_error(nowhere, ExitCode.BAD_INPUT)


def test_config_and_app_discovery_from_environment(project, tmp_path):
    second = project.config_path.read_text().replace("  test:\n", "  other:\n").replace(
        "default_app: test", "default_app: other")
    (tmp_path / "elsewhere.yaml").write_text(second.replace("scripts_dir: migrations",
                                                            f"scripts_dir: {project.scripts_dir}"))
    local = run_cli("status", "--json", cwd=project.root, env={"RUNWAY_CONFIG": "", "RUNWAY_APP": ""})
    assert ok_json(local)["application"] == "test"  # ./runway.yaml
    from_env = run_cli("status", "--json", cwd=project.root,
                       env={"RUNWAY_CONFIG": str(tmp_path / "elsewhere.yaml"), "RUNWAY_APP": ""})
    assert ok_json(from_env)["application"] == "other"
    explicit = run_cli("--config", str(project.config_path), "status", "--json", cwd=tmp_path,
                       env={"RUNWAY_CONFIG": str(tmp_path / "elsewhere.yaml")})
    assert ok_json(explicit)["application"] == "test"
    bad_app = run_cli("status", cwd=project.root, env={"RUNWAY_CONFIG": "", "RUNWAY_APP": "tset"})
    assert "did you mean 'test'?" in one_line_error(bad_app, ExitCode.BAD_INPUT)


def test_colour_only_on_a_terminal(cli, project):
    project.write_migration(1, "a", data_migration(1))
    assert cli("up").returncode == 0
    piped = cli("status", env={"NO_COLOR": "", "TERM": "xterm"})
    assert piped.returncode == 0 and ANSI not in piped.stdout
    primary, secondary = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), TERM="xterm", COLUMNS="120")
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "runway_tui", "--config", str(project.config_path), "status"],
                            stdout=secondary, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(30)
    os.close(primary)
    output = b"".join(chunks).decode()
    assert proc.returncode == 0
    assert ANSI in output and "001_a" in output


def test_cli_commands_do_not_import_textual(project):
    script = textwrap.dedent(f"""
        import sys
        from runway_tui.cli.main import main
        for argv in (["status"], ["plan", "--json"], ["check"], ["up"], ["history"]):
            code = main(["--config", {str(project.config_path)!r}, *argv])
            assert code == 0, (argv, code)
        assert "textual" not in sys.modules, "textual was imported"
        print("no textual")
    """)
    project.write_migration(1, "a", data_migration(1))
    proc = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "no textual" in proc.stdout


def test_version_and_help(cli):
    version = cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("runway-tui ")
    helped = cli("--help")
    assert helped.returncode == 0 and "exit codes: 0 ok, 1 a step failed" in helped.stdout


def test_sigterm_during_a_step_releases_the_lock(project, mongo_client, tmp_path):
    gate = Gate(tmp_path)  # never opened: the step is interrupted inside its transaction
    project.write_migration(1, "hangs", migration(1, up=gate.wait_code(indent=0)))
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), NO_COLOR="1")
    proc = subprocess.Popen([sys.executable, "-m", "runway_tui", "--config", str(project.config_path), "up"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    locks = mongo_client[project.db_name]["migrations_lock"]
    gate.wait_entered(timeout=30)  # the step is running: lock held, the migration inside its transaction
    assert locks.find_one({"_id": "runway"}) is not None
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert "interrupted" in err.strip().splitlines()[-1]
    assert locks.find_one({"_id": "runway"}) is None
    record = mongo_client[project.db_name]["migrations"].find_one({"_id": 1})
    assert record["is_applied"] is False  # rolled back with its transaction


def test_status_check_refresh_show_every_problem(main_cli, project):
    for version in (1, 3, 5):
        project.write_migration(version, f"m{version}", data_migration(version))
    project.write_migration(6, "half", migration(6, up='raise RuntimeError("half")', transactional=False))
    assert main_cli("up", "--all").returncode == ExitCode.STEP_FAILED
    drift = project.scripts_dir / "001_m1.py"
    drift.write_text(drift.read_text() + "# edited\n")
    (project.scripts_dir / "003_m3.py").unlink()
    project.write_migration(2, "late", data_migration(2))
    project.write_migration(8, "broken", "version = 8\n")

    status = main_cli("status")
    assert status.returncode == 0, status.stderr
    for text in ("001_m1: file changed after it was applied", "runway-tui accept 1",
                 "003_m3: recorded in the database but the file is missing",
                 "002_late: pending but older than the current version",
                 "006_half: state failed (RuntimeError: half)", "mark 6 --applied",
                 "008_broken: broken file: missing def upgrade(ctx) and def downgrade(ctx)"):
        assert text in status.stdout, text
    rows = {m["version"]: m for m in json.loads(main_cli("status", "--json").stdout)["migrations"]}
    assert rows[1]["problems"] == ["drift"] and rows[3]["problems"] == ["orphan"]
    assert rows[6]["state"] == "failed" and rows[6]["error"] == "RuntimeError: half"
    assert "out_of_order" in rows[2]["problems"] and rows[8]["problems"] == ["broken"]
    check = json.loads(main_cli("check", "--json").stdout)
    assert check["exit_code"] == 4
    assert sorted({p["problem"] for p in check["problems"]}) == ["broken", "drift", "failed", "orphan",
                                                                  "out_of_order"]
    refresh = main_cli("refresh").stdout
    assert "new: 002" in refresh and "drift (applied, file changed): 001" in refresh  # versions as everywhere
    assert "orphans (file missing): 003" in refresh and "broken: 008_broken.py" in refresh
    blocked = main_cli("up", "--all")
    assert blocked.returncode == ExitCode.VALIDATION_FAILED
    assert "006_half (version 6) is failed" in blocked.stderr


def test_forget_an_orphan_from_the_cli(main_cli, project):
    project.write_migration(1, "gone", data_migration(1))
    assert main_cli("up").returncode == 0
    (project.scripts_dir / "001_gone.py").unlink()
    refresh = main_cli("refresh")
    assert "orphans (file missing): 001" in refresh.stdout and "'runway-tui forget VERSION'" in refresh.stdout
    refused = main_cli("forget", "1", "--read-only")
    assert refused.returncode == ExitCode.BAD_INPUT and "refusing to forget version 1" in refused.stderr
    forgot = main_cli("forget", "1")
    assert forgot.returncode == 0, forgot.stderr
    assert "forgot the record of 001_gone (it was applied); nothing was run" in forgot.stdout
    assert "001_gone" in main_cli("history", "--limit", "1").stdout
    again = main_cli("forget", "1")
    assert again.returncode == ExitCode.BAD_INPUT and "version 1 has no record" in again.stderr


def test_baseline_from_the_cli(main_cli, project):
    for version in (1, 2):
        project.write_migration(version, f"m{version}", data_migration(version))
    assert main_cli("baseline", "--to", "1", "--read-only").returncode == ExitCode.BAD_INPUT
    done = main_cli("baseline", "--to", "1")
    assert done.returncode == 0
    assert "recorded 1 migration(s) as applied up to version 1 (nothing was run)" in done.stdout
    assert json.loads(main_cli("status", "--json").stdout)["current_version"] == 1
    assert "baseline" in main_cli("--help").stdout


def test_several_config_errors_are_reported_together_in_file_order(main_cli, project):
    """Every error of the file, one line each, in file order, exit 2, no traceback (the CLI, then the TUI
    launch, which also names an unknown theme among them)."""
    set_config(project, "    read_only: false", "    read_onyl: false")
    set_config(project, "    auditlog_limit: null", "    auditlog_limit: many")
    set_config(project, "  theme: textual-dark", "  theme: nrod")
    set_config(project, "  poll_interval_s: 2.0", "  poll_interval_s: often")
    proc = main_cli("status")
    assert proc.returncode == ExitCode.BAD_INPUT and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    key_of = lambda line: re.search(r"\.yaml:\d+: ([\w.-]+):", line).group(1)  # noqa: E731
    assert [key_of(line) for line in lines] == [
        "applications.test.auditlog_limit", "applications.test.read_onyl", "tui.poll_interval_s"]
    assert all(line.startswith(f"runway-tui: error: {project.config_path}:") for line in lines)
    as_json = json.loads(main_cli("status", "--json").stdout)
    assert as_json["ok"] is False and len(as_json["errors"]) == 3
    launch = main_cli()  # the TUI launch: the same errors and the unknown theme, before anything starts
    assert launch.returncode == ExitCode.BAD_INPUT and "Traceback" not in launch.stderr
    keys = [key_of(line) for line in launch.stderr.strip().splitlines()]
    assert keys == ["applications.test.auditlog_limit", "applications.test.read_onyl", "tui.theme",
                    "tui.poll_interval_s"]
