"""Production receives reads only: on a server of its own, its opcounters and its contents are the same after
a rehearsal in every mode; `check(ctx)` reads production through a view that refuses writes; the default
scratch is the embedded daemon."""

from __future__ import annotations

from pathlib import Path

import pytest
from pymongo import MongoClient

from tests.rehearse.conftest import (
    BACKFILL,
    DROP_CANCELLED,
    EMAIL_UNIQUE,
    RENAME,
    as_json,
    seed,
    snapshot,
    write_rehearsal_key,
)
from tests.support.project import Project


def _writes(client: MongoClient) -> dict[str, int]:
    counters = client.admin.command("serverStatus")["opcounters"]
    return {k: int(counters.get(k, 0)) for k in ("insert", "update", "delete")}


@pytest.fixture
def own_production(tmp_path: Path, server_factory, mongo_uri: str):
    """Production alone on a server of its own (nobody else's writes in its counters); scratch on the suite's."""
    server = server_factory.start()
    client: MongoClient = MongoClient(server.uri, serverSelectionTimeoutMS=5000)
    project = Project.create(tmp_path / "own", uri=server.uri, db_name="shop")
    seed(client, "shop")
    write_rehearsal_key(project, mongo_uri)
    yield project, client
    client.close()


@pytest.mark.parametrize("flags", [(), ("--no-reverse",), ("--keep", "--sample", "3"), ("--steps", "2")])
def test_production_receives_no_write_in_any_mode(own_production, rehearse_cli, mongo_client, flags):
    project, client = own_production
    project.write_migration(1, "backfill", BACKFILL)
    project.write_migration(2, "email_unique", EMAIL_UNIQUE)
    project.write_migration(3, "rename", RENAME)
    project.write_migration(4, "drop_cancelled", DROP_CANCELLED)
    before, counters = snapshot(client, "shop"), _writes(client)

    result = rehearse_cli(project, "--json", *flags)

    report = as_json(result)
    assert report["production_writes"] == 0 and report["migrations"], result.stderr
    assert _writes(client) == counters
    assert snapshot(client, "shop") == before
    assert client.list_database_names() == ["local", "shop"] or set(client.list_database_names()) <= {
        "local", "shop", "admin", "config"}
    if "--keep" in flags:
        kept = [n for n in mongo_client.list_database_names() if n.startswith("rehearse_shop_")]
        assert kept and kept[0] in report["scratch"]
        for name in kept:
            mongo_client.drop_database(name)


def test_check_reads_production_and_reports_its_problems(own_production, rehearse_cli):
    project, client = own_production
    client["shop"]["orders"].insert_one({"_id": 999, "user": 1})  # no state: the check finds it in production
    project.write_migration(1, "needs_state", '''"""Orders need a state."""
version = 1


def check(ctx):
    missing = ctx.db["orders"].count_documents({"state": {"$exists": False}})
    return [f"{missing} order(s) have no state"] if missing else []


def upgrade(ctx):
    pass


def downgrade(ctx):
    pass
''')
    counters = _writes(client)
    result = rehearse_cli(project, "--json")
    assert result.returncode == 4
    checks = as_json(result)["prechecks"]
    assert [(c["kind"], c["ok"], c["violations"], c["examples"]) for c in checks] == [
        ("check", False, 1, ["1 order(s) have no state"])]
    assert _writes(client) == counters


def test_a_check_that_writes_is_refused(own_production, rehearse_cli):
    project, client = own_production
    project.write_migration(1, "sneaky", '''"""A check that tries to write."""
version = 1


def check(ctx):
    ctx.db["orders"].delete_many({})
    return []


def upgrade(ctx):
    pass


def downgrade(ctx):
    pass
''')
    before, counters = snapshot(client, "shop"), _writes(client)
    result = rehearse_cli(project, "--json")
    report = as_json(result)
    assert result.returncode == 4
    assert report["prechecks"][0]["ok"] is False and "read-only" in report["prechecks"][0]["detail"]
    assert report["production_writes"] == 0
    assert _writes(client) == counters and snapshot(client, "shop") == before


def test_validator_precheck_counts_the_whole_production_collection(own_production, rehearse_cli):
    project, client = own_production
    client["shop"]["users"].update_many({"_id": {"$lt": 6}}, {"$unset": {"email": ""}})  # 6 of 40 lack one
    project.write_migration(1, "require_email", '''"""Every user needs an e-mail."""
version = 1
transactional = False
touches = ["users"]  # named in a command document: not found by reading the file


def upgrade(ctx):
    ctx.db.command({"collMod": "users", "validator": {"email": {"$exists": True}}})


def downgrade(ctx):
    ctx.db.command({"collMod": "users", "validator": {}})
''')
    report = as_json(rehearse_cli(project, "--json", "--sample", "4"))
    checks = [c for c in report["prechecks"] if c["kind"] == "validator"]
    assert [(c["collection"], c["ok"], c["violations"]) for c in checks] == [("users", False, 6)]
    users = report["migrations"][0]["collections"]["users"]
    assert users["validator_changed"] is True and users["sampled"] == 4


def test_the_default_scratch_is_the_embedded_daemon(project, mongo_client, rehearse_cli):
    seed(mongo_client, project.db_name)
    project.write_migration(1, "backfill", BACKFILL)
    result = rehearse_cli(project, "--json")
    report = as_json(result)
    assert result.returncode == 0, result.stderr
    assert report["scratch"].startswith("embedded (") and report["production_writes"] == 0
    assert report["migrations"][0]["collections"]["users"]["updated"] == 40
    assert [n for n in mongo_client.list_database_names() if n.startswith("rehearse_")] == []


def test_dropping_an_index_production_uses_is_flagged(own_production, rehearse_cli):
    project, client = own_production
    for _ in range(3):  # production's queries use by_user
        list(client["shop"]["orders"].find({"user": 1}).hint("by_user"))
    project.write_migration(1, "drop_by_user", '''"""Drop orders.by_user."""
version = 1
transactional = False


def upgrade(ctx):
    ctx.db["orders"].drop_index("by_user")


def downgrade(ctx):
    ctx.db["orders"].create_index("user", name="by_user", sparse=True)
''')
    result = rehearse_cli(project, "--json")
    report = as_json(result)
    assert report["migrations"][0]["collections"]["orders"]["indexes"]["removed"] == ["by_user"]
    assert report["migrations"][0]["reversible"] is True  # recreated with the same options
    checks = [c for c in report["prechecks"] if c["kind"] == "index_in_use"]
    assert len(checks) == 1 and checks[0]["ok"] is False
    # mongod counts the three queries; SecantusDB reports no use at all (`since` is null): flagged as unknown
    assert checks[0]["violations"] >= 3 or "does not report whether queries use it" in checks[0]["detail"]
    assert result.returncode == 4
