"""The explorer in the TUI (Pilot, real engine, real test server, seeded database): the Collection screen
and its four views, the document view and copy, the server screen, `/` in pane 2, bad filters, cancel."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator

import pytest
from pymongo import MongoClient
from textual.widgets import DataTable, Input, Static, TabbedContent
from textual.worker import WorkerState

from runway_tui.tui.app import RunwayApp
from runway_tui.tui.live import WATCH_WORKER
from runway_tui.tui.screens.collection import CollectionScreen
from runway_tui.tui.screens.document import DocumentScreen
from runway_tui.tui.screens.error import ErrorScreen
from runway_tui.tui.screens.server import ServerScreen
from tests.support.explorer_data import BIG, SECRET_EMAIL, SECRET_PASSWORD, SECRET_SSN
from tests.support.project import Project
from tests.support.waiting import DEADLINE
from tests.tui.conftest import make_app
from tests.tui.conftest import settle as settle_main


def with_redaction(project: Project, max_time_ms: int = 3000) -> Project:
    text = project.config_path.read_text()
    settings = f'  redact_fields: [password, "*.ssn", email]\n  inspect_max_time_ms: {max_time_ms}\n'
    project.config_path.write_text(text.replace("  keymap: {}\n", "  keymap: {}\n" + settings))
    return project


def app_builder(project: Project, max_time_ms: int = 3000) -> Iterator[Callable[..., RunwayApp]]:
    """Apps on `project` with redaction; `max_time_ms` bounds each read (the small database's timeout tests
    name 3000 ms; the 100k database needs more, as a test server without indexes scans it on every read)."""
    made: list[RunwayApp] = []
    with_redaction(project, max_time_ms)

    def build(**kwargs) -> RunwayApp:
        app = make_app(project, **kwargs)
        made.append(app)
        return app

    yield build
    for app in made:
        app.shutdown_engine()


@pytest.fixture
def explorer_app(explorer_project: Project) -> Iterator[Callable[..., RunwayApp]]:
    yield from app_builder(explorer_project)


@pytest.fixture
def big_app(explorer_big_project: Project) -> Iterator[Callable[..., RunwayApp]]:
    """The TUI on the 100k-document database (paging)."""
    yield from app_builder(explorer_big_project, max_time_ms=120_000)


async def settle(app: RunwayApp, pilot, timeout: float = DEADLINE) -> None:
    """The main screen settled, then no worker pending or running twice in a row with the messages in
    between handled: a read's result may start the next read (the count after the first page), and a
    worker just asked for is PENDING, not yet running."""
    await settle_main(app, pilot, timeout)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet = 0
    while loop.time() < deadline:
        await pilot.pause()
        busy = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) and w.name != WATCH_WORKER
                   for w in app.workers)
        quiet = 0 if busy else quiet + 1
        if quiet >= 3:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the explorer did not settle")


def plain(widget: Static) -> str:
    return str(widget.render())


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = DEADLINE) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        await pilot.pause()
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def open_collection(app: RunwayApp, pilot, name: str) -> CollectionScreen:
    await settle(app, pilot)
    await pilot.press("2")
    await settle(app, pilot)
    table = app.main.query_one("#collections", DataTable)
    await wait_for(pilot, lambda: name in [str(k.value) for k in table.rows])
    table.move_cursor(row=[str(k.value) for k in table.rows].index(name))
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, CollectionScreen))
    screen = app.screen
    assert isinstance(screen, CollectionScreen)
    await settle(app, pilot)
    return screen


def documents_table(screen: CollectionScreen) -> DataTable:
    return screen.query_one("#documents-table", DataTable)


def first_column(table: DataTable) -> list[str]:
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_enter_opens_documents_and_pages_by_key(big_app) -> None:
    app = big_app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_collection(app, pilot, BIG)
        table = documents_table(screen)
        assert table.row_count == 50 and first_column(table)[:3] == ["0", "1", "2"]
        status = plain(screen.query_one("#documents-status", Static))
        assert "page 1" in status and "100,000 in all (estimated)" in status
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert first_column(table)[0] == "50" and "page 2" in plain(screen.query_one("#documents-status", Static))
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert first_column(table)[0] == "100"
        await pilot.press("left_square_bracket")
        await settle(app, pilot)
        assert first_column(table)[0] == "50"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main


async def test_slash_in_pane_2_filters_collections_by_name(explorer_app) -> None:
    app = explorer_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        table = app.main.query_one("#collections", DataTable)
        await wait_for(pilot, lambda: table.row_count >= 3)
        await pilot.press("slash")
        assert app.focused is app.main.query_one("#collections-filter", Input)
        await pilot.press(*"PEO")
        await pilot.pause()
        assert [str(k.value) for k in table.rows] == ["people"]
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is table
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CollectionScreen))
        assert app.screen.collection == "people"
        await settle(app, pilot)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("escape")  # esc in the list clears its filter
        await pilot.pause()
        assert table.row_count >= 3


async def type_filter(app: RunwayApp, pilot, screen: CollectionScreen, text: str, box: str = "#query-filter") -> None:
    await pilot.press("slash")
    field = screen.query_one(box, Input)
    field.focus()
    field.value = text
    await pilot.press("enter")
    await settle(app, pilot)
    await pilot.press("escape")  # the input keeps the focus after Enter: back to the table for the next keys
    await pilot.pause()


async def test_filter_and_exact_count_answer_how_many_lack_status(explorer_app) -> None:
    app = explorer_app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_collection(app, pilot, "people")
        await type_filter(app, pilot, screen, '{"status": {"$exists": false}}')
        assert documents_table(screen).row_count == 10
        assert "c counts the matches exactly" in plain(screen.query_one("#documents-status", Static))
        await pilot.press("c")
        await settle(app, pilot)
        assert "10 matching (exact)" in plain(screen.query_one("#documents-status", Static))


async def test_projection_and_sort_inputs(big_app) -> None:
    app = big_app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_collection(app, pilot, BIG)
        screen.query_one("#query-projection", Input).value = '{"group": 1}'
        await type_filter(app, pilot, screen, '{"_id": {"$lt": 100}}')
        table = documents_table(screen)
        assert [str(c.label) for c in table.columns.values()] == ["_id", "group"]
        screen.query_one("#query-sort", Input).value = '{"group": -1}'
        screen.query_one("#query-sort", Input).focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert first_column(table)[:3] == ["99", "89", "79"]


@pytest.mark.parametrize("text, expected", [
    ('{"status": ', "filter: not valid at column 12 (the text ends too soon)"),
    ('{"age": {"$older": 3}}', "the server refused it: unknown operator: $older"),
])
async def test_bad_filter_is_one_line_under_the_input(explorer_app, text: str, expected: str) -> None:
    app = explorer_app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_collection(app, pilot, "people")
        before = documents_table(screen).row_count
        await type_filter(app, pilot, screen, text)
        error = screen.query_one("#query-error", Static)
        assert error.display and expected in plain(error) and "\n" not in plain(error)
        assert not any(isinstance(s, ErrorScreen) for s in app.screen_stack)
        assert documents_table(screen).row_count == before  # the last good page stays
        await type_filter(app, pilot, screen, '{"status": "active"}')
        assert not error.display and documents_table(screen).row_count == 20


async def test_a_filter_that_times_out_says_so(explorer_app, mongo_client: MongoClient) -> None:
    app = explorer_app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_collection(app, pilot, "people")
        mongo_client.admin.command("configureFailPoint", "maxTimeAlwaysTimeOut", mode={"times": 1})
        try:
            await type_filter(app, pilot, screen, '{"status": "active"}')
        finally:
            mongo_client.admin.command("configureFailPoint", "maxTimeAlwaysTimeOut", mode="off")
        error = plain(screen.query_one("#query-error", Static))
        assert "took longer than 3000 ms (maxTimeMS)" in error


async def test_esc_cancels_a_running_read(explorer_app, mongo_client: MongoClient) -> None:
    """The server holds the documents read for 3 s: esc cancels it at once and its late result is dropped."""
    app = explorer_app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_collection(app, pilot, "people")
        mongo_client.admin.command("configureFailPoint", "failCommand", mode={"times": 1},
                                   data={"failCommands": ["find"], "blockConnection": True, "blockTimeMS": 3000,
                                         "appName": "runway-tui"})
        try:
            screen.query_one("#query-filter", Input).value = '{"status": "invited"}'
            screen.query_one("#query-filter", Input).focus()
            await pilot.press("enter")
            await wait_for(pilot, lambda: screen.read_running("documents"))
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is screen
            assert "cancelled" in plain(screen.query_one("#documents-status", Static))
            await wait_for(pilot, lambda: not screen.read_running("documents"))
            await pilot.pause()
            assert documents_table(screen).row_count == 40  # the cancelled page never replaced the shown one
        finally:
            mongo_client.admin.command("configureFailPoint", "failCommand", mode="off")


async def test_document_view_and_copy_are_redacted(explorer_app) -> None:
    app = explorer_app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_collection(app, pilot, "people")
        cells = json.dumps([[str(c) for c in documents_table(screen).get_row_at(0)]])
        assert SECRET_EMAIL not in cells and SECRET_PASSWORD not in cells  # redacted columns come last
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DocumentScreen))
        document = app.screen
        shown = app.export_screenshot()
        await pilot.press("c")
        await pilot.pause()
        copied = app.clipboard
        doc = json.loads(copied)
        assert doc["_id"] == {"$oid": "000000000000000000000001"} and doc["name"] == "person 01"
        assert doc["email"] == doc["password"] == doc["profile"]["ssn"] == "***"
        assert doc["orders"][0]["price"] == {"$numberDecimal": "1.05"}
        for secret in (SECRET_EMAIL, SECRET_PASSWORD, SECRET_SSN):
            assert secret not in copied and secret not in shown
        assert copied == document.text
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_schema_indexes_validation_views(explorer_app) -> None:
    app = explorer_app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_collection(app, pilot, "people")
        await pilot.press("2")
        await settle(app, pilot)
        schema = screen.query_one("#schema-table", DataTable)
        paths = [str(schema.get_row_at(i)[0]).strip() for i in range(schema.row_count)]
        assert paths[0] == "_id" and "orders[].sku" in paths and "address.city" in paths
        status_row = schema.get_row_at(paths.index("status"))
        assert "75.0%" in str(status_row[1])
        assert "int" in str(schema.get_row_at(paths.index("age"))[2])
        assert "fields missing from some documents" in plain(screen.query_one("#schema-status", Static))
        await pilot.press("3")
        await settle(app, pilot)
        indexes = screen.query_one("#indexes-table", DataTable)
        names = [str(indexes.get_row_at(i)[0]) for i in range(indexes.row_count)]
        assert set(names) == {"_id_", "email_1", "expires_ttl", "status_partial", "city_sparse"}
        assert "TTL 86400s" in str(indexes.get_row_at(names.index("expires_ttl"))[2])
        await pilot.press("4")
        await settle(app, pilot)
        assert "validator  none" in plain(screen.query_one("#validation-facts", Static))
        assert screen.query_one(TabbedContent).active == "validation"


async def test_views_are_in_the_command_palette(explorer_app) -> None:
    app = explorer_app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_collection(app, pilot, "rules")
        for name, view in (("Validation", "validation"), ("Indexes", "indexes"), ("Schema", "schema"),
                           ("Documents", "documents")):
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*name)
            await wait_for(pilot, lambda: app.screen.query("CommandList") and
                           app.screen.query_one("CommandList").option_count > 0)
            await pilot.press("enter")
            await settle(app, pilot)
            assert app.screen is screen and screen.query_one(TabbedContent).active == view
        facts = plain(screen.query_one("#validation-facts", Static))
        assert "moderate" in facts and "warn" in facts


async def test_server_screen(explorer_app) -> None:
    app = explorer_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, ServerScreen))
        await settle(app, pilot)
        facts = plain(app.screen.query_one("#server-facts", Static))
        assert "MongoDB" in facts and "replica set" in facts
        members = app.screen.query_one("#members-table", DataTable)
        assert members.row_count == 1 and str(members.get_row_at(0)[1]) == "PRIMARY"
        assert "running longer than 1 s" in plain(app.screen.query_one("#ops-note", Static))
        assert "current" in plain(app.screen.query_one("#connections", Static))


TOUCHING = '''"""Backfill people.status from rules."""

version = 1


def upgrade(ctx):
    people = ctx.db["people"]
    for rule in ctx.db.rules.find({}, session=ctx.session):
        people.update_one({"_id": rule["_id"]}, {"$set": {"status": "active"}}, session=ctx.session)


def downgrade(ctx):
    pass
'''


async def test_migration_detail_jumps_to_the_collections_it_names(explorer_project: Project, explorer_app) -> None:
    explorer_project.write_migration(1, "backfill_status", TOUCHING)
    app = explorer_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        facts = plain(app.screen.query_one("#migration-facts", Static))
        assert "people, rules" in facts
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("down", "enter")  # the second one: rules
        await wait_for(pilot, lambda: isinstance(app.screen, CollectionScreen))
        assert app.screen.collection == "rules"
        await settle(app, pilot)
        assert documents_table(app.screen).row_count == 1
        await pilot.press("escape")
        await pilot.pause()
        assert "MigrationDetailScreen" in type(app.screen).__name__


async def test_a_read_only_user_sees_not_permitted_never_an_error_dialog(tmp_path, auth_server) -> None:
    """`reader` has only `read` on the database: every collection view works; the server screen's
    current operations and connections say "not permitted" in place."""
    project = with_redaction(Project.create(tmp_path / "reader", uri=auth_server["reader"],
                                            db_name=auth_server["database"]))
    app = make_app(project, read_only=True)
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            await settle(app, pilot)
            assert app.connection == "connected"
            screen = await open_collection(app, pilot, "people")
            assert documents_table(screen).row_count == 40
            for key in ("2", "3", "4"):
                await pilot.press(key)
                await settle(app, pilot)
            assert screen.query_one("#schema-table", DataTable).row_count > 10
            assert screen.query_one("#indexes-table", DataTable).row_count == 5
            assert "moderate" not in plain(screen.query_one("#validation-facts", Static))  # people: no validator
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("i")
            await wait_for(pilot, lambda: isinstance(app.screen, ServerScreen))
            await settle(app, pilot)
            server = app.screen
            assert plain(server.query_one("#ops-note", Static)) == "not permitted"
            assert plain(server.query_one("#connections", Static)) == "not permitted"
            assert not any(isinstance(s, ErrorScreen) for s in app.screen_stack)
    finally:
        app.shutdown_engine()


async def test_redaction_in_every_view(explorer_app) -> None:
    """Each view of `people` and `rules`, the document view and the server screen, as a person sees them."""
    app = explorer_app()
    screens: list[str] = []
    async with app.run_test(size=(160, 50)) as pilot:
        for name in ("people", "rules"):
            await open_collection(app, pilot, name)
            for key in ("1", "2", "3", "4"):
                await pilot.press(key)
                await settle(app, pilot)
                screens.append(app.export_screenshot())
            await pilot.press("1", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, DocumentScreen))
            screens.append(app.export_screenshot())
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("escape")
            await settle(app, pilot)
        await pilot.press("i")
        await settle(app, pilot)
        screens.append(app.export_screenshot())
    text = "\n".join(screens)
    for secret in (SECRET_EMAIL, SECRET_PASSWORD, SECRET_SSN):
        assert secret not in text
    assert text.count("***") >= 3


def test_explorer_screens_import_neither_pymongo_nor_bson() -> None:
    """The engine hands the explorer plain data and extended JSON text; the TUI side never sees BSON."""
    import ast
    from pathlib import Path

    import runway_tui.tui as tui

    root = Path(tui.__file__).parent
    modules = [root / "explorer.py", root / "components" / "collection_views.py",
               root / "components" / "aggregate_view.py", root / "components" / "cells.py",
               *sorted((root / "screens").glob("collection*.py")), root / "screens" / "document.py",
               root / "screens" / "server.py", root / "screens" / "query_plan.py", root / "screens" / "columns.py",
               root / "screens" / "schema_filter.py"]
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] in ("pymongo", "bson") for n in names), f"{path.name} imports {names}"
    assert len(modules) == 14  # explorer, 3 components, collection (5), document, server, plan, columns, filter
