"""Both tools take turns on one database: after each runway-tui operation the real Mongorunway 1.0.7a0 still
works (`version`, `status`, `auditlog`, `check-files`, `upgrade`, `downgrade`), and after each of its own,
runway-tui reads the truth. The project is Mongorunway's own (`mongorunway.yaml`, found without --config).

The files are in Mongorunway's own format: both tools run them unchanged (runway-tui with its stand-in,
Mongorunway not installed in our environment)."""

from __future__ import annotations

import json

import pytest
from pymongo import MongoClient

from runway_tui.cli.main import main
from runway_tui.engine.app import MigrationApp
from runway_tui.engine.config import load_config
from tests.support.mongorunway_peer import MongorunwayProject

BOTH_TOOLS = '''"""Insert thing {version}."""
from __future__ import annotations

import mongorunway

version = {version}


@mongorunway.migration
def upgrade():
    return [mongorunway.insert_one("things", {{"_id": {version}}})]


@mongorunway.migration
def downgrade():
    return [mongorunway.delete_one("things", {{"_id": {version}}})]
'''


def _ok(result) -> str:
    text = result.stdout + result.stderr
    assert result.returncode == 0 and "Traceback" not in text, text
    return text


def test_both_tools_take_turns(mongorunway_project: MongorunwayProject, mongo_client: MongoClient, monkeypatch,
                               capsys) -> None:
    project = mongorunway_project
    db = mongo_client[project.database]
    for version, name in ((1, "first"), (2, "second"), (3, "third")):
        (project.migrations / f"{version:03d}_{name}.py").write_text(BOTH_TOOLS.format(version=version))
    monkeypatch.chdir(project.root)
    monkeypatch.delenv("RUNWAY_CONFIG", raising=False)

    # runway-tui: found mongorunway.yaml by itself; applies 1 and 2, and marks 3 (entries Mongorunway never saw)
    with MigrationApp(load_config().app("test")) as app:
        assert app.upgrade(to=2).current_version == 2
        app.mark(3, applied=True)
        app.mark(3, applied=False)

    assert "Current applied version is 2 (2 of 3)" in _ok(project.run("version", "test"))
    assert "(2 of 3)" in _ok(project.run("status", "test"))
    audit = _ok(project.run("auditlog", "test", "-l", "10"))
    assert "001_first" in audit and "002_second" in audit
    assert "All files remain in their previous state." in _ok(project.run("check-files", "test"))

    # Mongorunway: applies 3 with its own commands, then reverts down to 1 (undoing our 2)
    _ok(project.run("upgrade", "test", "all"))
    _ok(project.run("downgrade", "test", "1"))
    assert sorted(d["_id"] for d in db["things"].find()) == [1]

    capsys.readouterr()
    assert main(["status", "--json"]) == 0  # the CLI, from the project folder, no --config
    rows = {m["version"]: m["state"] for m in json.loads(capsys.readouterr().out)["migrations"]}
    assert rows == {1: "applied", 2: "pending", 3: "pending"}
    with MigrationApp(load_config().app("test")) as app:
        history = app.history(limit=20)
        assert [e.transaction_name for e in history[:3]] == ["DowngradeTransaction", "DowngradeTransaction",
                                                             "UpgradeTransaction"]  # Mongorunway's, read with ours
        assert [e.client for e in history[:3]] == ["mongorunway"] * 3  # written by Mongorunway itself (issue 18)
        assert {e.client for e in history[3:]} == {"api"}  # ours, from the Python API above
        assert app.upgrade(all_=True).current_version == 3
    assert sorted(d["_id"] for d in db["things"].find()) == [1, 2, 3]

    assert "Current applied version is 3 (3 of 3)" in _ok(project.run("version", "test"))
    _ok(project.run("auditlog", "test", "-l", "20"))


@pytest.fixture(autouse=True)
def _no_app_env(monkeypatch) -> None:
    monkeypatch.delenv("RUNWAY_APP", raising=False)
