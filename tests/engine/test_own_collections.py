"""Which collections are runway's own: one answer (engine/store/collections.py) that pane 2 (the database
overview), the explorer and the change stream all read, in runway's shape and in Mongorunway's, where our
fields and entries live in `<collection>_runway` beside Mongorunway's own collections."""

from __future__ import annotations

import pytest

from runway_tui.engine.inspect import Inspector, InspectSettings
from runway_tui.engine.watch import own_collections
from tests.engine.helpers import data_migration, open_app

RUNWAY_SHAPE = {"migrations", "migrations_sources", "migrations_lock", "auditlog", "auditlog_evidence"}
MONGORUNWAY_SHAPE = RUNWAY_SHAPE | {"migrations_runway", "auditlog_runway"}


@pytest.fixture(params=["runway", "mongorunway"])
def shaped(request, project):
    """The project in one of the two shapes, with the set of collection names that are runway's there."""
    if request.param == "mongorunway":
        project.config_path.write_text("compat: mongorunway\n" + project.config_path.read_text())
        return project, MONGORUNWAY_SHAPE
    return project, RUNWAY_SHAPE


def _applied_one(project, mongo_client):
    """One step up (every own collection now exists) and a user collection beside them."""
    project.write_migration(1, "one", data_migration(1))
    mongo_client[project.db_name]["customers"].insert_one({"name": "not runway's"})


def test_pane_two_marks_every_own_collection_and_nothing_else(shaped, mongo_client):
    project, expected = shaped
    _applied_one(project, mongo_client)
    with open_app(project) as app:
        app.upgrade()
        app.evidence.seal(app.evidence.read(), app.now())  # the evidence collection exists too
        rows = {row["name"]: row for row in app.collections_list()}
        overview = {row["name"]: row for row in app.database_overview()}
    present = {name for name in expected if name in rows}
    assert present >= expected - {"migrations_lock"}  # the lease document is removed after the step
    assert {name for name, row in rows.items() if row["ours"]} == present
    assert {name for name, row in overview.items() if row["ours"]} == present
    assert rows["customers"]["ours"] is None and rows["things"]["ours"] is None


def test_the_explorer_and_the_change_stream_agree_with_pane_two(shaped):
    project, expected = shaped
    with open_app(project) as app:
        inspector = Inspector.for_app(app, InspectSettings())
        assert inspector.ours == expected
        assert set(own_collections(app)) == expected
