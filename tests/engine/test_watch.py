"""The engine's change stream on its own collections (engine/watch.py): another engine's step is seen as
soon as it is written; a server without change streams is one clear RunwayError (the TUI polls instead)."""

from __future__ import annotations

import threading

import pytest

from runway_tui.engine.errors import ChangeStreamError
from runway_tui.engine.watch import AUDIT, LOCK, RECORDS, own_collections
from tests.engine.helpers import data_migration, open_app


def seen_until(watch, wanted: set[str], rounds: int = 120) -> set[str]:
    """What the stream reports, until it has said `wanted` (each wait is bounded; a deadline, not a sleep)."""
    seen: set[str] = set()
    for _ in range(rounds):
        seen |= watch.wait_for_change(0.5)
        if wanted <= seen:
            break
    return seen


def test_another_engines_step_is_seen_as_records_audit_and_lock(project):
    project.write_migration(1, "one", data_migration(1))
    with open_app(project) as ours, open_app(project) as theirs:
        with ours.watch_changes() as watch:
            assert watch.wait_for_change(0.05) == frozenset()  # nothing happened yet
            other = threading.Thread(target=theirs.upgrade)
            other.start()
            seen = seen_until(watch, {RECORDS, AUDIT, LOCK})
            other.join(30)
        assert {RECORDS, AUDIT, LOCK} <= seen
        assert ours.status().current_version == 1


def test_changes_to_other_collections_are_not_reported(project, mongo_client):
    with open_app(project) as app, app.watch_changes() as watch:
        mongo_client[project.db_name]["customers"].insert_one({"name": "not runway's"})
        app.unlock()  # nothing to remove: writes nothing
        assert watch.wait_for_change(0.3) == frozenset()


def test_compat_side_collections_are_watched_too(project):
    project.config_path.write_text("compat: mongorunway\n" + project.config_path.read_text())
    with open_app(project) as app:
        watched = own_collections(app)
    assert watched == {"migrations": RECORDS, "migrations_runway": RECORDS, "migrations_sources": RECORDS,
                       "auditlog_runway": AUDIT, "auditlog": AUDIT, "auditlog_evidence": AUDIT,
                       "migrations_lock": LOCK}


def test_a_standalone_server_has_no_change_stream(standalone_project):
    with open_app(standalone_project) as app, pytest.raises(ChangeStreamError) as raised:
        app.watch_changes()
    assert str(raised.value).endswith("is standalone: no change streams")
    assert "\n" not in str(raised.value)
