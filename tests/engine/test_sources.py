"""Each applied file's source is kept beside its record (`<migrations>_sources`, by version and checksum),
written by the step's own success write: a failed step keeps nothing; an older database has none."""

from __future__ import annotations

import pytest
from pymongo import MongoClient

from runway_tui.engine.errors import StepFailedError
from runway_tui.engine.scripts import checksum_text
from tests.engine.helpers import data_migration, migration


def sources(mongo_client: MongoClient, project) -> dict[str, dict]:
    return {d["_id"]: d for d in mongo_client[project.db_name]["migrations_sources"].find()}


def test_an_applied_file_keeps_its_source_and_an_edit_is_a_second_version_of_it(app, project, mongo_client):
    path = project.write_migration(1, "m1", data_migration(1))
    text = path.read_text()
    app.upgrade()
    key = f"1:{checksum_text(text)}"
    assert list(sources(mongo_client, project)) == [key]
    stored = sources(mongo_client, project)[key]
    assert stored["source"] == text and stored["version"] == 1 and stored["name"] == "001_m1"
    assert app.stored_source(1, checksum_text(text)) == text
    path.write_text(text + "# edited after it was applied\n")
    assert app.stored_source(1, checksum_text(path.read_text())) is None  # never applied in this form
    app.accept(1)  # accepting the edit runs nothing: the applied text stays the one kept
    assert list(sources(mongo_client, project)) == [key]
    app.downgrade()
    app.upgrade()  # applied again, edited: both texts are kept
    assert set(sources(mongo_client, project)) == {key, f"1:{checksum_text(path.read_text())}"}


def test_a_failed_step_keeps_no_source_and_a_database_applied_before_has_none(app, project, mongo_client):
    project.write_migration(1, "fails", migration(1, up="raise RuntimeError('boom')"))
    with pytest.raises(StepFailedError):
        app.upgrade()
    assert sources(mongo_client, project) == {}  # the write was part of the rolled-back step
    (project.scripts_dir / "001_fails.py").unlink()
    path = project.write_migration(1, "m1", data_migration(1))
    app.refresh()
    app.upgrade()
    mongo_client[project.db_name]["migrations_sources"].delete_many({})  # as if applied before sources were kept
    assert app.stored_source(1, checksum_text(path.read_text())) is None
