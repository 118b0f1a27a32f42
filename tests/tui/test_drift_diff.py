"""Drift as a diff: the detail screen shows the applied source against the file now (unified diff, syntax
coloured); a version applied before sources were kept says that no stored source exists."""

from __future__ import annotations

from pymongo import MongoClient
from rich.console import Group
from rich.syntax import Syntax

from runway_tui.engine.config import load_config
from runway_tui.tui.components.migrations_table import MigrationsTable
from runway_tui.tui.screens.detail import NO_STORED_SOURCE, MigrationDetailScreen
from tests.support.waiting import wait_until_async
from tests.tui.conftest import engine_for, settle, write_standard
from tests.tui.test_app import SIZE


def apply_then_edit(project) -> None:
    write_standard(project, 1)
    with engine_for(load_config(project.config_path).app(project.app)) as engine:
        engine.upgrade(steps=1)
    path = project.scripts_dir / "001_create_things.py"
    path.write_text(path.read_text().replace('"things"', '"gadgets"') + "# edited after it was applied\n")


async def open_detail(app, pilot) -> MigrationDetailScreen:
    await settle(app, pilot)
    table = app.main.query_one(MigrationsTable)
    table.focus()
    table.select_version(1)
    await pilot.press("enter")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, MigrationDetailScreen)
    return screen


async def test_drift_shows_the_applied_source_against_the_file_as_a_coloured_diff(project, tui_app):
    apply_then_edit(project)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot)
        await wait_until_async(lambda: screen.diff_text != "", "the diff", pause=pilot.pause)
        lines = screen.diff_text.splitlines()
        assert lines[0].startswith("--- 001_create_things.py as applied")
        assert lines[1].startswith("+++ 001_create_things.py now")
        assert any(line.startswith("-") and '"things"' in line for line in lines[2:])
        assert any(line.startswith("+") and '"gadgets"' in line for line in lines[2:])
        assert "+# edited after it was applied" in lines
        assert "unified diff" in str(screen.query_one("#source").border_title)
        shown = screen.query_one("#source-text").content
        shown = getattr(shown, "renderable", shown)  # drawn once (tui/long_text.py RenderedOnce)
        assert isinstance(shown, Syntax) and shown.lexer.name.lower() == "diff"  # coloured as a diff


async def test_a_version_applied_before_sources_were_kept_says_none_is_stored(project, tui_app,
                                                                             mongo_client: MongoClient):
    apply_then_edit(project)
    mongo_client[project.db_name]["migrations_sources"].delete_many({})
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(app, pilot)
        await wait_until_async(lambda: "no stored source" in str(screen.query_one("#source").border_title),
                               "the note", pause=pilot.pause)
        assert screen.diff_text == ""
        shown = screen.query_one("#source-text").content
        assert isinstance(shown, Group) and shown.renderables[0].plain == NO_STORED_SOURCE
        assert NO_STORED_SOURCE.startswith("No stored source exists for this version")
