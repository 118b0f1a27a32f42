"""Small things a careful user notices in the CLI (issue 18): a pending record whose file was deleted is a warning
(the next sync removes it), `--group` on a server without transactions is a usage error, and stderr never says
a line twice (accept, mark, lock waits)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from runway_tui.engine.errors import ExitCode
from tests.cli.test_cli import set_config
from tests.engine.helpers import data_migration


def test_a_pending_record_whose_file_was_deleted_is_a_warning_not_a_failure(main_cli, project, mongo_client):
    project.write_migration(1, "kept", data_migration(1))
    project.write_migration(2, "dropped_before_it_ran", data_migration(2))
    assert main_cli("refresh").returncode == 0  # both recorded, pending
    (project.scripts_dir / "002_dropped_before_it_ran.py").unlink()
    check = main_cli("check")
    assert check.returncode == 0, check.stdout
    assert "warning: 002_dropped_before_it_ran: pending, but its file was deleted" in check.stdout
    report = json.loads(main_cli("check", "--json").stdout)
    assert report["ok"] is True and report["problems"] == [] and len(report["warnings"]) == 1
    assert main_cli("status").returncode == 0
    assert "removed (pending, file deleted): 002" in main_cli("refresh").stdout
    assert mongo_client[project.db_name]["migrations"].count_documents({"_id": 2}) == 0


def test_an_applied_record_whose_file_was_deleted_still_fails_check(main_cli, project):
    project.write_migration(1, "gone", data_migration(1))
    assert main_cli("up").returncode == 0
    (project.scripts_dir / "001_gone.py").unlink()
    assert main_cli("check").returncode == ExitCode.VALIDATION_FAILED


def lines_said_twice(stderr: str) -> list[str]:
    said = Counter(line.removeprefix("warning: ").strip() for line in stderr.splitlines() if line.strip())
    return [line for line, count in said.items() if count > 1]


def test_stderr_says_each_thing_once(cli, project, mongo_client):
    project.write_migration(1, "a", data_migration(1))
    assert cli("up").returncode == 0
    path = project.scripts_dir / "001_a.py"
    path.write_text(path.read_text() + "# edited\n")
    for args in (("accept", "1"), ("mark", "1", "--pending"), ("mark", "1", "--applied")):
        result = cli(*args)
        assert result.returncode == 0, result.stderr
        assert len(result.stderr.splitlines()) <= 1 and lines_said_twice(result.stderr) == [], result.stderr
    now = mongo_client.admin.command("hello")["localTime"].replace(tzinfo=None)
    mongo_client[project.db_name]["migrations_lock"].insert_one(
        {"_id": "runway", "owner": "o", "token": "t", "user": "ghost", "host": "box", "pid": 7, "operation": "up",
         "acquired_at": now, "heartbeat_at": now, "expires_at": now + dt.timedelta(minutes=10)})
    set_config(project, "lock_wait_s: 5", "lock_wait_s: 2.5")
    waited = cli("down")
    assert waited.returncode == ExitCode.LOCK_TIMEOUT
    waits = [line for line in waited.stderr.splitlines() if "waiting" in line]
    assert len(waits) == 1 and lines_said_twice(waited.stderr) == [], waited.stderr
