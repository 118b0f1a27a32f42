"""A lost race never advises undoing someone's work (issue 18): `u` (009) confirmed while another operator's
`up --steps 2` held the lock used to end, after the wait, in "version 9 is below the current version 10; use D
(down to version) with 9". Now: who moved the database to what, that nothing ran, and the fresh plan."""

from __future__ import annotations

import threading

import pytest
from pymongo import MongoClient

from runway_tui.engine.errors import DatabaseMovedError, ExitCode
from runway_tui.engine.events import LockWaitingEvent
from runway_tui.engine.models import Direction
from runway_tui.engine.planner import Expected
from tests.engine.helpers import data_migration, migration, open_app
from tests.reliability.helpers import spawn_cli
from tests.support.waiting import Gate, wait_until

FORBIDDEN = ("down --to", "down to version", "'down", "revert")


def things(mongo_client: MongoClient, project) -> list[int]:
    return sorted(d["_id"] for d in mongo_client[project.db_name]["things"].find())


@pytest.fixture
def four(project, tmp_path):
    """001 applied; 002 holds at a gate when the other operator runs it; 003 and 004 pending."""
    gate = Gate(tmp_path)
    project.write_migration(1, "m1", data_migration(1))
    project.write_migration(2, "m2", migration(2, up='ctx.db["things"].insert_one({"_id": 2}, session=ctx.session)\n'
                                                 + gate.wait_code(indent=0),
                                               down='ctx.db["things"].delete_one({"_id": 2}, session=ctx.session)'))
    project.write_migration(3, "m3", data_migration(3))
    project.write_migration(4, "m4", data_migration(4))
    with open_app(project) as app:
        app.upgrade(steps=1)
    return project, gate


def test_a_confirmed_step_that_lost_the_race_names_who_moved_the_database_and_the_fresh_plan(four, mongo_client):
    project, gate = four
    other = open_app(project, lock_wait_s=30)
    other.user = other.lock.user = "bob"
    mine = open_app(project, lock_wait_s=60)
    waits: list[LockWaitingEvent] = []
    mine.subscribe(waits.append, LockWaitingEvent)
    outcome: dict = {}
    try:
        plan = mine.plan(Direction.UP, steps=1)  # what `u` showed: 002, from 001
        assert [s.version for s in plan.steps] == [2]
        confirmed = Expected.of(plan)
        theirs = threading.Thread(target=lambda: outcome.setdefault("theirs", other.upgrade(steps=2)))
        theirs.start()
        gate.wait_entered()

        def run_mine() -> None:
            try:
                mine.upgrade(to=plan.target_version, expect=confirmed)
            except DatabaseMovedError as exc:
                outcome["mine"] = exc

        ours = threading.Thread(target=run_mine)
        ours.start()
        wait_until(lambda: waits, "the confirmed run to wait for the other operator's lock")
        gate.open()
        theirs.join(60)
        ours.join(60)
    finally:
        gate.open()
        other.close()
        mine.close()
    assert [r.step.version for r in outcome["theirs"].completed] == [2, 3]
    error = outcome["mine"]
    message = str(error)
    assert "the database moved" in message and "nothing was run" in message
    assert f"bob@{other.host}" in message and "applied 002, 003" in message and "now at 003" in message
    assert "fresh plan: up 004_m4" in message, message
    assert not any(word in message for word in FORBIDDEN), message
    assert error.current_version == 3 and [s.version for s in error.fresh.steps] == [4]
    assert error.moved_by == [f"bob@{other.host} (pid {other.lock.pid}, api)"]
    assert error.exit_code == ExitCode.VALIDATION_FAILED
    assert things(mongo_client, project) == [1, 2, 3]  # nothing of ours ran: 004 still pending


def test_a_cli_request_overtaken_while_it_waited_says_so_and_never_advises_down(four, mongo_client):
    project, gate = four
    theirs = spawn_cli(project, "up", "--steps", "2")
    mine = None
    try:
        gate.wait_entered()
        mine = spawn_cli(project, "up", "--to", "2")
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(iter(mine.stderr.readline, "")), daemon=True)
        reader.start()
        wait_until(lambda: any("waiting for the migration lock" in line for line in lines),
                   "the second CLI to wait for the first one's lock")
        gate.open()
        theirs.communicate(timeout=60)
        mine.wait(timeout=60)
        reader.join(10)
    finally:
        gate.open()
        for proc in (theirs, mine):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert mine.returncode == ExitCode.VALIDATION_FAILED, "".join(lines)
    error = lines[-1].strip()
    assert error.startswith("runway-tui: error: ")
    assert "the database moved" in error and "nothing was run" in error and "applied 002, 003" in error, error
    assert f"(pid {theirs.pid}, cli)" in error
    assert not any(word in error for word in FORBIDDEN), error
    assert things(mongo_client, project) == [1, 2, 3]
