"""A step's bookkeeping is one command in its transaction: the record's new state, the audit entry and the
lease fence go together (client `bulkWrite`), or as separate commands on servers without it; either way an
aborted step leaves neither its record nor its audit entry."""

from __future__ import annotations

import pytest
from pymongo import MongoClient

from runway_tui.engine.app import MigrationApp
from runway_tui.engine.errors import StepFailedError
from tests.engine.helpers import CommandRecorder, data_migration, migration, open_app
from tests.support.project import Project

# The migration steals the lease's token inside its own transaction: the step's fenced write must see it
# and abort, after its record update and audit insert already ran in that same transaction.
STEAL_TOKEN = 'ctx.db["migrations_lock"].update_one({"_id": "runway"}, {"$set": {"token": "stolen"}}, ' \
              'session=ctx.session)\nctx.db["things"].insert_one({"_id": 1}, session=ctx.session)'


def without_guard(app: MigrationApp) -> MigrationApp:
    """These migrations stand in for another runner or an operator by writing runway's collections in the
    step's transaction, which the guard would stop first (engine/guard.py): here the fences themselves are
    tested, so the guard watches nothing."""
    app.guard.configure(app.database.name, [])
    return app


def per_step_commands(app: MigrationApp, project: Project, recorder: CommandRecorder) -> list[str]:
    """The commands a step adds: a run of 3 steps minus a run of 1, over 2 steps (one own insert each)."""
    for version in range(1, 5):
        project.write_migration(version, f"m{version}", data_migration(version))
    app.upgrade(to=1)  # records, indexes and the audit evidence's summary exist: both runs below do the same
    app.downgrade()  # per-run work
    recorder.clear()
    app.upgrade(to=1)
    one = recorder.names()
    recorder.clear()
    app.upgrade(to=4)
    three = recorder.names()
    # the guard's look at runway's collections: before a run's first step, after its last, and in between at
    # most one per step (engine/guard.py); counted apart, as how many depends on how long the steps take
    assert 2 <= three.count("listCollections") <= 1 + 3, three
    one, three = ([n for n in names if n != "listCollections"] for names in (one, three))
    extra = list(three)
    for name in one:
        assert name in extra, (name, one, three)
        extra.remove(name)
    return sorted(extra)


def test_a_step_sends_its_own_writes_one_bookkeeping_command_and_the_commit(recorder, project):
    with open_app(project) as app:
        assert app.server_info.supports_client_bulk_write and app.server_info.supports_transactions
        extra = per_step_commands(app, project, recorder)
    # 2 more steps: each its own insert, one bulkWrite (lease fence + record + audit) and the commit
    assert extra == sorted(["insert", "bulkWrite", "commitTransaction"] * 2)


def test_without_client_bulk_write_the_same_step_sends_separate_commands(recorder, project):
    with open_app(project) as app:
        app.store.combined = False  # what a server before MongoDB 8.0 gets
        extra = per_step_commands(app, project, recorder)
    # each: its own insert, the lease read, the record update, the applied source kept, the audit insert
    assert extra == sorted(["insert", "find", "update", "update", "insert", "commitTransaction"] * 2)


@pytest.mark.parametrize("combined", [True, False], ids=["bulkWrite", "separate"])
def test_a_step_records_its_state_and_audit_entry(project, mongo_client: MongoClient, combined):
    project.write_migration(1, "first", data_migration(1))
    with open_app(project) as app:
        app.store.combined = combined
        app.upgrade()
        app.downgrade()
    db = mongo_client[project.db_name]
    record = db["migrations"].find_one({"_id": 1})
    assert record["state"] == "pending" and record["is_applied"] is False and record["error"] is None
    entries = list(db["auditlog"].find().sort("_id", 1))
    assert [(e["transaction_name"], e["exc_name"]) for e in entries] == [("UpgradeTransaction", None),
                                                                         ("DowngradeTransaction", None)]
    assert entries[0]["migration_read_model"]["version"] == 1 and entries[0]["duration_ms"] is not None


@pytest.mark.parametrize("combined", [True, False], ids=["bulkWrite", "separate"])
def test_a_step_whose_lease_is_gone_at_its_write_leaves_neither_record_nor_entry(project, mongo_client, combined):
    project.write_migration(1, "steals", migration(1, up=STEAL_TOKEN))
    with without_guard(open_app(project)) as app:
        app.store.combined = combined
        with pytest.raises(StepFailedError, match="migration lock was taken away"):
            app.upgrade()
    db = mongo_client[project.db_name]
    record = db["migrations"].find_one({"_id": 1})
    assert record["state"] == "pending" and record["is_applied"] is False
    assert db["things"].count_documents({}) == 0
    entries = list(db["auditlog"].find())
    # only the failed attempt, written after the abort: no UpgradeTransaction success survived
    assert [(e["transaction_name"], e["exc_name"]) for e in entries] == [("UpgradeTransaction", "LockLostError")]


def test_a_step_whose_record_changed_leaves_no_success_entry(project, mongo_client):
    body = ('ctx.db["migrations"].update_one({"_id": 1}, {"$set": {"state": "failed"}}, session=ctx.session)\n'
            'ctx.db["things"].insert_one({"_id": 1}, session=ctx.session)')
    project.write_migration(1, "rewrites_its_record", migration(1, up=body))
    with without_guard(open_app(project)) as app, pytest.raises(StepFailedError, match="record changed under us"):
        app.upgrade()
    db = mongo_client[project.db_name]
    assert db["migrations"].find_one({"_id": 1})["state"] == "pending"
    assert db["things"].count_documents({}) == 0
    assert [e["exc_name"] for e in db["auditlog"].find()] == ["StepFailedError"]


def test_an_edited_file_runs_its_new_code_in_a_long_lived_app(project, mongo_client):
    project.write_migration(1, "edited", data_migration(1))
    with open_app(project) as app:
        app.upgrade()
        app.downgrade()
        project.write_migration(1, "edited", data_migration(1, coll="other"))
        app.upgrade()
    db = mongo_client[project.db_name]
    assert db["things"].count_documents({}) == 0 and db["other"].count_documents({"_id": 1}) == 1


def test_a_migration_that_sends_nothing_in_its_transaction_is_recorded(recorder, project, mongo_client):
    """Its transaction's first command is then ours: the lease is read first (a find takes the session's
    readConcern, which bulkWrite does not on every server), the record and audit entry still in one command."""
    project.write_migration(1, "noop", migration(1))
    with open_app(project) as app:
        app.refresh()
        recorder.clear()
        app.upgrade()
        # the guard's look at runway's collections runs beside the step's own commands (engine/guard.py)
        names = [name for name in recorder.names() if name != "listCollections"]
    commit = names.index("commitTransaction")
    assert names[commit - 2:commit + 1] == ["find", "bulkWrite", "commitTransaction"]
    db = mongo_client[project.db_name]
    assert db["migrations"].find_one({"_id": 1})["state"] == "applied"
    assert [e["exc_name"] for e in db["auditlog"].find()] == [None]


def test_without_a_transaction_the_step_writes_are_separate_commands(recorder, standalone_project):
    standalone_project.write_migration(1, "one", data_migration(1))
    with open_app(standalone_project) as app:
        app.refresh()
        recorder.clear()
        app.upgrade()
        assert "bulkWrite" not in recorder.names()
        assert app.repository.get(1).state.value == "applied"
        assert [e.exc_name for e in app.history()] == [None]
