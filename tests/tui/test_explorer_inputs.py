"""The explorer's inputs in the TUI (issue 27): Enter runs the query and the focus stays where the user types,
so the next keys edit the query instead of reaching the table."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tests.tui.test_explorer import documents_table, explorer_app, open_collection, settle  # noqa: F401

INPUTS = ["#query-filter", "#query-projection", "#query-sort"]


@pytest.mark.parametrize("box", INPUTS)
async def test_enter_runs_the_query_and_the_focus_stays_in_the_input(explorer_app, box: str) -> None:  # noqa: F811
    app = explorer_app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_collection(app, pilot, "people")
        field = screen.query_one(box, Input)
        field.focus()
        await pilot.pause()
        typed = {"#query-filter": '{"status": "active"}', "#query-projection": '{"name": 1}',
                 "#query-sort": '{"name": -1}'}[box]
        await pilot.press(*typed)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.focused is field
        assert screen.query_state.filter + screen.query_state.projection + screen.query_state.sort == typed
        await pilot.press("end", "x")  # the next key edits the query, it does not reach the table
        await pilot.pause()
        assert field.value == typed + "x"
        await pilot.press("escape")  # esc leaves the input for the table
        await pilot.pause()
        assert app.focused is documents_table(screen)
