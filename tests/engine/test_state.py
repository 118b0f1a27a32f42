"""State in MongoDB: refresh in bulk with a report, record schema, indexes; inspection never writes."""

from __future__ import annotations

import datetime as dt

from pymongo import MongoClient

from runway_tui import use_cases
from runway_tui.engine.errors import ExitCode
from runway_tui.engine.models import Direction, Problem, State
from runway_tui.engine.scripts import checksum_text
from tests.engine.helpers import data_migration, migration, open_app


def test_refresh_records_new_files_with_the_mongorunway_schema(app, project, mongo_client: MongoClient):
    path = project.write_migration(4, "add_history", migration(4, doc="Add the history collection."))
    project.write_migration(1, "first", migration(1))
    report = app.refresh()
    assert report.new == [1, 4]
    assert report.changed_anything
    doc = mongo_client[project.db_name]["migrations"].find_one({"_id": 4})
    assert doc["name"] == "004_add_history"  # Mongorunway B2: never truncated
    assert doc["version"] == 4
    assert doc["checksum"] == checksum_text(path.read_text())
    assert doc["description"] == "Add the history collection."
    assert doc["is_applied"] is False
    assert doc["state"] == "pending"
    assert {"applied_at", "applied_by", "duration_ms", "error"} <= set(doc)
    again = app.refresh()
    assert again.new == [] and not again.changed_anything


def test_refresh_creates_the_indexes(app, project, mongo_client: MongoClient):
    project.write_migration(1, "first", migration(1))
    app.refresh()
    db = mongo_client[project.db_name]
    assert "is_applied_1__id_-1" in db["migrations"].index_information()
    assert "date_-1" in db["auditlog"].index_information()


def test_refresh_reports_every_kind_of_finding(app, project, mongo_client: MongoClient):
    for version in (1, 3, 5):
        project.write_migration(version, f"m{version}", data_migration(version))
    project.write_migration(6, "pending_then_deleted", migration(6))
    project.write_migration(7, "pending_then_edited", migration(7))
    assert app.upgrade(to=5).completed  # applies 1, 3, 5
    drift = project.scripts_dir / "001_m1.py"
    drift.write_text(drift.read_text() + "# edited after it was applied\n")
    (project.scripts_dir / "003_m3.py").unlink()  # applied, file gone: orphan
    (project.scripts_dir / "006_pending_then_deleted.py").unlink()  # pending, file gone: removed
    edited = project.scripts_dir / "007_pending_then_edited.py"
    edited.write_text(migration(7, doc="A better description."))
    project.write_migration(2, "merged_late", migration(2))  # older than the newest applied one
    project.write_migration(8, "broken", "version = 8\n")
    project.write_migration(9, "new", migration(9))

    report = app.refresh()
    assert report.new == [2, 9]
    assert report.updated == [7]
    assert report.drift == [1]
    assert report.orphans == [3]
    assert report.removed == [6]
    assert report.out_of_order == [2]
    assert report.broken == ["008_broken.py: missing def upgrade(ctx) and def downgrade(ctx)"]

    records = {d["_id"]: d for d in mongo_client[project.db_name]["migrations"].find()}
    assert sorted(records) == [1, 2, 3, 5, 7, 9]  # the removed pending record is gone, the broken file unrecorded
    assert records[7]["description"] == "A better description."
    assert records[7]["checksum"] == checksum_text(edited.read_text())
    assert records[1]["checksum"] != checksum_text(drift.read_text())  # refresh never rewrites an applied record
    assert records[3]["is_applied"] is True


def test_status_compares_files_and_records_without_refresh(app, project):
    project.write_migration(1, "a", data_migration(1))
    project.write_migration(2, "b", data_migration(2))
    app.upgrade()
    project.write_migration(3, "c", migration(3))
    project.write_migration(4, "d", "not python (")
    report = app.status()
    rows = {r.version: r for r in report.rows}
    assert report.current_version == 1
    assert rows[1].state == "applied" and rows[1].is_applied
    assert rows[2].state == "pending" and rows[2].problems == ()
    assert rows[3].state == "pending" and rows[3].problems == (Problem.UNRECORDED,)
    assert rows[4].problems == (Problem.BROKEN,)
    assert [r.version for r in report.pending] == [2, 3]
    assert not report.is_clean
    assert report.counts()["broken"] == 1


def test_fresh_database_has_no_version_and_no_rows(app):
    report = app.status()
    assert report.current_version is None
    assert report.rows == []
    assert report.is_clean
    assert app.session.get_current_version() is None
    assert app.history() == []


def test_refresh_is_one_write_round_trip(recorder, project, mongo_client: MongoClient):
    for version in range(1, 21):
        project.write_migration(version, f"m{version}", migration(version))
    with open_app(project) as app:
        app.refresh()  # first refresh also creates the indexes
        recorder.clear()
        for version in range(21, 41):
            project.write_migration(version, f"m{version}", migration(version))
        report = app.refresh()
    assert report.new == list(range(21, 41))
    writes = recorder.writes("migrations")
    assert len(writes) == 1, writes  # 20 new files, one bulk write
    assert mongo_client[project.db_name]["migrations"].count_documents({}) == 40


def test_status_plan_check_history_send_no_write_command(recorder, project):
    project.write_migration(1, "a", data_migration(1))
    project.write_migration(2, "b", data_migration(2))
    project.write_migration(3, "c", data_migration(3))
    with open_app(project) as setup:
        setup.upgrade()
    (project.scripts_dir / "001_a.py").write_text(data_migration(1) + "# drift\n")
    project.write_migration(4, "d", migration(4))
    recorder.clear()
    with open_app(project) as app:  # connecting writes nothing either
        app.status()
        app.plan(Direction.UP, all_=True)
        app.plan(Direction.DOWN, steps=1)
        assert use_cases.check(app) == ExitCode.VALIDATION_FAILED
        app.history(limit=5)
        app.history_count()
        app.lock_info()
        app.session.get_all_migration_models()
        app.database_overview()
    assert recorder.names(), "the recorder saw the reads"
    assert recorder.writes() == []


def test_applied_record_has_who_when_and_how_long(app, project, mongo_client: MongoClient):
    project.write_migration(1, "a", data_migration(1))
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=5)
    app.upgrade()
    doc = mongo_client[project.db_name]["migrations"].find_one({"_id": 1})
    assert doc["is_applied"] is True and doc["state"] == State.APPLIED.value
    assert doc["applied_by"] == f"{app.user}@{app.host}"
    assert before < doc["applied_at"] < before + dt.timedelta(minutes=1)
    assert isinstance(doc["duration_ms"], int) and doc["duration_ms"] >= 0
    assert doc["error"] is None
    app.downgrade()
    doc = mongo_client[project.db_name]["migrations"].find_one({"_id": 1})
    assert doc["is_applied"] is False and doc["state"] == "pending" and doc["applied_at"] is None


def test_line_ending_change_is_not_drift(app, project):
    path = project.write_migration(1, "a", data_migration(1))
    app.upgrade()
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    report = app.status()
    assert report.is_clean
    assert report.rows[0].current_checksum == report.rows[0].stored_checksum


def test_refresh_with_every_kind_of_change_stays_bulk(recorder, project):
    for version in range(1, 11):
        project.write_migration(version, f"m{version}", migration(version))
    with open_app(project) as app:
        app.refresh()
        recorder.clear()
        for version in range(1, 4):  # pending, file edited
            project.write_migration(version, f"m{version}", migration(version, doc="edited"))
        for version in range(4, 7):  # pending, file deleted
            (project.scripts_dir / f"{version:03d}_m{version}.py").unlink()
        for version in range(11, 14):
            project.write_migration(version, f"m{version}", migration(version))
        report = app.refresh()
    assert (report.updated, report.removed, report.new) == ([1, 2, 3], [4, 5, 6], [11, 12, 13])
    writes = recorder.writes("migrations")
    # one bulk_write: the driver sends one command per operation kind (update, delete), never one per file
    assert sorted(name for name, _, _ in writes) == ["delete", "update"]


def test_a_mongorunway_database_is_read_and_migrated(project, mongo_client):
    """Records written by Mongorunway (no `state`, no `applied_at`...) are understood and can be stepped."""
    first = project.write_migration(1, "create_users", data_migration(1))
    project.write_migration(2, "add_index", data_migration(2))
    db = mongo_client[project.db_name]
    db["things"].insert_one({"_id": 1})
    db["migrations"].insert_many([
        {"_id": 1, "name": "001_create_users", "version": 1, "checksum": checksum_text(first.read_text()),
         "is_applied": True, "description": "Migration number 1."},
        {"_id": 2, "name": "002_add_index", "version": 2, "checksum": "0" * 32, "is_applied": False,
         "description": "an older text"},
    ])
    with open_app(project) as app:
        report = app.status()
        assert [(r.version, r.state, r.problems) for r in report.rows] == [(1, "applied", ()), (2, "pending", ())]
        assert report.current_version == 1
        assert app.refresh().updated == [2]
        assert db["migrations"].find_one({"_id": 2})["description"] == "Migration number 2."
        assert app.upgrade_once() == 1
        assert app.downgrade_to(0) == 2  # the record Mongorunway applied is reverted too
    assert db["things"].count_documents({}) == 0
    assert db["migrations"].count_documents({"is_applied": False, "state": "pending"}) == 2


def test_only_a_step_executes_a_migration_file(app, project, tmp_path):
    marker = tmp_path / "imported"
    project.write_migration(1, "side_effect", migration(1, header=f"open({str(marker)!r}, 'a').write('x')\n"))
    app.status()
    app.refresh()
    app.plan(Direction.UP)
    app.mark(1, applied=True)
    app.mark(1, applied=False)
    assert not marker.exists()
    app.upgrade()
    assert marker.read_text() == "x"  # imported once, by the step
