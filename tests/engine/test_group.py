"""Group mode (`up --all --group`, `down --group`, config `group: true`): the whole run is one transaction with
all its records and audit entries, so either every migration of the run commits or none does."""

from __future__ import annotations

import json

import pytest
from pymongo import MongoClient

from runway_tui.engine.errors import BlockedError, StepFailedError
from tests.engine.helpers import data_migration, insert_doc, migration, open_app
from tests.support.cli import run_cli
from tests.support.project import Project

# What the server says when a transaction outgrows its limits, raised where the server would raise it: inside the
# run (SecantusDB has no size or lifetime limit small enough to reach in a test).
TOO_BIG = ("from pymongo.errors import OperationFailure\n"
           "raise OperationFailure('Transaction is too large', code=257)")


def write_three(project: Project, third: str | None = None) -> None:
    project.write_migration(1, "one", data_migration(1))
    project.write_migration(2, "two", data_migration(2))
    project.write_migration(3, "three", third or data_migration(3))


def states(client: MongoClient, project: Project) -> dict[int, str]:
    return {d["_id"]: d["state"] for d in client[project.db_name]["migrations"].find()}


def test_a_group_run_applies_every_step_with_one_commit(recorder, project, mongo_client):
    write_three(project)
    with open_app(project) as app:
        recorder.clear()
        result = app.upgrade(all_=True, group=True)
        assert result.plan.group and [r.step.version for r in result.completed] == [1, 2, 3]
        assert recorder.names().count("commitTransaction") == 1
        down = app.downgrade(all_=True, group=True)
        assert [r.step.version for r in down.completed] == [3, 2, 1]
    db = mongo_client[project.db_name]
    assert states(mongo_client, project) == {1: "pending", 2: "pending", 3: "pending"}
    entries = [(e["transaction_name"], e["migration_read_model"]["version"], e["exc_name"])
               for e in db["auditlog"].find().sort("_id", 1)]
    assert entries == [("UpgradeTransaction", v, None) for v in (1, 2, 3)] + \
                      [("DowngradeTransaction", v, None) for v in (3, 2, 1)]


@pytest.mark.parametrize("combined", [True, False], ids=["bulkWrite", "per-collection"])
def test_a_group_run_writes_its_bookkeeping_once_at_its_end(recorder, project, mongo_client, combined):
    """Every record, audit entry and stored source of the run in one write at its end (one `bulkWrite`; on a
    server without it, one bulk write per collection), inside the run's transaction."""
    write_three(project)
    with open_app(project) as app:
        app.refresh()
        app.store.combined = combined and app.store.combined
        recorder.clear()
        app.upgrade(all_=True, group=True)
        bookkeeping = [(name, coll) for name, _db, coll in recorder.writes()
                       if coll in ("migrations", "auditlog", "migrations_sources") or name == "bulkWrite"]
        if app.store.combined:
            assert [name for name, _coll in bookkeeping] == ["bulkWrite"]
        else:
            assert sorted(bookkeeping) == [
                ("insert", "auditlog"), ("update", "migrations"), ("update", "migrations_sources")]
    db = mongo_client[project.db_name]
    assert states(mongo_client, project) == {1: "applied", 2: "applied", 3: "applied"}
    assert db["auditlog"].count_documents({"transaction_name": "UpgradeTransaction", "exc_name": None}) == 3
    assert db["migrations_sources"].count_documents({}) == 3


def test_a_failure_rolls_back_the_whole_run(project, mongo_client):
    write_three(project, third=migration(3, up=insert_doc(3) + '\nraise ValueError("third fails")'))
    with open_app(project) as app, pytest.raises(StepFailedError) as failed:
        app.upgrade(all_=True, group=True)
    message = str(failed.value)
    assert "ValueError: third fails" in message
    assert "rolled back as a whole: none of its 3 migration(s) is applied" in message
    db = mongo_client[project.db_name]
    assert db["things"].count_documents({}) == 0  # steps 1 and 2 rolled back with 3
    assert states(mongo_client, project) == {1: "pending", 2: "pending", 3: "pending"}
    entries = [(e["migration_read_model"]["version"], e["exc_name"]) for e in db["auditlog"].find()]
    assert entries == [(3, "ValueError")]  # the failed attempt only: no success entry survived


def test_a_transaction_grown_too_big_fails_cleanly_with_the_advice_to_drop_group(project, mongo_client):
    write_three(project, third=migration(3, up=TOO_BIG))
    with open_app(project) as app, pytest.raises(StepFailedError, match="drop --group") as failed:
        app.upgrade(all_=True, group=True)
    assert "outgrew the server's limits" in str(failed.value)
    assert mongo_client[project.db_name]["things"].count_documents({}) == 0


def test_group_is_refused_when_a_file_opts_out_of_transactions(project, mongo_client):
    write_three(project, third=data_migration(3, transactional=False))
    with open_app(project) as app, pytest.raises(BlockedError) as refused:
        app.upgrade(all_=True, group=True)
    assert "--group: 003_three sets transactional = False" in str(refused.value)
    assert mongo_client[project.db_name]["things"].count_documents({}) == 0


def test_group_is_refused_on_a_server_without_transactions(standalone_project, mongo_client):
    """A usage error (exit 2, issue 18): nothing about the database is wrong, the request cannot be met there."""
    write_three(standalone_project)
    result = run_cli("--config", str(standalone_project.config_path), "up", "--all", "--group")
    assert result.returncode == 2
    assert "has no transactions (standalone); drop --group" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    dry = run_cli("--config", str(standalone_project.config_path), "up", "--group", "--dry-run")
    assert dry.returncode == 2 and "drop --group" in dry.stderr


def test_config_group_shows_in_the_plan_and_runs_grouped(project, mongo_client):
    write_three(project)
    text = project.config_path.read_text()
    text = text.replace("    production: false\n", "    production: false\n    group: true\n")
    project.config_path.write_text(text)
    plan = run_cli("--config", str(project.config_path), "up", "--all", "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert "--group: one transaction for the whole run: all 3 migration(s) commit together, or none does" in plan.stdout
    ran = run_cli("--config", str(project.config_path), "up", "--all", "--json")
    assert ran.returncode == 0, ran.stderr
    assert [c["version"] for c in json.loads(ran.stdout)["completed"]] == [1, 2, 3]
    with open_app(project) as app:
        assert app.plan("down", all_=True).group
