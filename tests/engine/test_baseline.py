"""`baseline --to V`: adopt a database another tool brought to version V, without running anything."""

from __future__ import annotations

import pytest
from pymongo import MongoClient

from runway_tui.engine.errors import BlockedError, ReadOnlyError, UsageError
from tests.engine.helpers import data_migration, migration, open_app


def test_baseline_records_without_running_and_audits(app, project, mongo_client: MongoClient):
    db = mongo_client[project.db_name]
    for version in (1, 2, 3, 4):
        project.write_migration(version, f"m{version}", data_migration(version))
    db["things"].insert_many([{"_id": 1}, {"_id": 2}, {"_id": 3}])  # migrate-mongo (say) got here first

    with pytest.raises(UsageError, match="version 9 does not exist"):
        app.baseline(9)
    assert app.baseline(3) == [1, 2, 3]

    assert db["things"].count_documents({}) == 3  # nothing ran
    report = app.status()
    assert report.current_version == 3 and [r.version for r in report.pending] == [4]
    assert all(r.record.applied_by == app.identity for r in report.applied)
    entries = app.history(limit=10)
    assert [e.migration_read_model.version for e in entries if e.transaction_name == "BaselineTransaction"] \
        == [3, 2, 1]
    assert app.baseline(3) == []  # already there: nothing recorded twice
    assert app.upgrade().current_version == 4 and db["things"].count_documents({}) == 4
    assert app.downgrade(to=0).current_version is None  # baselined versions revert like any other
    assert db["things"].count_documents({}) == 0


def test_baseline_refuses_broken_files_and_read_only(project, mongo_client: MongoClient):
    project.write_migration(1, "m1", migration(1))
    project.write_migration(2, "broken", "version = 2\n")
    with open_app(project) as app, pytest.raises(BlockedError, match="002_broken.py: missing def upgrade"):
        app.baseline(2)
    with open_app(project, read_only=True) as reader, pytest.raises(ReadOnlyError, match="refusing to baseline"):
        reader.baseline(1)
    assert mongo_client[project.db_name]["migrations"].count_documents({"is_applied": True}) == 0
