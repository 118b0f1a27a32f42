"""The explorer sends zero write commands, in read-only and in writable mode, through every view and key:
the Collection screen's four views, paging, filter / projection / sort, exact count, the document view
and its copy, the palette's view commands, the server screen and the migration detail's jump.

Uses the global command listener of `test_read_only.py` (every client of the run is observed)."""

from __future__ import annotations

import pytest
from pymongo import MongoClient
from textual.widgets import DataTable, Input

from runway_tui.tui.screens.collection import CollectionScreen
from tests.reliability.test_read_only import WRITES, recording
from tests.support.project import Project
from tests.tui.conftest import make_app
from tests.tui.test_explorer import TOUCHING, settle, wait_for, with_redaction

COLLECTIONS = ["people", "rules", "ring", "counters"]


def _snapshot(client: MongoClient, db: str) -> dict[str, int]:
    database = client[db]
    return {name: database[name].estimated_document_count() for name in database.list_collection_names()}


async def _drive_collection(app, pilot, name: str, every_key: bool) -> None:
    await pilot.press("2")
    await settle(app, pilot)
    table = app.main.query_one("#collections", DataTable)
    await wait_for(pilot, lambda: name in [str(k.value) for k in table.rows])
    table.move_cursor(row=[str(k.value) for k in table.rows].index(name))
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, CollectionScreen))
    screen = app.screen
    await settle(app, pilot)
    if not every_key:  # the other collections: each view once (the keys were proven on `people`)
        for key in ("2", "3", "4", "escape"):
            await pilot.press(key)
            await settle(app, pilot)
        assert app.screen is app.main
        return
    for key in ("right_square_bracket", "left_square_bracket", "c", "r", "2", "r", "3", "r", "4", "r", "1"):
        await pilot.press(key)
        await settle(app, pilot)
    for box, text in (("#query-projection", '{"_id": 1, "name": 1}'), ("#query-sort", '{"name": -1}'),
                      ("#query-filter", '{"_id": {"$exists": true}}')):
        screen.query_one(box, Input).value = text
    await pilot.press("slash")
    await pilot.press("enter")
    await settle(app, pilot)
    await pilot.press("escape")  # from the filter input (it keeps the focus after Enter) to the table
    await pilot.press("c")
    await settle(app, pilot)
    await pilot.press("enter")  # the first document, in full
    await settle(app, pilot)
    await pilot.press("c")  # copy
    await pilot.press("escape")
    await settle(app, pilot)
    for command in ("Schema", "Indexes", "Validation", "Exact count", "Documents"):
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*command)
        await wait_for(pilot, lambda: app.screen.query("CommandList") and
                       app.screen.query_one("CommandList").option_count > 0)
        await pilot.press("enter")
        await settle(app, pilot)
    await pilot.press("escape")
    await settle(app, pilot)
    assert app.screen is app.main


@pytest.mark.parametrize("read_only", [True, False], ids=["read-only", "writable"])
async def test_every_explorer_view_and_key_sends_no_write(explorer_project: Project, mongo_client: MongoClient,
                                                          explorer_db: str, read_only: bool) -> None:
    with_redaction(explorer_project)
    explorer_project.write_migration(1, "backfill_status", TOUCHING)
    before = _snapshot(mongo_client, explorer_db)
    app = make_app(explorer_project, read_only=read_only)
    try:
        with recording() as commands:
            async with app.run_test(size=(140, 40)) as pilot:
                await settle(app, pilot)
                await pilot.press("1", "enter")  # migration detail, then `o` for the collections it names
                await settle(app, pilot)
                await pilot.press("o")
                await pilot.pause()
                await pilot.press("enter")
                await wait_for(pilot, lambda: isinstance(app.screen, CollectionScreen))
                await settle(app, pilot)
                await pilot.press("escape")
                await pilot.pause()
                await pilot.press("escape")
                await settle(app, pilot)
                for name in COLLECTIONS:
                    await _drive_collection(app, pilot, name, every_key=name == "people")
                await pilot.press("i")  # the server screen
                await settle(app, pilot)
                await pilot.press("r")
                await settle(app, pilot)
                await pilot.press("escape")
                await settle(app, pilot)
    finally:
        app.shutdown_engine()
    writes = [c for c in commands if c[0] in WRITES]
    assert not writes, writes
    names = {name for name, _ in commands}
    assert {"find", "aggregate", "count", "listIndexes", "listCollections", "collStats"} <= names, names
    assert _snapshot(mongo_client, explorer_db) == before
