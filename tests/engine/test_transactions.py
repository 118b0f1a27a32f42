"""Failures: rolled back inside a transaction; `failed` state and `mark` without one."""

from __future__ import annotations

import pytest
from pymongo import MongoClient

from runway_tui.engine.errors import BlockedError, StepFailedError
from tests.engine.helpers import data_migration, insert_doc, migration, open_app

HALF_THEN_FAIL = insert_doc(1) + '\nraise ValueError("half done")'


def audit(client: MongoClient, db: str) -> list[dict]:
    return list(client[db]["auditlog"].find().sort("_id", 1))


def test_failure_in_a_transaction_leaves_no_data_and_the_record_pending(app, project, mongo_client):
    project.write_migration(1, "half", migration(1, up=HALF_THEN_FAIL))
    assert app.server_info.supports_transactions
    with pytest.raises(StepFailedError, match="ValueError: half done"):
        app.upgrade()
    db = mongo_client[project.db_name]
    assert db["things"].count_documents({}) == 0
    record = db["migrations"].find_one({"_id": 1})
    assert record["state"] == "pending" and record["is_applied"] is False
    assert record["error"] == "ValueError: half done"
    entries = audit(mongo_client, project.db_name)
    assert len(entries) == 1
    assert entries[0]["exc_name"] == "ValueError" and entries[0]["exc_message"] == "half done"
    assert entries[0]["transaction_name"] == "UpgradeTransaction"
    # nothing blocks a retry: fix the file and run again
    project.write_migration(1, "half", data_migration(1))
    assert app.upgrade_once() == 1
    assert db["migrations"].find_one({"_id": 1})["error"] is None


def test_step_result_says_whether_a_transaction_was_used(app, project):
    project.write_migration(1, "txn", data_migration(1))
    project.write_migration(2, "no_txn", data_migration(2, transactional=False))
    results = app.upgrade(all_=True).completed
    assert [(r.step.version, r.in_transaction) for r in results] == [(1, True), (2, False)]


def test_non_transactional_failure_on_a_replica_set_leaves_failed_state(app, project, mongo_client):
    project.write_migration(1, "half", migration(1, up=HALF_THEN_FAIL, transactional=False))
    project.write_migration(2, "next", data_migration(2))
    with pytest.raises(StepFailedError, match="half done"):
        app.upgrade()
    db = mongo_client[project.db_name]
    assert db["things"].count_documents({"_id": 1}) == 1  # not rolled back: no transaction
    assert db["migrations"].find_one({"_id": 1})["state"] == "failed"
    with pytest.raises(BlockedError, match="mark 1 --applied"):
        app.upgrade()


def test_standalone_failure_leaves_failed_state_until_mark(standalone_project, mongo_client, standalone_uri):
    project = standalone_project
    project.write_migration(1, "half", migration(1, up=HALF_THEN_FAIL))
    project.write_migration(2, "next", data_migration(2))
    with open_app(project, lock_wait_s=2) as app:
        assert app.server_info.topology == "standalone"
        assert app.server_info.supports_transactions is False
        with pytest.raises(StepFailedError) as info:
            app.upgrade(all_=True)
        assert "no step completed" in str(info.value)
        with MongoClient(standalone_uri) as client:
            db = client[project.db_name]
            assert db["things"].count_documents({"_id": 1}) == 1  # half applied, and we say so
            record = db["migrations"].find_one({"_id": 1})
            assert record["state"] == "failed" and record["error"] == "ValueError: half done"
            entry = db["auditlog"].find_one({"exc_name": "ValueError"})
            assert entry is not None and entry["exc_message"] == "half done"

            for attempt in (lambda: app.upgrade(), lambda: app.downgrade(), lambda: app.upgrade(to=2)):
                with pytest.raises(BlockedError, match="001_half .version 1. is failed"):
                    attempt()
            assert app.plan().blockers

            # resolved by hand: the operator cleaned up and records it as pending
            db["things"].delete_many({})
            marked = app.mark(1, applied=False)
            assert marked.state.value == "pending" and marked.error is None
            assert db["auditlog"].find_one({"transaction_name": "MarkPendingTransaction"}) is not None
            project.write_migration(1, "half", data_migration(1))
            assert app.upgrade_all() == 2
            assert sorted(d["_id"] for d in db["things"].find()) == [1, 2]
            assert db["migrations"].find_one({"_id": 2})["state"] == "applied"


def test_mark_applied_resolves_a_failed_step_without_running_it(standalone_project, standalone_uri):
    project = standalone_project
    project.write_migration(1, "half", migration(1, up=HALF_THEN_FAIL))
    with open_app(project, lock_wait_s=2) as app:
        with pytest.raises(StepFailedError):
            app.upgrade()
        record = app.mark(1, applied=True)
        assert record.is_applied and record.state.value == "applied"
        assert app.session.get_current_version() == 1
        assert app.status().is_clean
        with MongoClient(standalone_uri) as client:
            names = [e["transaction_name"] for e in client[project.db_name]["auditlog"].find().sort("_id", 1)]
        assert names == ["UpgradeTransaction", "MarkAppliedTransaction"]


def test_mark_unknown_version_is_a_usage_error(app):
    from runway_tui.engine.errors import UsageError

    with pytest.raises(UsageError, match="version 7 does not exist"):
        app.mark(7, applied=True)


def test_downgrade_failure_in_a_transaction_keeps_the_migration_applied(app, project, mongo_client):
    project.write_migration(1, "bad_down", migration(1, up=insert_doc(1),
                                                     down='ctx.db["things"].delete_many({}, session=ctx.session)\n'
                                                          'raise KeyError("nope")'))
    app.upgrade()
    with pytest.raises(StepFailedError, match="down 001_bad_down failed: KeyError"):
        app.downgrade()
    db = mongo_client[project.db_name]
    assert db["things"].count_documents({}) == 1
    record = db["migrations"].find_one({"_id": 1})
    assert record["is_applied"] is True and record["state"] == "applied"
    entries = audit(mongo_client, project.db_name)
    assert [e["transaction_name"] for e in entries] == ["UpgradeTransaction", "DowngradeTransaction"]
    assert entries[1]["exc_name"] == "KeyError"
