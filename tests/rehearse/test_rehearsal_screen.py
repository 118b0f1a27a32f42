"""The Rehearsal screen through Textual's pilot, with the real engine: `R` on pane 1, and "rehearse first" in
a step's confirmation; production unchanged after either."""

from __future__ import annotations

from runway_tui.tui.screens.confirm import ConfirmScreen
from runway_tui.tui.screens.rehearsal import RehearsalScreen
from tests.rehearse.conftest import BACKFILL, DROP_CANCELLED, RENAME, snapshot
from tests.support.waiting import wait_until_async
from tests.tui.conftest import make_app, settle

SIZE = (140, 40)


async def _report_shown(app) -> RehearsalScreen:
    screen = app.screen
    assert isinstance(screen, RehearsalScreen)
    await wait_until_async(lambda: screen.report is not None, what="the rehearsal's report on screen")
    return screen


async def test_r_on_pane_1_rehearses_every_pending_migration(rehearsal_project, mongo_client):
    project = rehearsal_project
    project.write_migration(1, "backfill", BACKFILL)
    project.write_migration(4, "drop_cancelled", DROP_CANCELLED)
    before = snapshot(mongo_client, project.db_name)
    app = make_app(project)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("R")
            screen = await _report_shown(app)
            await pilot.pause()
            table = screen.query_one("#rehearsal-table")
            assert table.row_count == 2
            rows = [[str(c) for c in table.get_row_at(i)] for i in range(2)]
            assert rows[0][:3] == ["1", "001_backfill", "ok"] and rows[0][5] == "yes"
            assert rows[1][:3] == ["4", "004_drop_cancelled", "ok"] and rows[1][5] == "NO"
            assert "users: 40 upd" in rows[0][6] and "orders: 10 del" in rows[1][6]
            assert rows[0][4].startswith("~")  # the estimate, said as one
            status = str(screen.query_one("#rehearsal-status").render())
            assert "not reversible" in status and "0 writes" in status
            await pilot.press("enter")  # the diffs of the selected migration
            await pilot.pause()
            assert '"updated": 40' in screen.detail_text() and '"status": "active"' in screen.detail_text()
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is app.main
    finally:
        app.shutdown_engine()
    assert snapshot(mongo_client, project.db_name) == before


async def test_rehearse_first_from_the_confirmation_runs_nothing_on_production(rehearsal_project, mongo_client):
    project = rehearsal_project
    project.write_migration(1, "backfill", BACKFILL)
    project.write_migration(3, "rename", RENAME)
    before = snapshot(mongo_client, project.db_name)
    app = make_app(project)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("u")  # one step: the confirmation of 001
            await wait_until_async(lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
            assert app.screen.query("#rehearse")  # the button says it can
            await pilot.press("R")
            screen = await _report_shown(app)
            assert [m.version for m in screen.report.migrations] == [1]  # what the dialog would have run
            await pilot.press("escape")
            await pilot.pause()
    finally:
        app.shutdown_engine()
    assert snapshot(mongo_client, project.db_name) == before
    assert mongo_client[project.db_name]["migrations"].count_documents({"is_applied": True}) == 0


async def test_a_read_only_session_may_rehearse(rehearsal_project, mongo_client):
    project = rehearsal_project
    project.write_migration(1, "backfill", BACKFILL)
    before = snapshot(mongo_client, project.db_name)
    app = make_app(project, read_only=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("R")
            screen = await _report_shown(app)
            assert [(m.version, m.result, m.reversible) for m in screen.report.migrations] == [(1, "ok", True)]
            assert screen.report.production_writes == 0
    finally:
        app.shutdown_engine()
    assert snapshot(mongo_client, project.db_name) == before
