"""`compat: mongorunway`: Mongorunway's documents keep exactly its fields; ours live beside them, read back together."""

from __future__ import annotations

import pytest
from pymongo import MongoClient

from runway_tui.engine.errors import StepFailedError
from tests.engine.helpers import data_migration, migration, open_app

RECORD_KEYS = {"_id", "name", "version", "checksum", "description", "is_applied"}
AUDIT_KEYS = {"_id", "session_id", "transaction_name", "migration_read_model", "date_fmt", "date", "exc_name",
              "exc_message"}
READ_MODEL_KEYS = {"name", "version", "checksum", "description", "is_applied"}


@pytest.fixture
def compat_project(project):
    project.config_path.write_text("compat: mongorunway\n" + project.config_path.read_text())
    return project


def _assert_mongorunway_shapes(db) -> None:
    for doc in db["migrations"].find():
        assert set(doc) == RECORD_KEYS, doc
    for doc in db["auditlog"].find():
        assert set(doc) == AUDIT_KEYS, doc
        assert doc["transaction_name"] in ("UpgradeTransaction", "DowngradeTransaction")
        assert set(doc["migration_read_model"]) == READ_MODEL_KEYS
        assert doc["session_id"].subtype == 4


def test_every_operation_keeps_mongorunway_shapes(compat_project, mongo_client: MongoClient):
    project = compat_project
    db = mongo_client[project.db_name]
    for version in (1, 2, 3):
        project.write_migration(version, f"m{version}", data_migration(version))
    project.write_migration(4, "fails", migration(4, up='raise RuntimeError("no")', transactional=False))
    with open_app(project) as app:
        app.refresh()
        app.upgrade(to=3)
        app.downgrade()
        with pytest.raises(StepFailedError):
            app.upgrade(to=4, allow_out_of_order=True)
        app.mark(4, applied=False)
        app.mark(3, applied=True)
        (project.scripts_dir / "003_m3.py").unlink()
        app.forget(3)
        _assert_mongorunway_shapes(db)

        rows = {r.version: r for r in app.status().rows}
        assert rows[1].record.state.value == "applied" and rows[1].record.applied_by == app.identity
        assert rows[1].record.duration_ms is not None
        assert rows[2].record.state.value == "applied"  # 3 was reverted, then re-applied by 'up --to 4'
        assert rows[4].record.state.value == "pending" and rows[4].record.error is None
        names = [e.transaction_name for e in app.history(limit=50)]
        assert names.count("UpgradeTransaction") == 5 and names.count("DowngradeTransaction") == 1
        assert {"MarkPendingTransaction", "MarkAppliedTransaction", "ForgetTransaction"} <= set(names)
        newest_up = next(e for e in app.history(limit=50) if e.transaction_name == "UpgradeTransaction")
        assert newest_up.user == app.user and newest_up.duration_ms is not None  # our fields, read back
        assert app.history_count() == len(names)
    assert db["auditlog"].count_documents({}) == 6  # only what Mongorunway knows: up and down
    side = db["migrations_runway"].find_one({"_id": 1})
    assert side["state"] == "applied" and side["applied_by"]


def test_a_failure_keeps_its_error_beside_the_record(compat_project, mongo_client: MongoClient):
    project = compat_project
    db = mongo_client[project.db_name]
    project.write_migration(1, "half", migration(1, up='raise RuntimeError("half")', transactional=False))
    with open_app(project) as app, pytest.raises(StepFailedError):
        app.upgrade()
    _assert_mongorunway_shapes(db)
    failed = db["auditlog"].find_one()
    assert (failed["exc_name"], failed["exc_message"]) == ("RuntimeError", "half")
    with open_app(project) as app:
        record = app.status().rows[0].record
        assert record.state.value == "failed" and record.error == "RuntimeError: half"


def test_mongorunway_moving_a_record_is_the_truth(compat_project, mongo_client: MongoClient):
    """After Mongorunway's own downgrade/upgrade (it flips `is_applied` only), our stale extras are ignored."""
    project = compat_project
    db = mongo_client[project.db_name]
    for version in (1, 2):
        project.write_migration(version, f"m{version}", data_migration(version))
    with open_app(project) as app:
        app.upgrade()  # 1 applied by us, 2 pending
    db["migrations"].update_one({"_id": 1}, {"$set": {"is_applied": False}})  # Mongorunway's downgrade
    db["migrations"].update_one({"_id": 2}, {"$set": {"is_applied": True}})  # Mongorunway's upgrade
    db["things"].delete_one({"_id": 1})
    db["things"].insert_one({"_id": 2})
    with open_app(project) as app:
        rows = {r.version: r for r in app.status().rows}
        assert (rows[1].record.state.value, rows[1].record.applied_by) == ("pending", None)
        assert rows[2].record.state.value == "applied"
        assert app.status().current_version == 2
        app.mark(1, applied=True)  # the audit log shows 1 applied by us: settle it by hand, then step down
        app.mark(1, applied=False)
        assert app.downgrade().completed[0].step.version == 2
        assert app.upgrade(all_=True).current_version == 2
    assert sorted(d["_id"] for d in db["things"].find()) == [1, 2]
    _assert_mongorunway_shapes(db)


def test_baseline_in_compat_mode(compat_project, mongo_client: MongoClient):
    project = compat_project
    db = mongo_client[project.db_name]
    for version in (1, 2):
        project.write_migration(version, f"m{version}", data_migration(version))
    with open_app(project) as app:
        assert app.baseline(2) == [1, 2]
        assert app.status().current_version == 2
        assert [e.transaction_name for e in app.history()] == ["BaselineTransaction"] * 2
    _assert_mongorunway_shapes(db)
    assert db["auditlog"].count_documents({}) == 0  # Mongorunway knows only up and down
    assert db["migrations"].count_documents({"is_applied": True}) == 2
