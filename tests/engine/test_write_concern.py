"""Durable writes: every write the engine makes (records, audit, lease, each step's commit, and the
migration's own writes through `ctx`) asks for a journaled majority, unless the config (`write_concern`)
or the URI says otherwise.

What the server then does with that request is proven by the crash tests (tests/reliability/test_crashes.py);
here we check, on the wire, that it is asked for.
"""

from __future__ import annotations

import pytest

from runway_tui.engine.config import WriteConcernConfig, load_config
from tests.engine.helpers import data_migration, migration, open_app
from tests.reliability.helpers import set_config
from tests.support.commands import watch

DURABLE = {"w": "majority", "j": True}
WRITES = ("insert", "update", "delete", "findAndModify", "bulkWrite", "commitTransaction")


def _writes_during(project, steps: int, **overrides) -> list:
    with open_app(project, **overrides) as app, watch() as seen:
        app.upgrade(steps=steps)
        app.downgrade(steps=1)
        writes = seen.named(*WRITES)
    assert writes, "the listener saw no write"
    return writes


def test_replica_set_commits_and_lease_writes_are_durable(project):
    project.write_migration(1, "a", data_migration(1))
    project.write_migration(2, "b", data_migration(2))
    writes = _writes_during(project, 2)
    commits = [w for w in writes if w.name == "commitTransaction"]
    assert len(commits) == 3  # two ups, one down: each its own transaction
    outside = [w for w in writes if w.write_concern is not None or w.name == "commitTransaction"]
    assert set().union(*(w.collections for w in outside if w.name != "commitTransaction")) >= {"migrations_lock"}
    for write in outside:
        assert write.write_concern == DURABLE, write
    # Writes inside a transaction carry none of their own: the commit's write concern covers them.
    assert all(w.write_concern is None for w in writes if w not in outside)


def test_without_transactions_every_write_is_durable(standalone_project):
    standalone_project.write_migration(1, "a", data_migration(1))
    standalone_project.write_migration(2, "b", migration(2, up='ctx.db["things"].insert_one({"_id": 2})',
                                                          down='ctx.db["things"].delete_one({"_id": 2})'))
    writes = _writes_during(standalone_project, 2)
    targets = set().union(*(w.collections for w in writes))
    assert {"migrations", "auditlog", "migrations_lock", "things"} <= targets
    for write in writes:  # the migration's own writes too, even one that forgot `session=ctx.session`
        assert write.write_concern == DURABLE, write


@pytest.mark.parametrize(("setting", "expected"), [("config_w1", {"w": 1, "j": False}), ("uri_w1", {"w": 1})])
def test_config_or_uri_can_choose_otherwise(project, setting, expected):
    project.write_migration(1, "a", data_migration(1))
    if setting == "uri_w1":
        uri = load_config(project.config_path).app(project.app).uri
        set_config(project, uri=uri + ("&" if "?" in uri else "?") + "w=1")
        overrides = {}
    else:
        overrides = {"write_concern": WriteConcernConfig(w=1, j=False), "write_concern_explicit": True}
    writes = _writes_during(project, 1, **overrides)
    lock_writes = [w for w in writes if w.target.endswith(".migrations_lock") or w.name == "commitTransaction"]
    assert lock_writes and all(w.write_concern == expected for w in lock_writes), lock_writes
