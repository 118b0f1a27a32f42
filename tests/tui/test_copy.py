"""`c` copies the selected row's name (OSC 52) and `v` shows a row in full, a cell cut with … included, in
panes 1 to 3; where there is no row the key says why in a toast."""

from __future__ import annotations

from pymongo import MongoClient

from runway_tui.tui.components.database_pane import CollectionsTable
from runway_tui.tui.components.migrations_table import MigrationsTable
from runway_tui.tui.screens.row import RowScreen
from tests.support.waiting import wait_until_async
from tests.tui.conftest import CREATE, settle
from tests.tui.helpers import notifications

LONG = "add_a_compound_index_on_customer_addresses_for_the_postcode_lookup"
LONG_COLLECTION = "customer_addresses_archive_of_the_year_before_last"


async def test_copy_a_name_and_see_a_cut_cell_in_full(project, tui_app, mongo_client: MongoClient):
    project.write_migration(1, LONG, CREATE.format(v=1))
    mongo_client[project.db_name].create_collection(LONG_COLLECTION)
    app = tui_app()
    async with app.run_test(size=(120, 32)) as pilot:
        await settle(app, pilot)
        table = app.main.query_one(MigrationsTable)
        cut = str(table.get_row("v1")[2])
        assert cut.endswith("…") and len(cut) < len(LONG)  # pane 1 cuts the name
        await pilot.press("c")
        assert app.clipboard == f"001_{LONG}" and f"copied 001_{LONG}" in notifications(app)
        await pilot.press("v")
        assert isinstance(app.screen, RowScreen)
        assert ("Name", f"001_{LONG}") in app.screen.fields
        await pilot.press("down", "down", "c")  # the highlighted value: the status
        assert app.clipboard == "unrecorded"
        await pilot.press("escape")
        assert app.screen is app.main

        await pilot.press("2")
        collections = app.main.query_one(CollectionsTable)
        await wait_until_async(lambda: collections.get_row_index(LONG_COLLECTION) is not None
                               if LONG_COLLECTION in collections.rows else False, what="the long collection")
        collections.move_cursor(row=collections.get_row_index(LONG_COLLECTION))
        assert str(collections.get_row(LONG_COLLECTION)[0]).endswith("…")
        await pilot.press("v")
        assert isinstance(app.screen, RowScreen) and ("Collection", LONG_COLLECTION) in app.screen.fields
        await pilot.press("enter")  # enter copies the highlighted value too (the first: the name)
        assert app.clipboard == LONG_COLLECTION
        await pilot.press("escape", "c")
        assert app.clipboard == LONG_COLLECTION

        await pilot.press("4", "c", "v")  # the live log has no rows: said, not silent
        assert "nothing to copy: the live log has no rows" in notifications(app)
        assert "nothing to show: the live log has no rows" in notifications(app)
        assert app.screen is app.main
