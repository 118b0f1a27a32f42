"""`?` and the command palette on every screen list that screen's keys (never the main screen's behind it), and
the palette's Keys, Quit and Screenshot are this app's: the screenshot is saved where its help says, and the
toast says where (or why not). Pilot against the real engine and the test SecantusDB."""

from __future__ import annotations

import pytest
from textual.command import CommandList, CommandPalette
from textual.worker import WorkerState

from runway_tui.engine.config import load_config
from runway_tui.tui.app import RunwayApp
from runway_tui.tui.screens.collection import CollectionScreen
from runway_tui.tui.screens.confirm import ConfirmScreen
from runway_tui.tui.screens.detail import AuditDetailScreen, MigrationDetailScreen
from runway_tui.tui.screens.keys import KeysScreen
from runway_tui.tui.screens.server import ServerScreen
from runway_tui.tui.screens.state_at import StateAtScreen
from runway_tui.tui.system_commands import save_screenshot
from tests.support.waiting import wait_until_async
from tests.tui.conftest import engine_for, settle, write_standard
from tests.tui.helpers import notifications
from tests.tui.test_app import SIZE

MAIN_ONLY = {"Plan", "Refresh", "Up", "Down", "New", "Applications"}


async def keys_listed(app: RunwayApp, pilot) -> set[str]:
    """`?` on the screen in front: the actions its panel lists; the panel closes again."""
    screen = app.screen
    await pilot.press("question_mark")
    await pilot.pause()
    assert isinstance(app.screen, KeysScreen)
    listed = {row.description for row in app.screen.rows}
    await pilot.press("escape")
    await pilot.pause()
    assert app.screen is screen
    return listed


def gathering(app: RunwayApp) -> bool:
    """The palette is still collecting commands from its providers (a worker; batches arrive over time)."""
    group = CommandPalette._GATHER_COMMANDS_GROUP
    return any(w.group == group and w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers)


async def palette_offers(app: RunwayApp, pilot, query: str = "") -> list[str]:
    """The palette's options on the screen in front (for `query`, or all of them); the palette closes."""
    screen = app.screen
    await pilot.press("ctrl+p")
    await wait_until_async(lambda: isinstance(app.screen, CommandPalette), "the palette", pause=pilot.pause)
    if query:
        await pilot.press(*query)
    options = app.screen.query_one(CommandList)
    await wait_until_async(lambda: options.option_count > 0 and not gathering(app), "the palette's options",
                           pause=pilot.pause)  # every provider has answered: the list is whole
    await pilot.pause()
    offered = [str(options.get_option_at_index(i).prompt).split("  ")[0].split("\n")[0]
               for i in range(options.option_count)]
    await pilot.press("escape")
    await wait_until_async(lambda: app.screen is screen, "the palette to close", pause=pilot.pause)
    return offered


@pytest.fixture
def applied(project):
    write_standard(project, 2)
    with engine_for(load_config(project.config_path).app(project.app)) as engine:
        engine.upgrade(steps=1)
    return project


async def test_every_screen_lists_its_own_keys(applied, tui_app):
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert {"Up", "Plan", "Export audit log…", "State at a time…", "Wide view"} <= await keys_listed(app, pilot)

        await pilot.press("1", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, MigrationDetailScreen)
        listed = await keys_listed(app, pilot)
        assert {"Back", "Collection", "Copy", "Up to this", "Revert this", "Mark applied",
                "Mark pending", "Accept drift", "Forget record", "Move", "Keys", "Palette"} <= listed
        assert not listed & MAIN_ONLY
        offered = await palette_offers(app, pilot)
        assert {"Mark applied", "Up to this", "Collection"} <= set(offered) and not set(offered) & MAIN_ONLY
        await pilot.press("o")  # the collection 001 names
        await settle(app, pilot)
        assert isinstance(app.screen, CollectionScreen)
        listed = await keys_listed(app, pilot)
        assert {"Documents", "Schema", "Indexes", "Validation", "Filter", "Exact count", "Next", "Prev",
                "Reload"} <= listed and not listed & MAIN_ONLY
        assert {"Schema", "Exact count"} <= set(await palette_offers(app, pilot)) - MAIN_ONLY
        assert "Plan" not in await palette_offers(app, pilot, "plan")
        await pilot.press("escape", "escape")
        await settle(app, pilot)

        await pilot.press("3", "enter")
        assert isinstance(app.screen, AuditDetailScreen)
        assert "Back" in await keys_listed(app, pilot)
        await pilot.press("escape", "i")
        await settle(app, pilot)
        assert isinstance(app.screen, ServerScreen)
        assert {"Back", "Reload"} <= await keys_listed(app, pilot)
        await pilot.press("escape", "t", *"1h", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, StateAtScreen)
        assert "Back" in await keys_listed(app, pilot)
        await pilot.press("escape")
        assert app.screen is app.main


async def test_a_dialogs_palette_never_acts_behind_it(applied, tui_app):
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        offered = await palette_offers(app, pilot)
        assert {"Confirm", "Cancel"} <= set(offered) and not set(offered) & MAIN_ONLY
        assert {"Confirm", "Cancel"} <= await keys_listed(app, pilot)
        await pilot.press("n")


async def test_the_palettes_keys_is_ours_and_lists_the_screen_in_front(applied, tui_app):
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("1", "enter")
        await settle(app, pilot)
        detail = app.screen
        await pilot.press("ctrl+p", *"Keys")
        await wait_until_async(lambda: app.screen.query(CommandList) and
                               app.screen.query_one(CommandList).option_count > 0, "Keys", pause=pilot.pause)
        await pilot.press("enter")
        await wait_until_async(lambda: isinstance(app.screen, KeysScreen), "our keys panel", pause=pilot.pause)
        assert "Up to this" in {row.description for row in app.screen.rows}
        await pilot.press("escape")
        assert app.screen is detail


async def test_screenshot_is_saved_where_it_says_and_says_where(applied, tui_app, tmp_path, monkeypatch):
    home, start = tmp_path / "home", tmp_path / "started-here"
    home.mkdir()
    start.mkdir()
    monkeypatch.setattr("pathlib.Path.home", lambda: home)
    monkeypatch.chdir(start)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p", *"Screenshot")
        await wait_until_async(lambda: app.screen.query(CommandList) and
                               app.screen.query_one(CommandList).option_count > 0, "Screenshot", pause=pilot.pause)
        options = app.screen.query_one(CommandList)
        assert f"Save an SVG of the screen in {start}" in str(options.get_option_at_index(0).prompt)
        await pilot.press("enter")
        saved = start / "runway-test-20260314-093000.svg"  # no ~/Downloads: the folder it was started in
        await wait_until_async(lambda: saved.exists(), "the screenshot file", pause=pilot.pause)
        assert saved.read_text().startswith("<svg")
        assert f"Screenshot saved to {saved}" in notifications(app)
        (home / "Downloads").mkdir()
        assert save_screenshot(app) == home / "Downloads" / saved.name
        assert save_screenshot(app, tmp_path / "missing") is None
        await pilot.pause()
        assert f"Screenshot not saved: cannot write {tmp_path / 'missing' / saved.name}" in notifications(app)
