"""Migrations that misuse `ctx.session` or touch runway's own collections.

A record must never lie and a version must never be applied twice: the step that ended its own
transaction fails and is recorded as what it is; the audit log is evidence, so a version it shows
applied is never run again on the word of a dropped or rewritten migrations collection, until an
operator settles it with `mark` (audited).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pymongo import MongoClient

from tests.reliability.helpers import GOOD, no_traceback, one_line_error, record_figures, run_inproc
from tests.support.project import Project

MISUSE = '''"""Misusing step"""
version = 3


def upgrade(ctx):
    ctx.db.markers.insert_one({{"v": 3}}, session=ctx.session)
    {body}


def downgrade(ctx):
    ctx.db.markers.delete_one({{"v": 3}}, session=ctx.session)
'''


@dataclass(frozen=True)
class Misuse:
    id: str
    body: str
    state: str  # what the record of version 3 must say afterwards
    markers: int  # effects of version 3 left in the database
    says: str


SESSION_MISUSES = [
    Misuse("abort", "ctx.session.abort_transaction()", "pending", 0, "aborted the step's transaction"),
    Misuse("commit", "ctx.session.commit_transaction()", "failed", 1, "ended the step's transaction"),
    Misuse("start-own-inside", "ctx.session.start_transaction()", "pending", 0, "InvalidOperation"),
    Misuse("abort-then-own", "ctx.session.abort_transaction()\n    ctx.session.start_transaction()\n"
                             "    ctx.db.markers.insert_one({'v': 33}, session=ctx.session)", "failed", 0,
           "ended the step's transaction"),
    Misuse("commit-then-own", "ctx.session.commit_transaction()\n    ctx.session.start_transaction()\n"
                              "    ctx.db.markers.insert_one({'v': 33}, session=ctx.session)", "failed", 1,
           "ended the step's transaction"),
]


def _db(project: Project):
    client = MongoClient(project.uri, serverSelectionTimeoutMS=5000)
    return client, client[project.db_name]


@pytest.mark.parametrize("misuse", SESSION_MISUSES, ids=lambda m: m.id)
def test_a_migration_that_ends_its_transaction_fails_and_is_recorded_truly(misuse: Misuse, project: Project) -> None:
    for v in (1, 2):
        project.write_migration(v, "good", GOOD.format(v=v))
    project.write_migration(3, "misuse", MISUSE.format(body=misuse.body))
    result = run_inproc(project, "up", "--all")
    no_traceback(result.out, result.err)
    assert result.code == 1, result.err
    line = one_line_error(result.err)
    assert "003_misuse" in line and misuse.says in line, line
    client, db = _db(project)
    with client:
        record = db.migrations.find_one({"_id": 3})
        assert record["state"] == misuse.state and record["is_applied"] is False and record["error"], record
        assert db.markers.count_documents({"v": 3}) == misuse.markers
        assert db.markers.count_documents({"v": 33}) == 0  # the migration's own second transaction: rolled back
        entries = list(db.auditlog.find({"migration_read_model.version": 3}))
        assert len(entries) == 1 and entries[0]["exc_name"], entries
    again = run_inproc(project, "up", "--all")
    if misuse.state == "failed":  # its writes may be in the database: blocked until an operator looks
        assert again.code == 4 and "mark 3" in one_line_error(again.err), again.err
    record_figures("session-misuse", case=misuse.id, topology="replica-set", held=True)


TAMPERING = {
    "drop-migrations": "ctx.db.migrations.drop()",
    "delete-records": "ctx.db.migrations.delete_many({})",
    "rewrite-records-in-session": "ctx.db.migrations.update_many({'_id': {'$ne': 3}}, {'$set': {'is_applied': False, "
                                  "'state': 'pending'}}, session=ctx.session)",
    "rewrite-records-outside-session": "ctx.db.migrations.update_many({'_id': {'$ne': 3}}, {'$set': "
                                       "{'is_applied': False, 'state': 'pending'}})",
}


@pytest.mark.parametrize("tamper", sorted(TAMPERING))
def test_versions_the_audit_log_shows_applied_are_never_run_twice(tamper: str, any_project: Project) -> None:
    """The step that touches the migrations collection fails (engine/guard.py); what it did there is undone
    with its transaction when it was in it, else it is failed and the audit log outvotes the records it
    changed: no later run applies a version twice, and once an operator settles it, the run completes."""
    for v in (1, 2):
        any_project.write_migration(v, "good", GOOD.format(v=v))
    any_project.write_migration(3, "tamper", MISUSE.format(body=TAMPERING[tamper]))
    any_project.write_migration(4, "good", GOOD.format(v=4))
    first = run_inproc(any_project, "up", "--all")
    no_traceback(first.out, first.err)
    assert first.code == 1 and "changed runway's own collections" in one_line_error(first.err), first.err
    undone = tamper == "rewrite-records-in-session" and any_project.topology == "replica-set"  # type: ignore[attr-defined]
    second = run_inproc(any_project, "up", "--all")
    no_traceback(second.out, second.err)
    client, db = _db(any_project)
    with client:
        markers = {v: db.markers.count_documents({"v": v}) for v in (1, 2, 3, 4)}
        assert markers[1] == 1 and markers[2] == 1, f"a version was applied twice: {markers}"
        assert max(markers.values()) <= 1, markers
        if undone:  # rolled back with its transaction: the records are intact, and it is stopped again
            assert second.code == 1, second.err
            assert sorted(d["_id"] for d in db.migrations.find({"is_applied": True})) == [1, 2]
        else:
            assert second.code == 4, second.err
            line = one_line_error(second.err)
            assert "003_tamper (version 3) is failed" in line, line
            if tamper != "rewrite-records-in-session":  # standalone: ctx.session is None, the same as outside
                assert "the audit log shows it applied" in line and "mark 1 --applied" in line, line
            assert run_inproc(any_project, "plan").code == 4
            assert run_inproc(any_project, "check").code == 4

        # The operator settles it with `mark` (audited); then the run completes without a second apply.
        for v in (1, 2):
            if not (db.migrations.find_one({"_id": v}) or {}).get("is_applied"):
                assert run_inproc(any_project, "mark", str(v), "--applied").code == 0
        record = db.migrations.find_one({"_id": 3}) or {}
        if record.get("state") == "failed" and db.markers.count_documents({"v": 3}):
            assert run_inproc(any_project, "mark", "3", "--applied").code == 0
        else:  # its author fixes the migration before it runs again
            if record.get("state") == "failed":
                assert run_inproc(any_project, "mark", "3", "--pending").code == 0
            any_project.write_migration(3, "tamper", GOOD.format(v=3))
        final = run_inproc(any_project, "up", "--all")
        assert final.code == 0, final.err
        markers = {v: db.markers.count_documents({"v": v}) for v in (1, 2, 3, 4)}
        applied = sorted(d["_id"] for d in db.migrations.find({"is_applied": True}))
    assert markers == {1: 1, 2: 1, 3: 1, 4: 1} and applied == [1, 2, 3, 4], (markers, applied)
    record_figures("collections-tampered", case=tamper, topology=any_project.topology,  # type: ignore[attr-defined]
                   held=True)
