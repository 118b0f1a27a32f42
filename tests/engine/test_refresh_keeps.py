"""Refresh never loses a record: not one whose file exists (parsed or not), never an applied one.

Orphans are reported; `forget VERSION` is the one explicit, audited way to remove a record."""

from __future__ import annotations

import pytest
from pymongo import MongoClient

from runway_tui.engine.errors import ReadOnlyError, UsageError
from runway_tui.engine.scripts import checksum_text
from tests.engine.helpers import data_migration, migration, open_app


def _mongorunway_record(version: int, name: str, text: str, applied: bool = False) -> dict:
    """A record exactly as Mongorunway 1.0.7a0 writes it (research §7.1)."""
    return {"_id": version, "name": name, "version": version, "checksum": checksum_text(text),
            "is_applied": applied, "description": ""}


def test_refresh_keeps_a_pending_record_whose_file_we_cannot_parse(app, project, mongo_client: MongoClient):
    """The data-loss report: Unix-timestamp file names with `version = 1` were 'broken', and refresh deleted
    the pending record of a file that exists (exit 0)."""
    db = mongo_client[project.db_name]
    unix = project.scripts_dir / "1796172596_create_items.py"
    unix.write_text(migration(1))
    syntax = project.scripts_dir / "002_half_written.py"
    syntax.write_text("version = 2\ndef upgrade(:\n")
    renamed = project.scripts_dir / "a_third.py"  # no version prefix at all; it says version = 3 inside
    renamed.write_text(migration(3))
    db["migrations"].insert_many([_mongorunway_record(1, "1796172596_create_items", unix.read_text()),
                                  _mongorunway_record(2, "002_half_written", syntax.read_text()),
                                  _mongorunway_record(3, "003_third", renamed.read_text())])

    report = app.refresh()

    assert report.removed == []
    assert sorted(report.kept) == [1, 3]  # 2 is matched to its (broken) file by the version in its name
    assert sorted(d["_id"] for d in db["migrations"].find()) == [1, 2, 3]


def test_refresh_reports_but_never_removes_an_orphan(app, project, mongo_client: MongoClient):
    db = mongo_client[project.db_name]
    project.write_migration(1, "first", data_migration(1))
    app.upgrade()
    (project.scripts_dir / "001_first.py").unlink()
    db["migrations"].insert_one({"_id": 4, "name": "004_failed_once", "version": 4, "checksum": "0" * 32,
                                 "is_applied": False, "description": "", "state": "failed", "error": "boom"})

    report = app.refresh()

    assert sorted(report.orphans) == [1, 4]
    assert report.removed == []
    assert sorted(d["_id"] for d in db["migrations"].find()) == [1, 4]


def test_forget_removes_an_orphan_and_audits_it(app, project, mongo_client: MongoClient):
    db = mongo_client[project.db_name]
    project.write_migration(1, "first", data_migration(1))
    project.write_migration(2, "second", data_migration(2))
    app.upgrade(all_=True)
    (project.scripts_dir / "002_second.py").unlink()

    with pytest.raises(UsageError, match="001_first.py exists"):
        app.forget(1)  # its file is there: forgetting it would only bring it back as new
    with pytest.raises(UsageError, match="version 9 has no record"):
        app.forget(9)
    forgotten = app.forget(2)

    assert forgotten.name == "002_second" and forgotten.is_applied
    assert db["migrations"].find_one({"_id": 2}) is None
    entry = app.history(limit=1)[0]
    assert entry.transaction_name == "ForgetTransaction"
    assert entry.migration_read_model is not None and entry.migration_read_model.version == 2
    assert entry.migration_read_model.is_applied is True  # what was forgotten: it had been applied
    assert app.status().current_version == 1


def test_forget_is_refused_in_read_only_mode(project, mongo_client: MongoClient):
    project.write_migration(1, "first", data_migration(1))
    with open_app(project) as writer:
        writer.upgrade()
    (project.scripts_dir / "001_first.py").unlink()
    with open_app(project, read_only=True) as reader, pytest.raises(ReadOnlyError, match="refusing to forget"):
        reader.forget(1)
    assert mongo_client[project.db_name]["migrations"].find_one({"_id": 1}) is not None
