"""ctx.backfill and ctx.batches through the Python API on the real server: counts, checkpoint, audit, events,
cancel and pause from another thread, the paused state and its resume, down of a paused migration."""

from __future__ import annotations

import threading

import pytest

import runway_tui
from runway_tui.engine.errors import StepPausedError
from runway_tui.engine.events import StepProgressEvent
from tests.backfill.helpers import TRANSFORM, audit_actions, counters, done, record, seed_items, write_inc
from tests.support.waiting import wait_until

COUNT = 6_000


@pytest.fixture
def items(mongo_client, db_name):
    seed_items(mongo_client, db_name, COUNT)
    return mongo_client[db_name].items


@pytest.mark.parametrize("target", ['"items"', "ctx.db.items"])
def test_backfill_walks_every_document_once_and_reports_counts(project, mongo_client, db_name, items, target):
    write_inc(project, target=target, args=", batch_size=700")
    with runway_tui.create_app(config=project.config_path) as app:
        events: list[StepProgressEvent] = []
        app.subscribe(events.append, StepProgressEvent)
        result = app.upgrade()
        history = app.history(limit=20)
    assert [s.step.version for s in result.completed] == [1]
    assert counters(mongo_client, db_name) == {1: COUNT}
    stored = record(mongo_client, db_name)
    assert stored["state"] == "applied" and stored.get("backfill") is None  # done: the checkpoint is gone
    figures = [e.figures for e in events if e.figures is not None]
    assert figures[-1].state.value == "done" and figures[-1].done == COUNT and figures[-1].modified == COUNT
    assert all(f.batch_size == 700 for f in figures)
    assert [f.done for f in figures] == sorted(f.done for f in figures)  # progress only goes forward
    assert audit_actions(mongo_client, db_name) == ["BackfillStartTransaction", "BackfillEndTransaction",
                                                    "UpgradeTransaction"]
    end = next(e for e in history if e.transaction_name == "BackfillEndTransaction")
    assert f"{COUNT:,} documents walked" in end.detail and f"{COUNT:,} modified" in end.detail


def test_batches_and_write_batch_commit_each_batch_with_its_checkpoint(project, mongo_client, db_name, items):
    project.write_migration(1, "split_names", TRANSFORM.format(v=1))
    with runway_tui.create_app(config=project.config_path) as app:
        app.upgrade()
    assert counters(mongo_client, db_name) == {1: COUNT}
    assert items.count_documents({"first": {"$regex": "^Ada"}}) == COUNT


def _start_up(app):
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = app.upgrade()
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _cancelled_at(app, mongo_client, db_name, at_least: int):
    """Start `up`, cancel it once `at_least` documents are done, and return the thread's outcome."""
    thread, outcome = _start_up(app)
    wait_until(lambda: done(mongo_client, db_name) >= at_least, "a few batches to commit")
    app.cancel_backfill()
    thread.join(60)
    return outcome


def test_cancel_leaves_it_paused_with_the_lock_released_and_up_finishes(project, mongo_client, db_name, items):
    write_inc(project, args=", batch_size=100, max_docs_per_s=3000")
    with runway_tui.create_app(config=project.config_path) as app:
        error = _cancelled_at(app, mongo_client, db_name, 600).get("error")
        assert isinstance(error, StepPausedError), error
        assert "paused at" in str(error) and f"cancelled by {app.identity}" in str(error)
        assert "run 'runway-tui up' to resume" in str(error)
        stored = record(mongo_client, db_name)
        assert stored["state"] == "paused" and stored["backfill"]["reason"] == "cancel"
        assert mongo_client[db_name].migrations_lock.count_documents({}) == 0  # the lock was released
        at = done(mongo_client, db_name)
        assert 600 <= at < COUNT and counters(mongo_client, db_name) == {1: at, 0: COUNT - at}
        row = app.status().rows[0]
        assert row.state == "paused" and row.to_json()["progress"]["done"] == at
        assert row.to_json()["progress"]["last_id"] == at - 1  # `_id`s 0.. in order
        plan = app.plan()
        assert [s.version for s in plan.steps] == [1] and not plan.blockers
        app.upgrade()
    assert counters(mongo_client, db_name) == {1: COUNT}
    assert record(mongo_client, db_name)["state"] == "applied"
    actions = audit_actions(mongo_client, db_name)
    assert actions == ["BackfillStartTransaction", "BackfillPauseTransaction", "BackfillResumeTransaction",
                       "BackfillEndTransaction", "UpgradeTransaction"]


def test_pause_in_place_holds_the_lease_and_others_see_who_paused(project, mongo_client, db_name, items):
    write_inc(project, args=", batch_size=100, max_docs_per_s=3000")
    with runway_tui.create_app(config=project.config_path) as app, \
            runway_tui.create_app(config=project.config_path) as other:
        thread, outcome = _start_up(app)
        wait_until(lambda: done(mongo_client, db_name) >= 300, "a few batches to commit")
        app.pause_backfill()

        def seen_paused():
            row = other.status().rows[0]
            return row.state == "running" and row.activity is not None and row.activity.paused_by == app.identity

        wait_until(seen_paused, "the other operator to see the pause")
        at = done(mongo_client, db_name)
        assert done(mongo_client, db_name) == at and thread.is_alive()  # nothing moves while paused
        app.resume_backfill()
        thread.join(60)
        assert "error" not in outcome, outcome
    assert counters(mongo_client, db_name) == {1: COUNT}


def test_down_of_a_paused_migration_runs_its_downgrade(project, mongo_client, db_name, items):
    write_inc(project, args=", batch_size=100, max_docs_per_s=3000")
    with runway_tui.create_app(config=project.config_path) as app:
        _cancelled_at(app, mongo_client, db_name, 300)
        at = done(mongo_client, db_name)
        plan = app.plan("down")
        assert [s.version for s in plan.steps] == [1]
        app.downgrade()
    # the downgrade walks every item: the ones the paused upgrade counted go back to 0, the others to -1
    assert counters(mongo_client, db_name) == {0: at, -1: COUNT - at}
    assert record(mongo_client, db_name)["state"] == "pending"


def test_a_changed_file_while_paused_is_drift(project, mongo_client, db_name, items):
    write_inc(project, args=", batch_size=100, max_docs_per_s=3000")
    with runway_tui.create_app(config=project.config_path) as app:
        _cancelled_at(app, mongo_client, db_name, 300)
        write_inc(project, args=", batch_size=200")
        plan = app.plan()
        assert any("was changed after it was applied" in b and "accept 1" in b for b in plan.blockers), plan.blockers
