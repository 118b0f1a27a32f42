"""The Fleet screen (issue 22): every tenant at a glance on the real engine, `u` once for the whole fleet, Enter
opens a tenant, another runner's run is shown as it goes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import DataTable, Input, Static

from runway_tui.engine.config import load_config
from runway_tui.engine.fleet.facade import Fleet
from runway_tui.tui.screens.fleet import FleetApp, FleetConfirm, FleetScreen
from tests.support.fleet import FleetProject, drop_prefixed, make_tenants, versions
from tests.support.waiting import Gate, wait_until, wait_until_async

SIZE = (140, 36)

STEP = '''"""Add the plan field."""
version = {v}


def upgrade(ctx):
    ctx.db.items.insert_one({{"v": {v}}}, session=ctx.session)
{gate}

def downgrade(ctx):
    ctx.db.items.delete_many({{"v": {v}}}, session=ctx.session)
'''


@pytest.fixture
def fleet_project(tmp_path, mongo_uri) -> Iterator[FleetProject]:
    project = FleetProject.create(tmp_path / "fleet", [(mongo_uri, '{match: "{prefix}_t*"}')], mongo_uri,
                                  concurrency=2, waves='[{name: canary, match: "{prefix}_t000"}, {name: rest}]')
    yield project
    drop_prefixed(mongo_uri, project.prefix)


def open_fleet(project: FleetProject, poll: float = 3600) -> FleetApp:
    app_config = load_config(project.config_path).app("tenants")
    return FleetApp(Fleet(app_config), poll_interval=poll)


def screen_of(app: FleetApp) -> FleetScreen:
    screen = app.screen_stack[-1]
    assert isinstance(screen, FleetScreen), screen
    return screen


def table_rows(app: FleetApp) -> list[list[str]]:
    table = screen_of(app).query_one(DataTable)
    return [[cell.plain for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def loaded(app: FleetApp, pilot, count: int = 1) -> FleetScreen:
    await wait_until_async(lambda: isinstance(app.screen_stack[-1], FleetScreen), "the Fleet screen",
                           pause=pilot.pause)
    screen = screen_of(app)
    await wait_until_async(lambda: screen.loads >= count, "the fleet's status", pause=pilot.pause)
    return screen


async def test_every_tenant_is_a_row_coloured_by_state_and_filter_and_sort_narrow_and_order(
        fleet_project, mongo_uri):
    tenants = [f"{fleet_project.prefix}_t{i:03d}" for i in range(4)]
    make_tenants(mongo_uri, tenants)
    fleet_project.write_migration(1, "plan", STEP.format(v=1, gate=""))
    assert fleet_project.cli("fleet", "up", "--only", tenants[0], tenants[1]).returncode == 0
    app = open_fleet(fleet_project)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(app, pilot)
        rows = table_rows(app)
        assert [r[1] for r in rows] == tenants
        assert [r[4] for r in rows] == ["up to date", "up to date", "pending", "pending"]
        summary = screen.query_one("#fleet-summary", Static).render()
        assert "4 tenants on 1 cluster(s)" in str(summary) and "2 pending" in str(summary)
        table = screen.query_one(DataTable)
        assert "green" in str(table.get_row_at(0)[4].style) and "yellow" in str(table.get_row_at(2)[4].style)
        await pilot.press("slash")
        assert screen.query_one(Input).has_focus
        await pilot.press(*"t003")
        assert [r[1] for r in table_rows(app)] == [tenants[3]]
        await pilot.press("enter", "escape")
        assert len(table_rows(app)) == 4
        await pilot.press("s")  # by state: pending first
        assert [r[4] for r in table_rows(app)] == ["pending", "pending", "up to date", "up to date"]


async def test_u_asks_once_for_the_whole_fleet_and_then_shows_each_tenant_as_it_finishes(fleet_project, mongo_uri):
    tenants = [f"{fleet_project.prefix}_t{i:03d}" for i in range(5)]
    make_tenants(mongo_uri, tenants)
    fleet_project.write_migration(1, "plan", STEP.format(v=1, gate=""))
    app = open_fleet(fleet_project)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(app, pilot)
        await pilot.press("u")
        await wait_until_async(lambda: isinstance(app.screen_stack[-1], FleetConfirm), "the question",
                               pause=pilot.pause)
        asked = " ".join(str(label.render()) for label in app.screen_stack[-1].query("Label"))
        assert "5 tenant database(s) on 1 cluster(s)" in asked
        assert f"waves: canary ({fleet_project.prefix}_t000) → rest" in asked
        await pilot.press("n")  # nothing runs
        assert versions(mongo_uri, tenants) == dict.fromkeys(tenants, [])
        await pilot.press("u")
        await wait_until_async(lambda: isinstance(app.screen_stack[-1], FleetConfirm), "the question again",
                               pause=pilot.pause)
        await pilot.press("y")
        await wait_until_async(lambda: screen.outcome is not None and not screen.running.is_set(),
                               "the fleet run to finish", pause=pilot.pause)
        await wait_until_async(lambda: screen.loads >= 2, "the status after the run", pause=pilot.pause)
        assert [r[7] for r in table_rows(app)] == ["ok"] * 5
        assert [r[4] for r in table_rows(app)] == ["up to date"] * 5
        assert "finished (exit 0): 5/5 · 5 ok" in str(screen.query_one("#fleet-run", Static).render())
    assert versions(mongo_uri, tenants) == dict.fromkeys(tenants, [1])


async def test_enter_leaves_with_the_tenant_to_open_in_the_four_panes(fleet_project, mongo_uri):
    tenants = [f"{fleet_project.prefix}_t{i:03d}" for i in range(3)]
    make_tenants(mongo_uri, tenants)
    app = open_fleet(fleet_project)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("down", "enter")
    assert app.return_value is not None and app.return_value.database == tenants[1]


@pytest.mark.parametrize("poll", [0.2, 3600], ids=["polled", "change-stream"])
async def test_another_runners_run_is_shown_as_it_goes(fleet_project, mongo_uri, tmp_path, poll):
    tenants = [f"{fleet_project.prefix}_t{i:03d}" for i in range(3)]
    make_tenants(mongo_uri, tenants)
    gate = Gate(tmp_path / "gates")
    fleet_project.write_migration(1, "plan", STEP.format(v=1, gate=gate.wait_code()))
    runner = fleet_project.popen("fleet", "up")
    try:
        gate.wait_entered()
        app = open_fleet(fleet_project, poll=poll)  # 3600: only the change stream can tell
        async with app.run_test(size=SIZE) as pilot:
            screen = await loaded(app, pilot)
            await wait_until_async(lambda: "in progress (another runner)" in screen.run_line,
                                   "the other runner's run", pause=pilot.pause)
            assert "0/3" in screen.run_line
    finally:
        gate.open()
        runner.communicate(timeout=120)
    wait_until(lambda: runner.returncode == 0, "the other runner to succeed")


async def test_a_fleet_chosen_with_a_leaves_for_the_fleet_screen(project, mongo_uri):
    from runway_tui.tui.app import RunwayApp
    from runway_tui.tui.screens.apps import AppsScreen
    from tests.tui.conftest import settle
    from tests.tui.helpers import wait_for

    text = project.config_path.read_text()
    project.config_path.write_text(text.replace("tui:", "  zfleet:\n    fleet:\n      targets:\n"
                                                f"        - uri: \"{mongo_uri}\"\n"
                                                "          databases: {list: [zz_tenant]}\ntui:", 1))
    config = load_config(project.config_path)
    app = RunwayApp(config.app("test"), config.tui, read_only=False, poll_interval=3600, project_config=config,
                    launch_flags=(False, False))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        screen = app.screen
        assert isinstance(screen, AppsScreen)
        await wait_for(pilot, lambda: "Fleet screen" in screen.probes["zfleet"].server)  # never probed as one db
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.return_value is not None)
    assert app.return_value == ("fleet", "zfleet")  # tui/run.py opens the Fleet screen on it
