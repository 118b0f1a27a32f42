"""The audit log keeps its evidence (issue 25, round three).

The audit log is what protects an applied version from being run again when its record is lost or
rewritten. Here it is attacked the ways it was seen to fail: trimmed by a runner whose clock is slow,
trimmed until the evidence of the oldest versions is gone, read only for the versions a plan happens to
run, contradicted while `check` says all is well, and changed by a migration itself. Everything is seen as
a user sees it: CLI exit codes and lines, and the database's contents read with pymongo.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from tests.reliability.helpers import (
    GOOD,
    no_traceback,
    one_line_error,
    record_figures,
    run_inproc,
    set_config,
    spawn_cli,
)
from tests.support.cli import REPO_ROOT
from tests.support.project import Project

SKEW = str(REPO_ROOT / "tests" / "support" / "skewed_clock")
FAILING = '''"""Failing step {v}"""
version = {v}


def upgrade(ctx):
    raise RuntimeError("not today")


def downgrade(ctx):
    pass
'''


def _compat(project: Project) -> Project:
    """The same project in the Mongorunway-compatible shape (its collections, ours beside them)."""
    project.config_path.write_text("compat: mongorunway\n" + project.config_path.read_text())
    return project


@pytest.fixture
def database(any_project: Project) -> Iterator[Database]:
    with MongoClient(any_project.uri, serverSelectionTimeoutMS=5000) as client:
        yield client[any_project.db_name]


def _skewed(project: Project, offset_s: float, *args: str) -> None:
    """One CLI command in a process whose clock is `offset_s` seconds off (ObjectIds follow it)."""
    env = {"PYTHONPATH": os.pathsep.join([SKEW, str(REPO_ROOT)]), "RUNWAY_TEST_CLOCK_OFFSET_S": str(offset_s)}
    proc = spawn_cli(project, *args, env=env)
    _out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err


def _ok(project: Project, *args: str) -> str:
    result = run_inproc(project, *args)
    no_traceback(result.out, result.err)
    assert result.code == 0, result.err
    return result.out


def _markers(db: Database, versions: range | tuple[int, ...]) -> dict[int, int]:
    return {v: db.markers.count_documents({"v": v}) for v in versions}


def _record(db: Database, version: int) -> dict | None:
    """A record as the engine reads it: in the compatible shape, our fields (`state`...) are kept beside
    Mongorunway's record and count while its `is_applied` is the one they were written with."""
    doc = db.migrations.find_one({"_id": version})
    side = db.migrations_runway.find_one({"_id": version})
    if doc is not None and side is not None and side.get("is_applied") == doc.get("is_applied"):
        doc = {**doc, **{k: v for k, v in side.items() if k not in ("_id", "is_applied")}}
    return doc


def _upgrades(db: Database, collection: str) -> list[int]:
    return sorted(e["migration_read_model"]["version"] for e in db[collection].find(
        {"transaction_name": "UpgradeTransaction", "exc_name": None}))


# ------------------------------------------------------------------------------------------------ trimming
def test_trimming_follows_the_server_date_not_a_slow_runners_clock(any_project: Project, database: Database) -> None:
    """`auditlog_limit` keeps the newest entries by their (server-side) date: a runner whose clock is two
    hours slow has its entry kept, not trimmed at once, and the next `up` is not blocked by an older one."""
    set_config(any_project, auditlog_limit=2)
    any_project.write_migration(1, "good", GOOD.format(v=1))
    for args in (("up",), ("down",), ("up",)):
        _ok(any_project, *args)
    _skewed(any_project, -2 * 3600, "down")

    kept = [e["transaction_name"] for e in database.auditlog.find().sort("date", 1)]
    assert kept == ["UpgradeTransaction", "DowngradeTransaction"], kept
    assert database.migrations.find_one({"_id": 1})["state"] == "pending"
    _ok(any_project, "up")  # the evidence agrees with the record: nothing blocks
    assert _markers(database, (1,)) == {1: 1}
    record_figures("audit-trim-server-date", topology=any_project.topology, held=True)  # type: ignore[attr-defined]


@pytest.mark.parametrize("shape", ["runway", "mongorunway"])
def test_trimming_never_removes_a_versions_evidence(shape: str, any_project: Project, database: Database) -> None:
    """With a limit far below the number of versions, every version keeps its last state-changing entry (in
    both storage shapes), so after the migrations collection is lost no request runs a version again."""
    if shape == "mongorunway":
        _compat(any_project)
    set_config(any_project, auditlog_limit=2)
    for v in range(1, 6):
        any_project.write_migration(v, "good", GOOD.format(v=v))
    _ok(any_project, "up", "--all")
    logs = ["auditlog", "auditlog_runway"] if shape == "mongorunway" else ["auditlog"]
    for log in logs:
        assert _upgrades(database, log) == [1, 2, 3, 4, 5], log

    database.migrations.drop()  # lost (by hand, a restore gone wrong...)
    for request in (("up", "--to", "3"), ("up",), ("up", "--all")):
        result = run_inproc(any_project, *request)
        no_traceback(result.out, result.err)
        assert result.code == 4, (request, result.err)
        line = one_line_error(result.err)
        assert "the audit log shows it applied" in line and "001_good" in line, line
    assert _markers(database, range(1, 6)) == {v: 1 for v in range(1, 6)}, "a version was applied twice"
    record_figures("audit-trim-evidence", shape=shape, topology=any_project.topology, held=True)  # type: ignore[attr-defined]


def test_trimming_still_bounds_the_rest_of_the_log(project: Project, mongo_client: MongoClient) -> None:
    """What is not evidence is still trimmed, oldest first: repeated failures leave the newest `limit`
    entries and the evidence that version 1 is applied."""
    set_config(project, auditlog_limit=3)
    project.write_migration(1, "good", GOOD.format(v=1))
    project.write_migration(2, "failing", FAILING.format(v=2))
    _ok(project, "up", "--steps", "1")
    for _ in range(5):
        assert run_inproc(project, "up").code == 1
    entries = list(mongo_client[project.db_name].auditlog.find().sort("date", 1))
    summary = [(e["migration_read_model"]["version"], e["exc_name"]) for e in entries]
    assert summary == [(1, None), (2, "RuntimeError"), (2, "RuntimeError"), (2, "RuntimeError")], summary


# ------------------------------------------------------------------------------------ evidence for any run
@dataclass(frozen=True)
class Rewrite:
    id: str
    setup: tuple[tuple[str, ...], ...]  # CLI commands run first
    version: int  # the record rewritten by hand afterwards
    to_applied: bool
    request: tuple[str, ...]  # a request whose own steps the rewritten version is not part of
    untouched: dict[int, int]  # markers that must stay as they are


REWRITES = [
    Rewrite("down-under-a-newer-record-rewritten-to-pending", (("up", "--all"),), 3, False, ("down",),
            {1: 1, 2: 1, 3: 1}),
    Rewrite("up-beside-a-record-rewritten-to-applied", (("up", "--to", "2"), ("down",)), 2, True, ("up",),
            {1: 1, 2: 0, 3: 0}),
    Rewrite("up-to-below-a-record-rewritten-to-pending", (("up", "--to", "2"),), 2, False, ("up", "--to", "1"),
            {1: 1, 2: 1, 3: 0}),
]


@pytest.mark.parametrize("rewrite", REWRITES, ids=lambda r: r.id)
def test_no_run_while_the_audit_log_contradicts_any_record(rewrite: Rewrite, any_project: Project,
                                                         database: Database) -> None:
    for v in (1, 2, 3):
        any_project.write_migration(v, "good", GOOD.format(v=v))
    for args in rewrite.setup:
        _ok(any_project, *args)
    state = "applied" if rewrite.to_applied else "pending"
    database.migrations.update_one({"_id": rewrite.version}, {"$set": {"is_applied": rewrite.to_applied,
                                                                         "state": state}})
    result = run_inproc(any_project, *rewrite.request)
    no_traceback(result.out, result.err)
    assert result.code == 4, result.err
    line = one_line_error(result.err)
    assert f"00{rewrite.version}_good (version {rewrite.version}): the audit log shows it" in line, line
    assert _markers(database, (1, 2, 3)) == rewrite.untouched
    for command in (("plan",), ("check",)):
        assert run_inproc(any_project, *command).code == 4, command


# ----------------------------------------------------------------------------------------- check and status
def test_check_and_status_say_what_blocks_the_plan(any_project: Project, database: Database) -> None:
    for v in (1, 2, 3):
        any_project.write_migration(v, "good", GOOD.format(v=v))
    _ok(any_project, "up", "--all")
    database.migrations.drop()

    check = run_inproc(any_project, "check")
    no_traceback(check.out, check.err)
    assert check.code == 4, check.out + check.err
    assert "no problems" not in check.out
    for v in (1, 2, 3):
        assert f"00{v}_good: the audit log shows it applied" in check.out, check.out
    assert run_inproc(any_project, "plan").code == 4
    status = run_inproc(any_project, "status")
    assert status.code == 0
    assert "the audit log shows it applied" in status.out and "audit mismatch" in status.out, status.out
    rows = json.loads(run_inproc(any_project, "status", "--json").out)["migrations"]
    assert all("audit_mismatch" in row["problems"] for row in rows), rows
    assert rows[0]["audit"]["state"] == "applied" and rows[0]["audit"]["action"] == "up", rows[0]
    checked = json.loads(run_inproc(any_project, "check", "--json").out)
    assert checked["ok"] is False and checked["exit_code"] == 4
    assert {p["problem"] for p in checked["problems"]} == {"audit_mismatch"}

    # the operator looks at the data and records what the audit log says; then all is well again
    _ok(any_project, "baseline", "--to", "3")
    assert "no problems" in _ok(any_project, "check")
    assert _markers(database, (1, 2, 3)) == {1: 1, 2: 1, 3: 1}


def test_check_fails_whenever_the_plan_is_blocked(project: Project) -> None:
    """A plan blocked by something no row shows (here `group: true` with a file that opts out of
    transactions) fails `check` too, with the plan's reason."""
    text = project.config_path.read_text()
    project.config_path.write_text(text.replace("    production: false\n", "    production: false\n    group: true\n"))
    project.write_migration(1, "good", GOOD.format(v=1))
    plain = GOOD.format(v=2).replace("version = 2\n", "version = 2\ntransactional = False\n")
    project.write_migration(2, "plain", plain)
    assert run_inproc(project, "plan").code == 4
    check = run_inproc(project, "check")
    assert check.code == 4, check.out + check.err
    assert "--group" in check.out and "002_plain" in check.out, check.out


# -------------------------------------------------------------------------------- one attempt, one entry
OWN_RECORD_LOST = {
    # the example: the migration drops the migrations collection
    "drops-the-migrations-collection": "ctx.db.migrations.drop()",
    # through a client of its own, which the engine does not see: its record is gone when the step records
    "deletes-its-record-from-another-client": (
        "host, port = ctx.client.address\n"
        "    with pymongo.MongoClient(host, port, directConnection=True) as other:\n"
        "        other[ctx.db.name].migrations.delete_one({'_id': 3})"),
}
LOSER = '''"""Step that loses its record"""
import pymongo

version = 3


def upgrade(ctx):
    ctx.db.markers.insert_one({{"v": 3}}, session=ctx.session)
    {body}


def downgrade(ctx):
    ctx.db.markers.delete_one({{"v": 3}}, session=ctx.session)
'''


@pytest.mark.parametrize("case", sorted(OWN_RECORD_LOST))
def test_one_attempt_one_entry_and_the_message_matches_the_record(case: str, any_project: Project,
                                                                  database: Database) -> None:
    for v in (1, 2):
        any_project.write_migration(v, "good", GOOD.format(v=v))
    any_project.write_migration(3, "loser", LOSER.format(body=OWN_RECORD_LOST[case]))
    _ok(any_project, "up", "--to", "2")
    result = run_inproc(any_project, "up")
    no_traceback(result.out, result.err)
    assert result.code == 1, result.err
    line = one_line_error(result.err)
    entries = list(database.auditlog.find({"migration_read_model.version": 3}))
    assert len(entries) == 1 and entries[0]["exc_name"], entries  # one attempt, one entry: a failure
    record = _record(database, 3)  # read before anything re-creates records
    assert record is not None, "the failed step left no record of itself"
    said = "state is failed" in line or "NOT rolled back: state is failed" in result.err
    assert said == (record["state"] == "failed"), (line, record)
    if record["state"] == "pending":  # rolled back: nothing of it remains, it may run again
        assert database.markers.count_documents({"v": 3}) == 0, "said rolled back, but its effects remain"
    else:  # its effects may remain: nothing runs until someone looks
        assert run_inproc(any_project, "up", "--all").code == 4
    assert _markers(database, (1, 2)) == {1: 1, 2: 1}
    record_figures("audit-one-entry", case=case, topology=any_project.topology, held=True)  # type: ignore[attr-defined]


# ------------------------------------------------------------------ a migration that touches runway's collections
@dataclass(frozen=True)
class Tamper:
    id: str
    body: str
    names: str  # what the error line must name
    undoable: bool = False  # a write in the step's own transaction: rolled back on a replica set
    compat: bool = False  # the Mongorunway-compatible shape (its side collections)


FOREIGN = ("host, port = ctx.client.address\n"
           "    with pymongo.MongoClient(host, port, directConnection=True) as other:\n"
           "        other[ctx.db.name].{action}")
TAMPERS = [
    Tamper("drop-records", "ctx.db.migrations.drop()", "migrations"),
    Tamper("rewrite-another-record", "ctx.db.migrations.update_one({'_id': 1}, {'$set': {'is_applied': False, "
                                     "'state': 'pending'}})", "migrations"),
    Tamper("rewrite-another-record-in-session", "ctx.db.migrations.update_one({'_id': 1}, {'$set': "
           "{'is_applied': False, 'state': 'pending'}}, session=ctx.session)", "migrations", undoable=True),
    Tamper("drop-audit-log", "ctx.db.auditlog.drop()", "auditlog"),
    Tamper("rename-audit-log", "ctx.db.auditlog.rename('auditlog_old')", "auditlog"),
    Tamper("delete-audit-entries", "ctx.db.auditlog.delete_many({})", "auditlog"),
    Tamper("delete-audit-entries-in-session", "ctx.db.auditlog.delete_many({}, session=ctx.session)", "auditlog",
           undoable=True),
    Tamper("rename-sources", "ctx.db.migrations_sources.rename('old_sources')", "migrations_sources"),
    Tamper("delete-sources", "ctx.db.migrations_sources.delete_many({})", "migrations_sources"),
    Tamper("delete-the-lock", "ctx.db.migrations_lock.delete_many({})", "migrations_lock"),
    Tamper("drop-the-database", "ctx.client.drop_database(ctx.db.name)", "database"),
    Tamper("another-client-drops-the-audit-log", FOREIGN.format(action="auditlog.drop()"), "auditlog"),
    Tamper("another-client-renames-the-records", FOREIGN.format(action="migrations.rename('gone')"), "migrations"),
    Tamper("drop-side-records", "ctx.db.migrations_runway.drop()", "migrations_runway", compat=True),
    Tamper("delete-side-audit", "ctx.db.auditlog_runway.delete_many({})", "auditlog_runway", compat=True),
]
TAMPERING = '''"""Tampering step"""
import pymongo

version = 3


def upgrade(ctx):
    ctx.db.markers.insert_one({{"v": 3}}, session=ctx.session)
    {body}


def downgrade(ctx):
    ctx.db.markers.delete_one({{"v": 3}}, session=ctx.session)
'''


@pytest.mark.parametrize("tamper", TAMPERS, ids=lambda t: t.id)
def test_a_step_that_changes_runways_collections_fails_and_says_so(tamper: Tamper, any_project: Project,
                                                                   database: Database) -> None:
    if tamper.compat:
        _compat(any_project)
    for v in (1, 2):
        any_project.write_migration(v, "good", GOOD.format(v=v))
    any_project.write_migration(3, "tamper", TAMPERING.format(body=tamper.body))
    _ok(any_project, "up", "--to", "2")
    result = run_inproc(any_project, "up")
    no_traceback(result.out, result.err)
    assert result.code == 1, result.out + result.err
    line = one_line_error(result.err)
    assert "003_tamper" in line and "changed runway's own collections" in line and tamper.names in line, line

    rolled_back = tamper.undoable and any_project.topology == "replica-set"  # type: ignore[attr-defined]
    record = _record(database, 3)
    assert record is not None and record["is_applied"] is False, record
    entries = [e for log in ("auditlog", "auditlog_runway") for e in database[log].find(
        {"migration_read_model.version": 3})]
    assert entries and all(e["exc_name"] for e in entries), entries  # the failed attempt, never a success
    assert len({e["_id"] for e in entries}) == 1, entries  # one attempt, one entry (both logs share it)
    if rolled_back:  # the step's transaction took the migration's writes, the tampering too, away with it
        assert record["state"] == "pending" and "rolled back" in line, (record, line)
        assert database.markers.count_documents({"v": 3}) == 0
        assert database.migrations.find_one({"_id": 1})["is_applied"] is True
        assert database.auditlog.count_documents({"migration_read_model.version": {"$in": [1, 2]}}) == 2
    else:  # it could not be undone: said loudly, and the step is failed until someone looks
        assert record["state"] == "failed", record
        assert "could not be undone" in line and "state is failed" in line, line
        loud = [text for text in result.err.splitlines() if text.startswith("error: ")]
        assert any("could not be undone" in text for text in loud), result.err
        again = run_inproc(any_project, "up", "--all")
        assert again.code == 4, again.err
    assert max(_markers(database, (1, 2, 3)).values()) <= 1, "a version was applied twice"
    record_figures("audit-tamper", case=tamper.id, topology=any_project.topology,  # type: ignore[attr-defined]
                   rolled_back=rolled_back, held=True)


MONGORUNWAY_TAMPERING = '''"""Tampering step in Mongorunway's format"""
import mongorunway

version = 3


@mongorunway.migration
def upgrade():
    return [mongorunway.insert_one("markers", {"v": 3}), mongorunway.drop_collection("auditlog")]


@mongorunway.migration
def downgrade():
    return [mongorunway.delete_one("markers", {"v": 3})]
'''


def test_a_mongorunway_command_that_drops_its_audit_log_fails_the_step(any_project: Project,
                                                                       database: Database) -> None:
    """Mongorunway's own audit log is one of runway's collections in the compatible shape: its built-in
    `drop_collection` command, run by the stand-in, is stopped like any other write."""
    _compat(any_project)
    for v in (1, 2):
        any_project.write_migration(v, "good", GOOD.format(v=v))
    any_project.write_migration(3, "tamper", MONGORUNWAY_TAMPERING)
    _ok(any_project, "up", "--to", "2")
    result = run_inproc(any_project, "up")
    no_traceback(result.out, result.err)
    assert result.code == 1, result.err
    line = one_line_error(result.err)
    assert "changed runway's own collections (dropped auditlog)" in line and "could not be undone" in line, line
    assert _record(database, 3)["state"] == "failed"
    assert run_inproc(any_project, "up", "--all").code == 4


def test_a_group_run_that_changes_runways_collections_applies_nothing(project: Project,
                                                                     mongo_client: MongoClient) -> None:
    """`--group`: the step that dropped the audit log fails the run; the run's transaction takes every step
    with it, and the failed step stays failed (what it did to the log cannot be undone)."""
    for v in (1, 2, 4):
        project.write_migration(v, "good", GOOD.format(v=v))
    project.write_migration(3, "tamper", TAMPERING.format(body="ctx.db.auditlog.drop()"))
    result = run_inproc(project, "up", "--all", "--group")
    no_traceback(result.out, result.err)
    assert result.code == 1, result.err
    line = one_line_error(result.err)
    assert "003_tamper" in line and "could not be undone" in line and "rolled back as a whole" in line, line
    db = mongo_client[project.db_name]
    assert db.markers.count_documents({}) == 0
    assert [(d["_id"], d["state"]) for d in db.migrations.find().sort("_id", 1)] == [
        (1, "pending"), (2, "pending"), (3, "failed"), (4, "pending")]
    assert [e["exc_name"] for e in db.auditlog.find()] == ["RunwayCollectionsChangedError"]


INNOCENT = {
    "reads-runways-collections": "ctx.db.auditlog.count_documents({})\n"
                                 "    ctx.db.migrations.find_one({'_id': 1})\n"
                                 "    list(ctx.db.migrations_lock.find({}))",
    "writes-a-lookalike-collection": "ctx.db.migrations_archive.insert_one({'v': 3}, session=ctx.session)",
    "writes-migrations-of-another-database": "ctx.client[ctx.db.name + '_x'].migrations.insert_one({'v': 3})",
    "deletes-nothing-from-the-audit-log": "ctx.db.auditlog.delete_many({'transaction_name': 'NoSuchThing'})",
    # the lease is renewed by the heartbeat while the step runs: the engine's own write, never the migration's
    "outlives-two-heartbeats": "import time\n"
                               "    seen = {ctx.db.migrations_lock.find_one({})['heartbeat_at']}\n"
                               "    deadline = time.monotonic() + 60\n"
                               "    while len(seen) < 3 and time.monotonic() < deadline:\n"
                               "        time.sleep(0.02)\n"
                               "        seen.add(ctx.db.migrations_lock.find_one({})['heartbeat_at'])\n"
                               "    assert len(seen) >= 3, seen",
}


@pytest.mark.parametrize("case", sorted(INNOCENT))
def test_a_step_that_leaves_runways_collections_alone_is_not_stopped(case: str, any_project: Project,
                                                                     database: Database) -> None:
    set_config(any_project, lock_ttl_s=3)  # a heartbeat every second
    for v in (1, 2):
        any_project.write_migration(v, "good", GOOD.format(v=v))
    any_project.write_migration(3, "innocent", TAMPERING.format(body=INNOCENT[case]))
    try:
        _ok(any_project, "up", "--all")
        assert _record(database, 3)["state"] == "applied"
        assert _markers(database, (1, 2, 3)) == {1: 1, 2: 1, 3: 1}
    finally:
        database.client.drop_database(database.name + "_x")


def test_a_drop_by_another_client_in_a_fast_run_is_caught_naming_the_step(any_project: Project,
                                                                          database: Database) -> None:
    """In a run of fast steps the catalog is looked at every 0.1 s and after the last step (engine/runner.py):
    a drop by a client of the migration's own is caught by the next look, which names the steps since the
    last one (the culprit among them), and the run stops there."""
    any_project.write_migration(1, "good", GOOD.format(v=1))
    any_project.write_migration(2, "tamper", TAMPERING.format(body=FOREIGN.format(action="auditlog.drop()"))
                                .replace("version = 3", "version = 2").replace('"v": 3', '"v": 2'))
    for v in (3, 4, 5):
        any_project.write_migration(v, "good", GOOD.format(v=v))
    result = run_inproc(any_project, "up", "--all")
    no_traceback(result.out, result.err)
    assert result.code == 1, result.err
    line = one_line_error(result.err)
    assert "changed runway's own collections (auditlog was dropped" in line and "002_tamper" in line, line
    failed = [d["_id"] for d in database.migrations.find({"state": "failed"})]
    assert len(failed) == 1 and failed[0] >= 2, failed  # the step whose look found it
    assert database.migrations.count_documents({"state": "applied", "_id": {"$gt": failed[0]}}) == 0
    assert run_inproc(any_project, "up", "--all").code == 4
    assert max(_markers(database, (1, 2, 3, 4, 5)).values()) <= 1
