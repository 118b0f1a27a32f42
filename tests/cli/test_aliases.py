"""Mongorunway's verbs and argument forms work as aliases of our commands."""

from __future__ import annotations

import json
import signal

from runway_tui.cli.main import main
from runway_tui.engine.errors import ExitCode
from tests.engine.helpers import data_migration
from tests.support.mongorunway_peer import MongorunwayProject


def _version(main_cli) -> int | None:
    return json.loads(main_cli("version", "test", "--json").stdout)["current_version"]


def test_upgrade_and_downgrade_forms(main_cli, project):
    for version in range(1, 6):
        project.write_migration(version, f"m{version}", data_migration(version))
    assert main_cli("refresh", "test").returncode == 0
    assert main_cli("upgrade", "test").returncode == 0 and _version(main_cli) == 1  # default '+': one
    assert main_cli("upgrade", "test", "+2").returncode == 0 and _version(main_cli) == 3
    assert main_cli("upgrade", "test", "4").returncode == 0 and _version(main_cli) == 4
    assert main_cli("upgrade", "all").returncode == 0 and _version(main_cli) == 5  # APP left to the config
    assert main_cli("downgrade", "test").returncode == 0 and _version(main_cli) == 4  # default '-': one
    assert main_cli("downgrade", "test", "-2").returncode == 0 and _version(main_cli) == 2
    assert main_cli("downgrade", "test", "1").returncode == 0 and _version(main_cli) == 1
    assert main_cli("downgrade", "test", "0").returncode == 0 and _version(main_cli) is None
    assert main_cli("upgrade", "test", "all").returncode == 0
    assert main_cli("downgrade", "test", "all").returncode == 0 and _version(main_cli) is None
    nothing = main_cli("downgrade", "test")
    assert nothing.returncode == 0 and "nothing to revert" in nothing.stdout  # runway.yaml: not a failure
    bad = main_cli("upgrade", "test", "-1")
    assert bad.returncode == ExitCode.BAD_INPUT and "'-1' is not one of +, +N, N or all" in bad.stderr
    twice = main_cli("--app", "other", "upgrade", "test")
    assert twice.returncode == ExitCode.BAD_INPUT and "application given twice" in twice.stderr


def test_the_other_verbs(main_cli, project):
    project.write_migration(1, "m1", data_migration(1))
    project.write_migration(2, "m2", data_migration(2))
    assert main_cli("upgrade", "test", "all").returncode == 0
    version = main_cli("version", "test")
    assert version.returncode == 0 and "current version 002 (2 applied of 2 recorded)" in version.stdout
    audit = main_cli("auditlog", "test", "-l", "1")
    assert audit.returncode == 0 and "002_m2" in audit.stdout and "001_m1" not in audit.stdout
    oldest = main_cli("auditlog", "test", "-l", "1", "-a")
    assert "001_m1" in oldest.stdout and "002_m2" not in oldest.stdout
    assert main_cli("check-files", "test").returncode == 0
    assert "002_m2" in main_cli("status", "test").stdout
    (project.scripts_dir / "001_m1.py").write_text(data_migration(1) + "# edited\n")
    assert main_cli("check-files", "test").returncode == ExitCode.VALIDATION_FAILED
    made = main_cli("create-template", "test", "-n", "add_index")
    assert made.returncode == 0 and (project.scripts_dir / "003_add_index.py").exists()


def test_nothing_to_do_fails_in_a_mongorunway_project(tmp_path, monkeypatch, mongo_uri, db_name, capsys, request):
    """raise_on_transaction_failure (Mongorunway's default: true) makes 'nothing to upgrade' exit 1."""
    project = MongorunwayProject(tmp_path, mongo_uri, db_name)
    project.write_config()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUNWAY_CONFIG", raising=False)
    previous = signal.getsignal(signal.SIGTERM)  # main() installs its own handler
    request.addfinalizer(lambda: signal.signal(signal.SIGTERM, previous))
    assert main(["upgrade", "test"]) == ExitCode.STEP_FAILED
    assert "nothing to upgrade (raise_on_transaction_failure is true in mongorunway.yaml)" in capsys.readouterr().err
    project.extra_app_lines = ["raise_on_transaction_failure: false"]
    project.write_config()
    assert main(["upgrade", "test"]) == 0
