"""A backfill in the TUI: its figures in the progress row and the header, `b` pauses it after its current batch
(the lock held; another operator's header says who paused it) and resumes it, `B` cancels it (left paused,
the lock released, pane 1 says paused) and `u` finishes it. The keys only set a flag on the engine."""

from __future__ import annotations

import runway_tui
from tests.backfill.helpers import counters, done, record, seed_items, write_inc
from tests.support.waiting import wait_until
from tests.tui.conftest import settle
from tests.tui.helpers import wait_for
from tests.tui.test_app import SIZE, log_text
from tests.tui.test_running_row import label, status_of

COUNT = 6_000


async def test_b_pauses_and_resumes_and_B_cancels_a_backfill(project, tui_app, mongo_client, db_name):  # noqa: N802
    seed_items(mongo_client, db_name, COUNT)
    write_inc(project, args=", batch_size=100, max_docs_per_s=2000")
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: "items" in label(app) and done(mongo_client, db_name) >= 200)
        assert "docs/s" in label(app) and "batch 100" in label(app)
        assert "running backfill 001:" in str(app.state.busy)  # the header's label
        await pilot.press("b")
        await wait_for(pilot, lambda: "paused by" in label(app))
        with runway_tui.create_app(config=project.config_path, read_only=True) as other:
            def others_see() -> bool:
                row = other.status().rows[0]
                return row.activity is not None and row.activity.paused_by == app.engine.identity
            wait_until(others_see, "the other operator to see who paused it")
            from runway_tui.tui.components.header_bar import elsewhere
            assert elsewhere(other.status()) == [f"backfill 001: {done(mongo_client, db_name) * 100 // COUNT}%, "
                                                 f"paused by {app.engine.identity}"]
        at = done(mongo_client, db_name)
        await pilot.pause(0.3)
        assert done(mongo_client, db_name) == at  # nothing moves while paused
        await pilot.press("b")
        await wait_for(pilot, lambda: done(mongo_client, db_name) > at)
        await pilot.press("B")
        await settle(app, pilot)
        assert app.screen is app.main  # asked for: a notification, not a failure dialog
        from tests.tui.helpers import notifications
        assert "paused at" in notifications(app)
        assert record(mongo_client, db_name)["state"] == "paused"
        assert mongo_client[db_name].migrations_lock.count_documents({}) == 0
        assert "paused at" in log_text(app) and "u resumes it" in log_text(app)
        from runway_tui.tui.components.migrations_table import MigrationsTable
        assert status_of(app.main.query_one(MigrationsTable), 1) == "‖"
        await pilot.press("u")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: record(mongo_client, db_name).get("state") == "applied", timeout=60)
        await settle(app, pilot)
    assert counters(mongo_client, db_name) == {1: COUNT}


async def test_b_without_a_backfill_says_so(project, tui_app):
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("b")
        await pilot.pause()
        from tests.tui.helpers import notifications
        assert "no backfill is running in this session" in notifications(app)
