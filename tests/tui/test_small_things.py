"""What a careful user notices: the server screen's tables line up (figures right-aligned under their header),
and production wears the header's red badge in the application switcher too."""

from __future__ import annotations

import dataclasses

from textual.geometry import Region

from runway_tui.engine.config import load_config
from runway_tui.engine.inspect import Member, Section
from runway_tui.tui.app import RunwayApp
from runway_tui.tui.components.header_bar import PRODUCTION_BADGE
from runway_tui.tui.explorer import inspector_for
from runway_tui.tui.screens.apps import AppsScreen
from runway_tui.tui.screens.server import ServerScreen
from tests.support.waiting import wait_until_async
from tests.tui.conftest import ADDRESS, fixed_clock, settle, write_standard
from tests.tui.test_app import SIZE


def lines_of(widget) -> list[str]:
    """The widget's lines as the terminal shows them."""
    return [strip.text.rstrip() for strip in widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))]


async def test_the_server_screens_members_line_up(project, tui_app):
    write_standard(project, 1)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, ServerScreen)
        table = screen.query_one("#members-table")
        await wait_until_async(lambda: table.row_count == 1, "the server's members", pause=pilot.pause)
        # three members of different name lengths, states and lags, as a replica set under load reports them
        members = [Member("db-1.prod.example.internal:27017", "PRIMARY", True, 0.0, is_self=True),
                   Member("db-2:27017", "SECONDARY", True, 12.5),
                   Member("db-3.prod.example.internal:27017", "(not reachable/healthy)", False, None)]
        info = app.engine.server_info
        read = inspector_for(app).server(info.version, info.topology, info.set_name)  # the real report...
        report = dataclasses.replace(read, members=Section(members))  # ...with those members
        screen._show(report)
        await wait_until_async(lambda: sum(1 for line in lines_of(table) if line.strip()) >= 4,
                               "the three members on screen", pause=pilot.pause)
        header, *rows = [line for line in lines_of(table) if line.strip()][:4]
        assert header.index("State") == rows[0].index("PRIMARY") == rows[1].index("SECONDARY") == \
            rows[2].index("(not reachable")
        assert header.index("Health") == rows[0].index("ok") == rows[2].index("down")
        assert len(header) == len(rows[0]) == len(rows[1])  # "Lag", "0.0 s", "12.5 s": right edges meet
        assert rows[0].endswith("0.0 s") and rows[1].endswith("12.5 s") and rows[2].endswith("—")
        assert rows[0].startswith(" db-1.prod.example.internal:27017 (this one)")


async def test_production_wears_the_red_badge_in_the_application_switcher(project, mongo_client):
    write_standard(project, 1)
    other_db = project.db_name[:40] + "_p"
    text = project.config_path.read_text()
    block = text[text.index("  test:\n"):text.index("tui:")]
    project.config_path.write_text(text.replace("tui:", block.replace("  test:\n", "  live:\n").replace(
        f"database: {project.db_name}", f"database: {other_db}").replace("production: false", "production: true")
        + "tui:", 1))
    config = load_config(project.config_path)
    app = RunwayApp(config.app("test"), config.tui, read_only=False, clock=fixed_clock, address=ADDRESS,
                    poll_interval=3600, project_config=config)
    app.cursor_blink = False
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("a")
            screen = app.screen
            assert isinstance(screen, AppsScreen)
            cell = screen.query_one("#apps-table").get_row("live")[0]
            assert cell.plain == "  live  PRODUCTION " and "(prod)" not in cell.plain
            badge = [span for span in cell.spans if cell.plain[span.start:span.end] == " PRODUCTION "]
            assert [str(span.style) for span in badge] == [PRODUCTION_BADGE]
            assert screen.query_one("#apps-table").get_row("test")[0].plain == "● test"
            await pilot.press("escape")
    finally:
        app.shutdown_engine()
        mongo_client.drop_database(other_db)

