"""Audit entries serve an incident review (issue 18): every entry says which client wrote it (`cli`, `tui`, `api`;
`mongorunway` for Mongorunway's own entries), its pid and the overrides in force (`drift ignored`, `out of order
allowed`, `group`); `history --json` carries the three on every entry."""

from __future__ import annotations

import json
import os

from pymongo import MongoClient

from runway_tui.cli.main import main
from runway_tui.engine.config import load_config
from runway_tui.tui.app import RunwayApp
from tests.engine.helpers import data_migration, open_app
from tests.engine.test_mongorunway_storage import AUDIT_KEYS, _assert_mongorunway_shapes
from tests.support.waiting import wait_until_async
from tests.tui.conftest import fixed_clock, settle


def history_json(project, capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["--config", str(project.config_path), "history", "--json", "--limit", "50"]) == 0
    return json.loads(capsys.readouterr().out)["entries"]


def cli(project, capsys, *args: str) -> int:
    capsys.readouterr()
    return main(["--config", str(project.config_path), *args])


def test_every_entry_names_its_client_pid_and_overrides(project, capsys):
    for version in (1, 2, 3):
        project.write_migration(version, f"m{version}", data_migration(version))
    assert cli(project, capsys, "up", "--steps", "1") == 0
    with open_app(project) as app:  # the Python API
        app.upgrade(to=3)
        app.mark(3, applied=False)
    entries = history_json(project, capsys)
    assert all({"client", "pid", "overrides"} <= set(e) for e in entries)
    by_version = {(e["transaction_name"], e["migration_read_model"]["version"]): e for e in entries}
    first = by_version[("UpgradeTransaction", 1)]
    assert (first["client"], first["pid"], first["overrides"]) == ("cli", os.getpid(), [])
    assert by_version[("UpgradeTransaction", 2)]["client"] == "api"
    assert by_version[("MarkPendingTransaction", 3)]["overrides"] == []


def test_overrides_in_force_are_recorded_with_each_step(project, capsys):
    project.write_migration(1, "a", data_migration(1))
    project.write_migration(3, "c", data_migration(3))
    assert cli(project, capsys, "up", "--all") == 0
    project.write_migration(2, "b_merged_late", data_migration(2))
    path = project.scripts_dir / "003_c.py"
    path.write_text(path.read_text() + "# edited\n")
    assert cli(project, capsys, "up", "--allow-out-of-order", "--group") == 0
    assert cli(project, capsys, "down", "--to", "0", "--ignore-drift", "--group") == 0
    entries = history_json(project, capsys)
    late = next(e for e in entries if e["migration_read_model"]["version"] == 2
                and e["transaction_name"] == "UpgradeTransaction")
    assert late["overrides"] == ["out of order allowed", "group"]
    downs = [e for e in entries if e["transaction_name"] == "DowngradeTransaction"]
    assert len(downs) == 3 and all(e["overrides"] == ["drift ignored", "group"] for e in downs)
    plain = next(e for e in entries if e["migration_read_model"]["version"] == 1
                 and e["transaction_name"] == "UpgradeTransaction")
    assert plain["overrides"] == []


async def test_the_tui_records_its_entries_as_tui(project, mongo_client: MongoClient):
    project.write_migration(1, "a", data_migration(1))
    config = load_config(project.config_path)
    app = RunwayApp(config.app(project.app), config.tui, read_only=False, clock=fixed_clock,  # its own engine
                    poll_interval=3600)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(app, pilot)
            await pilot.press("u")
            await settle(app, pilot)
            await pilot.press("y")
            await wait_until_async(lambda: mongo_client[project.db_name]["auditlog"].count_documents({}) == 1,
                                   "the TUI's step to be audited", pause=pilot.pause)
    finally:
        app.shutdown_engine()
    entry = mongo_client[project.db_name]["auditlog"].find_one()
    assert entry["client"] == "tui" and entry["pid"] == os.getpid() and entry["overrides"] == []


def test_mongorunway_storage_keeps_our_fields_beside_its_entries_and_reads_its_own_as_mongorunway(
        project, mongo_client: MongoClient, capsys):
    project.config_path.write_text("compat: mongorunway\n" + project.config_path.read_text())
    db = mongo_client[project.db_name]
    project.write_migration(1, "m1", data_migration(1))
    project.write_migration(2, "m2", data_migration(2))
    assert cli(project, capsys, "up", "--steps", "1") == 0
    with open_app(project) as app:  # what Mongorunway's own upgrade writes: its record flag and its seven fields
        ours = db["auditlog"].find_one()
        db["migrations"].update_one({"_id": 2}, {"$set": {"is_applied": True}})
        db["auditlog"].insert_one({k: v for k, v in ours.items() if k != "_id"}
                                  | {"migration_read_model": {**ours["migration_read_model"], "version": 2,
                                                              "name": "002_m2"}, "date": app.now()})
    _assert_mongorunway_shapes(db)
    assert all(set(doc) == AUDIT_KEYS for doc in db["auditlog"].find())  # ours never added to its collection
    side = db["auditlog_runway"].find_one({"_id": ours["_id"]})
    assert (side["client"], side["pid"], side["overrides"]) == ("cli", os.getpid(), [])
    entries = {e["migration_read_model"]["version"]: e for e in history_json(project, capsys)}
    assert entries[1]["client"] == "cli" and entries[1]["pid"] == os.getpid()
    assert entries[2]["client"] == "mongorunway" and entries[2]["pid"] is None and entries[2]["overrides"] == []
