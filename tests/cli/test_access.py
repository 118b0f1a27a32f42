"""The CLI's access rule (engine/policy.py): read_only: true is absolute, production needs --write."""

from __future__ import annotations

from runway_tui.engine.errors import ExitCode
from tests.engine.helpers import data_migration


def set_config(project, old: str, new: str) -> None:
    text = project.config_path.read_text()
    assert old in text
    project.config_path.write_text(text.replace(old, new))


def test_cli_write_does_not_lift_read_only_config(main_cli, project, mongo_client):
    project.write_migration(1, "a", data_migration(1))
    set_config(project, "read_only: false", "read_only: true")
    proc = main_cli("up", "--write")
    assert proc.returncode == ExitCode.BAD_INPUT, proc.stderr
    assert "cannot override" in proc.stderr and "Traceback" not in proc.stderr
    proc = main_cli("up")
    assert proc.returncode == ExitCode.BAD_INPUT and "--read-only" not in proc.stderr
    assert "read_only: true" in proc.stderr
    assert mongo_client[project.db_name]["things"].count_documents({}) == 0


def test_cli_production_needs_write(main_cli, project, mongo_client):
    project.write_migration(1, "a", data_migration(1))
    set_config(project, "production: false", "production: true")
    proc = main_cli("up")
    assert proc.returncode == ExitCode.BAD_INPUT and "--write" in proc.stderr, proc.stderr
    assert mongo_client[project.db_name]["things"].count_documents({}) == 0
    assert main_cli("status").returncode == 0  # reading needs no flag
    proc = main_cli("up", "--write")
    assert proc.returncode == 0, proc.stderr
    assert mongo_client[project.db_name]["things"].count_documents({}) == 1


def test_cli_both_flags_is_one_line_error(main_cli, project):
    proc = main_cli("status", "--read-only", "--write")
    assert proc.returncode == ExitCode.BAD_INPUT, proc.stderr
    assert proc.stderr.count("\n") == 1 and "--read-only and --write contradict each other" in proc.stderr
