"""Audit log: append-only, one entry per attempt, Mongorunway's fields, one session id, size limit."""

from __future__ import annotations

import datetime as dt

import pytest
from bson.binary import Binary

from runway_tui import MigrationAuditlogEntry, MigrationReadModel, __version__
from runway_tui.engine.errors import StepFailedError
from tests.engine.helpers import data_migration, migration, open_app
from tests.support.waiting import wait_until


def raw_entries(mongo_client, project) -> list[dict]:
    return list(mongo_client[project.db_name]["auditlog"].find().sort("_id", 1))


def test_entry_fields_as_in_mongorunway(app, project, mongo_client):
    project.write_migration(1, "first", data_migration(1, doc="The first one."))
    app.upgrade()
    (doc,) = raw_entries(mongo_client, project)
    assert set(doc) >= {"session_id", "transaction_name", "migration_read_model", "date_fmt", "date", "exc_name",
                        "exc_message", "duration_ms", "user", "host", "engine_version"}
    assert isinstance(doc["session_id"], Binary) and doc["session_id"].subtype == 4
    assert len(doc["session_id"]) == 16
    assert doc["transaction_name"] == "UpgradeTransaction"
    model = doc["migration_read_model"]
    assert model == {"name": "001_first", "version": 1, "checksum": model["checksum"],
                     "description": "The first one.", "is_applied": False}  # the state before the attempt
    assert len(model["checksum"]) == 32
    assert doc["date_fmt"] == "%Y-%m-%d %H:%M:%S"
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert abs(now - doc["date"]) < dt.timedelta(minutes=1)
    assert doc["exc_name"] is None and doc["exc_message"] is None
    assert isinstance(doc["duration_ms"], int)
    assert (doc["user"], doc["host"]) == (app.user, app.host)
    assert doc["engine_version"] == __version__
    assert "date_-1" in mongo_client[project.db_name]["auditlog"].index_information()


def test_one_entry_per_attempt_never_deleted_on_down(app, project, mongo_client):
    project.write_migration(1, "a", data_migration(1))
    project.write_migration(2, "b", migration(2, up='raise RuntimeError("first try fails")'))
    app.upgrade()
    with pytest.raises(StepFailedError):
        app.upgrade()
    project.write_migration(2, "b", data_migration(2))
    app.upgrade()
    app.downgrade(to=0)
    entries = raw_entries(mongo_client, project)
    assert [(e["transaction_name"], e["migration_read_model"]["version"], e["exc_name"]) for e in entries] == [
        ("UpgradeTransaction", 1, None),
        ("UpgradeTransaction", 2, "RuntimeError"),
        ("UpgradeTransaction", 2, None),
        ("DowngradeTransaction", 2, None),
        ("DowngradeTransaction", 1, None),
    ]
    assert entries[1]["exc_message"] == "first try fails"
    assert entries[3]["migration_read_model"]["is_applied"] is True  # down: applied before the attempt
    assert len({e["session_id"] for e in entries}) == 1  # Mongorunway B12: one id for the whole session
    assert entries[0]["session_id"] == app.session_id


def test_each_engine_session_has_its_own_id(project, mongo_client):
    project.write_migration(1, "a", data_migration(1))
    with open_app(project) as first:
        first.upgrade()
    with open_app(project) as second:
        second.downgrade()
    first_id, second_id = (e["session_id"] for e in raw_entries(mongo_client, project))
    assert first_id != second_id


def test_history_reads_entries_newest_first(app, project):
    for version in (1, 2, 3):
        project.write_migration(version, f"m{version}", data_migration(version))
    app.upgrade(all_=True)
    entries = app.history(limit=2)
    assert [e.migration_read_model.version for e in entries] == [3, 2]
    assert all(isinstance(e, MigrationAuditlogEntry) for e in entries)
    assert isinstance(entries[0].migration_read_model, MigrationReadModel)
    assert entries[0].succeeded
    assert [e.migration_read_model.version for e in app.session.history(limit=None, ascending_date=True)] == [1, 2, 3]
    assert [e.migration_read_model.version for e in app.history(version=2)] == [2]
    assert app.history_count() == 3
    text = repr(entries[0])
    assert text.startswith("MigrationAuditlogEntry(session_id=Binary(") and ", 4)" in text
    assert "transaction_name='UpgradeTransaction'" in text


def test_auditlog_limit_trims_the_oldest_but_never_a_versions_evidence(project, mongo_client):
    for version in range(1, 4):
        project.write_migration(version, f"m{version}", data_migration(version))
    with open_app(project, auditlog_limit=3) as app:
        app.upgrade(steps=2)
        app.upgrade(all_=True)
        # each up is the newest state change of its version: all three are kept
        assert [e["transaction_name"] for e in raw_entries(mongo_client, project)] == ["UpgradeTransaction"] * 3
        app.downgrade(all_=True)
    entries = sorted(raw_entries(mongo_client, project), key=lambda e: e["date"])
    assert [(e["transaction_name"], e["migration_read_model"]["version"]) for e in entries] == [
        ("DowngradeTransaction", 3), ("DowngradeTransaction", 2), ("DowngradeTransaction", 1)]


def test_mark_accept_unlock_are_audited(app, project, mongo_client):
    project.write_migration(1, "a", data_migration(1))
    app.upgrade()
    path = project.scripts_dir / "001_a.py"
    path.write_text(path.read_text() + "# edit\n")
    app.accept(1)
    app.mark(1, applied=False)
    app.mark(1, applied=True)
    mongo_client[project.db_name]["migrations_lock"].insert_one(
        {"_id": "runway", "owner": "x", "user": "u", "host": "h", "pid": 1,
         "expires_at": dt.datetime(2000, 1, 1), "acquired_at": dt.datetime(2000, 1, 1)})
    assert app.unlock() is not None
    names = [e["transaction_name"] for e in raw_entries(mongo_client, project)]
    assert names == ["UpgradeTransaction", "AcceptChecksumTransaction", "MarkPendingTransaction",
                     "MarkAppliedTransaction", "UnlockTransaction"]


def test_history_date_window(app, project):
    project.write_migration(1, "a", data_migration(1))
    project.write_migration(2, "b", data_migration(2))
    app.upgrade()
    (first,) = app.session.history()
    # A moment strictly between the two entries, on the clock that dates them (millisecond precision).
    middle = wait_until(lambda: (now := app.now()) > first.date and now, "the audit clock to pass the first entry")
    wait_until(lambda: app.now() > middle, "the audit clock to pass the middle")
    app.upgrade()
    later = list(app.session.history(start=middle))
    earlier = list(app.session.history(end=middle))
    assert [e.migration_read_model.version for e in later] == [2]
    assert [e.migration_read_model.version for e in earlier] == [1]


def test_blocked_run_writes_no_audit_entry(app, project, mongo_client):
    project.write_migration(1, "a", data_migration(1))
    project.write_migration(2, "b", "version = 2\n")
    from runway_tui.engine.errors import BlockedError

    with pytest.raises(BlockedError):
        app.upgrade(all_=True)  # reaches the broken 002 (one step would stop before it)
    assert raw_entries(mongo_client, project) == []  # Mongorunway B13 logged a "success" here


def test_custom_collection_names_are_used(project, mongo_client):
    project.write_migration(1, "a", data_migration(1))
    with open_app(project, migrations_collection="my_migrations", auditlog_collection="my_audit",
                  lock_collection="my_lock") as app:
        app.upgrade()
    db = mongo_client[project.db_name]
    assert db["my_migrations"].count_documents({"is_applied": True}) == 1
    assert db["my_audit"].count_documents({}) == 1
    assert "is_applied_1__id_-1" in db["my_migrations"].index_information()  # Mongorunway B7
    assert "migrations" not in db.list_collection_names()


def test_entries_about_one_version_keep_their_order_whatever_each_runners_clock(project, mongo_client):
    """Runners date entries with their estimate of the server's clock, each a little off. A runner whose
    estimate lags (here by 10 s) reverts what another applied a moment before: its entry must still be the
    newest for that version, or the audit log's evidence would say "applied" for a pending migration and
    block the next `up` (seen with 16 racing runners)."""
    from runway_tui.engine.app import MigrationApp
    from tests.engine.helpers import app_config

    project.write_migration(1, "a", data_migration(1))
    with open_app(project) as ahead:
        lagging = MigrationApp(app_config(project), clock=lambda: ahead.now() - dt.timedelta(seconds=10))
        with lagging:
            assert ahead.upgrade_once() == 1
            assert lagging.downgrade_once() == 1
        entries = list(mongo_client[project.db_name]["auditlog"].find().sort("date", -1))
        assert [e["transaction_name"] for e in entries] == ["DowngradeTransaction", "UpgradeTransaction"]
        assert ahead.upgrade_once() == 1  # not blocked: the evidence says reverted, as the record does
    state = mongo_client[project.db_name]["migrations"].find_one({"_id": 1})
    assert state["state"] == "applied"


def test_the_evidence_summary_is_built_for_an_old_log_and_follows_every_runner(project, mongo_client):
    """The audit log's evidence is read from its summary plus the entries written since (engine/evidence.py):
    a log without one (written before it existed) is read whole and gets one at the next write; entries of
    another runner after it are seen; a record rewritten against them is a mismatch."""
    from runway_tui.engine.models import Problem

    db = mongo_client[project.db_name]
    for version in (1, 2):
        project.write_migration(version, f"m{version}", data_migration(version))
    with open_app(project) as app, open_app(project) as other:
        app.upgrade(all_=True)
        db["auditlog_evidence"].drop()  # as a log written before the summary existed
        db["migrations"].drop()
        assert [r.problems for r in app.status().rows] == [(Problem.UNRECORDED, Problem.AUDIT_MISMATCH)] * 2
        app.baseline(2)  # records what the audit log says; the summary is written with it
        summary = db["auditlog_evidence"].find_one({"_id": "summary"})
        assert {k: v["transaction_name"] for k, v in summary["versions"].items()} == {
            "1": "BaselineTransaction", "2": "BaselineTransaction"}
        other.downgrade()  # another runner, after the summary: its entry is read from the log
        assert all(not r.problems for r in app.status().rows)
        db["migrations"].update_one({"_id": 2}, {"$set": {"is_applied": True, "state": "applied"}})
        row = app.status().rows[1]
        assert row.problems == (Problem.AUDIT_MISMATCH,) and row.audit.transaction_name == "DowngradeTransaction"
