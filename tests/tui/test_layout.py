"""Pane 2 at the sizes operators use: every column inside the pane (a DataTable crops the last one at its
edge), "Valid" shortened to "V" before any name is cut, and the full labels back when there is room."""

from __future__ import annotations

from pymongo import MongoClient

from runway_tui.tui.components.database_pane import CollectionsTable
from tests.support.waiting import wait_until_async
from tests.tui.conftest import settle, write_standard


def columns_of(table: CollectionsTable) -> list[tuple[str, int]]:
    return [(str(column.label), column.width) for column in table.ordered_columns]


def row_width(table: CollectionsTable) -> int:
    return sum(width + 2 * table.cell_padding for _, width in columns_of(table))


async def test_database_pane_columns_fit_at_120_columns_and_widen_when_there_is_room(project, tui_app,
                                                                                     mongo_client: MongoClient):
    write_standard(project)
    db = mongo_client[project.db_name]
    db.create_collection("customer_addresses_archive", validator={"$jsonSchema": {"bsonType": "object"}})
    db["users"].insert_many([{"n": i} for i in range(2000)])
    app = tui_app()
    async with app.run_test(size=(120, 32)) as pilot:
        await settle(app, pilot)
        table = app.main.query_one(CollectionsTable)
        await wait_until_async(lambda: table.row_count >= 2 and table._complete, what="the collections listed")
        await pilot.pause()
        labels = [label for label, _ in columns_of(table)]
        assert labels == ["Collection", "Docs", "Size", "Idx", "V"]
        assert row_width(table) <= table.size.width, (columns_of(table), table.size.width)
        name = str(table.get_row("customer_addresses_archive")[0])
        assert name.startswith("customer_addr") and len(name) <= columns_of(table)[0][1]
        await pilot.resize_terminal(200, 40)
        await wait_until_async(lambda: [label for label, _ in columns_of(table)][-1] == "Valid",
                               what="the full label once there is room")
        assert row_width(table) <= table.size.width
        assert str(table.get_row("customer_addresses_archive")[0]) == "customer_addresses_archive"
