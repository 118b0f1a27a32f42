"""The Indexes view says what the server told, nothing more (issue 27): a column the server leaves empty is not
shown, and a server that keeps no usage counts ($indexStats without `since`) reads "usage not reported by this
server", never "never used"."""

from __future__ import annotations

from pymongo import MongoClient
from textual.widgets import DataTable, Static

from tests.tui.test_explorer import explorer_app, open_collection, plain, settle  # noqa: F401


def server_counts_usage(mongo_client: MongoClient, db: str) -> bool:
    rows = list(mongo_client[db].people.aggregate([{"$indexStats": {}}]))
    return any((row.get("accesses") or {}).get("since") is not None for row in rows)


async def test_indexes_view_shows_what_the_server_reports(explorer_app, mongo_client: MongoClient,  # noqa: F811
                                                          explorer_db: str) -> None:
    counts = server_counts_usage(mongo_client, explorer_db)
    app = explorer_app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_collection(app, pilot, "people")
        await pilot.press("3")
        await settle(app, pilot)
        table = screen.query_one("#indexes-table", DataTable)
        labels = [str(c.label) for c in table.columns.values()]
        cells = " ".join(str(cell) for i in range(table.row_count) for cell in table.get_row_at(i))
        status = plain(screen.query_one("#indexes-status", Static))
        if counts:  # a server that counts (MongoDB): the since column, and the unused index marked
            assert "Since" in labels and "never used" in cells
        else:  # SecantusDB: no `since`, ops always 0
            assert "Since" not in labels and "Ops" not in labels, labels
            assert "never used" not in cells + status
            assert "usage not reported by this server" in status
