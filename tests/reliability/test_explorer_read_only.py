"""The explorer sends zero write commands, in read-only and in writable mode, through every view and key:
the Collection screen's five views, paging, filter / projection / sort, exact count, the document view
and its copy, the palette's view commands and ready-made pipelines, the aggregate view (run, pages, a
result in full), the Schema's filters, the column picker, the query plan with its execution stats, an
export, the server screen and the migration detail's jump. No aggregate sent holds $out or $merge.

Uses the global command listener of `test_read_only.py` (every client of the run is observed)."""

from __future__ import annotations

import pytest
from pymongo import MongoClient
from textual.widgets import DataTable, Input

from runway_tui.tui.components.aggregate_view import PipelineEditor
from runway_tui.tui.screens.collection import CollectionScreen
from runway_tui.tui.screens.columns import ColumnsScreen
from runway_tui.tui.screens.query_plan import QueryPlanScreen
from runway_tui.tui.screens.schema_filter import SchemaFilterScreen
from tests.reliability.test_read_only import WRITES, recording
from tests.support.commands import watch
from tests.support.project import Project
from tests.tui.conftest import make_app
from tests.tui.test_explorer import TOUCHING, settle, wait_for, with_redaction

COLLECTIONS = ["people", "rules", "ring", "counters"]


def _snapshot(client: MongoClient, db: str) -> dict[str, int]:
    database = client[db]
    return {name: database[name].estimated_document_count() for name in database.list_collection_names()}


def first_hit(app) -> str:
    """The palette's hit for what was typed, highlighted (once its search has answered): its text, or ""."""
    hits = app.screen.query_one("CommandList")
    typed = str(app.screen.query_one("CommandInput").value)
    for index in range(hits.option_count):
        text = str(hits.get_option_at_index(index).prompt).strip()
        if text.startswith(typed):
            hits.highlighted = index
            return text
    return ""


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
    await _drive_issue_27_keys(app, pilot, screen)
    # the palette lists the screen's keys and those of the view in front: Exact count once Documents is shown
    for command in ("Schema", "Indexes", "Validation", "Documents", "Exact count"):
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*command)
        await wait_for(pilot, lambda: app.screen.query("CommandList") and first_hit(app).startswith(command))  # noqa: B023
        await pilot.press("enter")
        await settle(app, pilot)
    await pilot.press("escape")
    await settle(app, pilot)
    assert app.screen is app.main


async def _drive_issue_27_keys(app, pilot, screen: CollectionScreen) -> None:
    """The aggregate view, the Schema's filters, columns, the plan and an export (issue 27)."""
    await pilot.press("5")
    await settle(app, pilot)
    screen.query_one(PipelineEditor).text = "[{$match: {}}, {$sort: {name: 1}}]"
    await pilot.press("enter")
    await settle(app, pilot)
    await pilot.press("escape", "right_square_bracket", "left_square_bracket", "r")
    await settle(app, pilot)
    await pilot.press("enter")  # a result in full
    await settle(app, pilot)
    await pilot.press("escape")
    await pilot.press("f")
    await wait_for(pilot, lambda: isinstance(app.screen, ColumnsScreen))
    await pilot.press("enter")
    await settle(app, pilot)
    await pilot.press("x")
    await wait_for(pilot, lambda: app.screen.query("#prompt-input"))
    await pilot.press("enter")  # the default name, in the project's folder
    await settle(app, pilot)
    await pilot.press("2")
    await settle(app, pilot)
    schema = screen.query_one("#schema-table", DataTable)
    schema.move_cursor(row=[str(k.value) for k in schema.rows].index("name"))
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, SchemaFilterScreen))
    await pilot.press("enter")
    await settle(app, pilot)
    await pilot.press("f")  # the Documents table has the focus again
    await wait_for(pilot, lambda: isinstance(app.screen, ColumnsScreen))
    await pilot.press("tab", "enter", "escape")
    await settle(app, pilot)
    await pilot.press("e")
    await wait_for(pilot, lambda: isinstance(app.screen, QueryPlanScreen))
    await pilot.press("s")
    await settle(app, pilot)
    await pilot.press("escape", "x")
    await wait_for(pilot, lambda: app.screen.query("#prompt-input"))
    app.screen.query_one("#prompt-input", Input).value = "people.csv"
    await pilot.press("enter")
    await settle(app, pilot)
    for preset in ("Duplicates of a field", "Values of a field", "Types of a field"):
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*preset)
        await wait_for(pilot, lambda: app.screen.query("CommandList") and first_hit(app).startswith(preset))  # noqa: B023
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.query("#prompt-input"))
        app.screen.query_one("#prompt-input", Input).value = "status"
        await pilot.press("enter")
        await settle(app, pilot)
    await pilot.press("escape", "1")
    await settle(app, pilot)


@pytest.mark.parametrize("read_only", [True, False], ids=["read-only", "writable"])
async def test_every_explorer_view_and_key_sends_no_write(explorer_project: Project, mongo_client: MongoClient,
                                                          explorer_db: str, read_only: bool) -> None:
    with_redaction(explorer_project)
    explorer_project.write_migration(1, "backfill_status", TOUCHING)
    before = _snapshot(mongo_client, explorer_db)
    app = make_app(explorer_project, read_only=read_only)
    try:
        with recording() as commands, watch() as seen:
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
    assert {"find", "aggregate", "count", "listIndexes", "listCollections", "collStats", "explain",
            "getMore"} <= names, names
    stages = {next(iter(stage)) for c in seen.named("aggregate") for stage in c.command.get("pipeline", [])}
    assert "$sortByCount" in stages and "$group" in stages and not stages & {"$out", "$merge"}, stages
    assert sorted(p.suffix for p in explorer_project.config_path.parent.glob("people*")) == [".csv", ".jsonl"]
    assert _snapshot(mongo_client, explorer_db) == before
