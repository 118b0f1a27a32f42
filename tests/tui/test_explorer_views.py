"""The explorer's new views and keys in the TUI (issue 27), with a real engine on the seeded database: the
aggregate view (Enter runs, ctrl+j is a new line, pages, esc cancels, refusals are one line with nothing sent),
the ready-made pipelines on the palette, the Schema's values and filters, typed cells, the column picker, the
horizontal scroll by whole columns, the query plan and exports."""

from __future__ import annotations

import json
from pathlib import Path

from pymongo import MongoClient
from textual.widgets import DataTable, Input, Static, TabbedContent

from runway_tui.tui.components.aggregate_view import PipelineEditor
from runway_tui.tui.components.collection_views import ExplorerTable
from runway_tui.tui.screens.collection import CollectionScreen
from runway_tui.tui.screens.columns import ColumnsScreen
from runway_tui.tui.screens.query_plan import QueryPlanScreen
from runway_tui.tui.screens.schema_filter import SchemaFilterScreen
from tests.support import commands
from tests.support.explorer_data import LOGINS, SECRET_EMAIL
from tests.tui.test_explorer import (  # noqa: F401
    documents_table,
    explorer_app,
    open_collection,
    plain,
    settle,
    wait_for,
)


def reads_of(seen: commands.Seen, collection: str) -> list[str]:
    """The explorer's reads of `collection` (the live watch's getMore on runway's own collections aside)."""
    return [c.name for c in seen.all() if c.name in ("find", "aggregate", "count") and c.target.endswith(
        f".{collection}") or c.name == "getMore" and c.command.get("collection") == collection]


def cells(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def labels(table: DataTable) -> list[str]:
    return [str(c.label) for c in table.columns.values()]


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


async def run_pipeline(app, pilot, screen: CollectionScreen, text: str) -> None:
    await pilot.press("5")
    await settle(app, pilot)
    editor = screen.query_one(PipelineEditor)
    editor.text = text
    editor.focus()
    await pilot.press("enter")
    await settle(app, pilot)


async def test_enter_runs_the_pipeline_and_ctrl_j_is_a_new_line(explorer_app) -> None:  # noqa: F811
    app = explorer_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_collection(app, pilot, LOGINS)
        await pilot.press("5")
        await settle(app, pilot)
        editor = screen.query_one(PipelineEditor)
        assert app.focused is editor
        await pilot.press(*"[{$sortByCount: '$status'},")
        await pilot.press("ctrl+j")
        await pilot.press(*"]")
        assert editor.text == "[{$sortByCount: '$status'},\n]"
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.focused is editor and editor.text.count("\n") == 1  # Enter ran it, it did not add a line
        table = screen.query_one("#aggregate-table", DataTable)
        assert labels(table) == ["_id", "count"]
        assert cells(table)[0] == ['"ok"', "36"]
        assert sorted(cells(table)[1:]) == [['"denied"', "12"], ['"locked"', "12"]]  # ties: the server's order
        assert "last page" in plain(screen.query_one("#aggregate-status", Static))
        footer = " ".join(b.binding.description for b in app.screen.active_bindings.values() if b.binding.show)
        assert "Run" in footer and "New line" in footer


async def test_results_page_and_a_page_read_comes_back_without_a_read(explorer_app) -> None:  # noqa: F811
    app = explorer_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_collection(app, pilot, "counters")
        await run_pipeline(app, pilot, screen, "[{$sort: {_id: -1}}]")
        await pilot.press("escape")  # to the results
        await pilot.pause()
        table = screen.query_one("#aggregate-table", DataTable)
        assert app.focused is table and str(table.get_row_at(0)[0]) == "299"
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert str(table.get_row_at(0)[0]) == "249" and "page 2" in plain(screen.query_one("#aggregate-status"))
        with commands.watch() as seen:
            await pilot.press("left_square_bracket")
            await settle(app, pilot)
        assert str(table.get_row_at(0)[0]) == "299" and not reads_of(seen, "counters")
        await pilot.press("enter")  # one result in full
        await pilot.pause()
        assert json.loads(app.screen.text)["_id"] == 299


async def test_a_refused_pipeline_is_one_red_line_and_sends_nothing(explorer_app) -> None:  # noqa: F811
    app = explorer_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_collection(app, pilot, "people")
        for text, starts in (("[{$out: 'copy'}]", "pipeline: stage 1 ($out): $out writes"),
                             ("[{$group: {_id: '$email'}}]", "pipeline: stage 1 ($group): a field path over"),
                             ("[{$sample: {size: 3}}]", "pipeline: stage 1: $sample is not a stage")):
            with commands.watch() as seen:
                await run_pipeline(app, pilot, screen, text)
            line = plain(screen.query_one("#aggregate-error", Static))
            assert line.startswith(starts) and "\n" not in line, line
            assert not reads_of(seen, "people")


async def test_esc_cancels_a_running_aggregation(explorer_app, mongo_client: MongoClient) -> None:  # noqa: F811
    app = explorer_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_collection(app, pilot, "people")
        mongo_client.admin.command("configureFailPoint", "failCommand", mode={"times": 1},
                                   data={"failCommands": ["aggregate"], "blockConnection": True,
                                         "blockTimeMS": 3000, "appName": "runway-tui"})
        try:
            await pilot.press("5")
            await settle(app, pilot)
            editor = screen.query_one(PipelineEditor)
            editor.text = "[{$count: 'n'}]"
            await pilot.press("enter")
            await wait_for(pilot, lambda: screen.read_running("aggregate"))
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is screen and "cancelled" in plain(screen.query_one("#aggregate-status", Static))
            await wait_for(pilot, lambda: not screen.read_running("aggregate"), timeout=20)
            await pilot.pause()
            assert screen.result_page is None  # the late result was dropped, its cursor closed
        finally:
            mongo_client.admin.command("configureFailPoint", "failCommand", mode="off")


async def test_ready_made_pipelines_on_the_palette(explorer_app) -> None:  # noqa: F811
    app = explorer_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_collection(app, pilot, LOGINS)
        for title, field, expected in (("Duplicates of a field", "legacy_id", 10),
                                       ("Values of a field", "status", 3),
                                       ("Types of a field", "phone", 4)):
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*title)
            await wait_for(pilot, lambda: app.screen.query("CommandList") and first_hit(app).startswith(title))  # noqa: B023
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.screen.query("#prompt-input"))
            app.screen.query_one("#prompt-input", Input).value = field
            await pilot.press("enter")
            await settle(app, pilot)
            assert app.screen is screen and screen.query_one(TabbedContent).active == "aggregate"
            assert screen.query_one("#aggregate-table", DataTable).row_count == expected, title
            assert f"${field}" in screen.query_one(PipelineEditor).text  # shown, ready to edit


async def test_schema_values_and_enter_filters_the_documents(explorer_app) -> None:  # noqa: F811
    app = explorer_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_collection(app, pilot, LOGINS)
        await pilot.press("2")
        await settle(app, pilot)
        schema = screen.query_one("#schema-table", DataTable)
        paths = [str(k.value) for k in schema.rows]
        row = cells(schema)[paths.index("mfa")]
        assert row[3] == 'false 15 · true 15 · 1 15 · "yes" 15'  # typed values, never alike
        assert cells(schema)[paths.index("email")][3] == "redacted"
        schema.move_cursor(row=paths.index("phone"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SchemaFilterScreen))
        options = app.screen.query_one("#pick-list")
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        await pilot.press(*["down"] * next(i for i, p in enumerate(prompts) if p.startswith("phone is long")))
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen and screen.query_one(TabbedContent).active == "documents"
        assert screen.query_one("#query-filter", Input).value == '{"phone": {"$type": "long"}}'
        assert documents_table(screen).row_count == 15
        await pilot.press("2")  # the schema now samples what the filter selects
        await settle(app, pilot)
        assert "15 documents sampled from the documents matching the filter" in plain(
            screen.query_one("#schema-status", Static))
        paths = [str(k.value) for k in schema.rows]
        schema.move_cursor(row=paths.index("email"))
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen  # a redacted field offers no filter (a toast says why)


async def test_typed_cells_columns_and_scroll_by_whole_columns(explorer_app) -> None:  # noqa: F811
    app = explorer_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_collection(app, pilot, LOGINS)
        table = documents_table(screen)
        assert labels(table)[:4] == ["_id", "user", "at", "status"] and "device.os" in labels(table)
        mfa = labels(table).index("mfa")
        assert [cells(table)[i][mfa] for i in range(4)] == ["true", "false", '"yes"', "1"]
        assert not any(SECRET_EMAIL in c for row in cells(table) for c in row)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, ColumnsScreen))
        app.screen.query_one(Input).value = "city, device.os, phone"
        await pilot.press("enter")
        await settle(app, pilot)
        assert labels(table) == ["city", "device.os", "phone"]
        assert cells(table)[0] == ['"東京都"', '"ios"', "33600000000"]
        await pilot.press("right_square_bracket")  # the chosen columns stay while paging
        await settle(app, pilot)
        assert labels(table) == ["city", "device.os", "phone"]


async def test_left_and_right_scroll_by_whole_columns(explorer_app) -> None:  # noqa: F811
    app = explorer_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_collection(app, pilot, "people")
        table = screen.query_one("#documents-table", ExplorerTable)
        starts, limit = table.column_starts(), round(table.max_scroll_x)
        assert limit > starts[3]  # wider than the screen: there is somewhere to scroll
        table.focus()
        for expected in starts[1:4]:
            await pilot.press("right")
            await pilot.pause()
            assert round(table.scroll_x) == expected  # a column starts at the left edge, never cut
        await pilot.press("left")
        await pilot.pause()
        assert round(table.scroll_x) == starts[2]
        for _ in starts:
            await pilot.press("right")
        await pilot.pause()
        assert round(table.scroll_x) == limit  # the last column in full at the right edge


async def test_explain_shows_the_winning_plan(explorer_app) -> None:  # noqa: F811
    app = explorer_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_collection(app, pilot, LOGINS)
        field = screen.query_one("#query-filter", Input)
        field.focus()
        field.value = "{legacy_id: 'L003'}"
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("escape", "e")
        await wait_for(pilot, lambda: isinstance(app.screen, QueryPlanScreen))
        shown = plain(app.screen.query_one("#plan-facts", Static)) + app.export_screenshot()
        assert "uses legacy_id_1" in shown and "IXSCAN" in shown
        await pilot.press("s")
        await settle(app, pilot)
        assert "documents examined 2" in plain(app.screen.query_one("#plan-facts", Static))
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_export_the_documents_and_the_results(explorer_app, explorer_project) -> None:  # noqa: F811
    app = explorer_app()
    folder = Path(explorer_project.config_path).parent
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_collection(app, pilot, "people")
        await pilot.press("x")
        await wait_for(pilot, lambda: app.screen.query("#prompt-input"))
        app.screen.query_one("#prompt-input", Input).value = "people.jsonl"
        await pilot.press("enter")
        await settle(app, pilot)
        lines = (folder / "people.jsonl").read_text().splitlines()
        assert len(lines) == 40 and SECRET_EMAIL not in "".join(lines) and json.loads(lines[0])["email"] == "***"
        await run_pipeline(app, pilot, screen, "[{$sortByCount: '$status'}]")
        await pilot.press("escape", "x")
        await wait_for(pilot, lambda: app.screen.query("#prompt-input"))
        app.screen.query_one("#prompt-input", Input).value = "people.jsonl"  # taken: the prompt says so
        await pilot.press("enter")
        await pilot.pause()
        assert "exists; choose another name" in str(app.screen.query_one("#prompt-error").render())
        app.screen.query_one("#prompt-input", Input).value = "status.csv"
        await pilot.press("enter")
        await settle(app, pilot)
        assert (folder / "status.csv").read_text().splitlines()[0] == "_id,count"


async def test_the_footer_offers_the_shown_views_keys_only(explorer_app) -> None:  # noqa: F811
    app = explorer_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_collection(app, pilot, LOGINS)
        documents = {"Filter", "Exact count", "Next", "Prev", "Columns", "Explain", "Export"}
        for key, shown, hidden in (
                ("1", documents, {"Run", "Pipeline", "Filter by it"}),
                ("2", {"Filter by it"}, documents),
                ("3", set(), documents | {"Filter by it", "Run"}),
                ("4", set(), documents | {"Filter by it", "Run"}),
                ("5", {"Run", "New line"}, documents - {"Export", "Columns", "Next", "Prev"})):
            await pilot.press(key)
            await settle(app, pilot)
            footer = {b.binding.description for b in app.screen.active_bindings.values() if b.binding.show}
            assert shown <= footer and not hidden & footer, (key, footer)
            assert {"Back", "Reload"} <= footer or key == "5" and "Back" in footer  # r types an r in the editor
            if key == "5":
                await pilot.press("escape")  # from the editor to the results: their keys
                await pilot.pause()
                footer = {b.binding.description for b in app.screen.active_bindings.values() if b.binding.show}
                assert {"Pipeline", "Next", "Prev", "Columns", "Export"} <= footer and "Run" not in footer
