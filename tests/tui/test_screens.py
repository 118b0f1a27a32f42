"""Screens an operator must be able to read in full: a confirmation of many steps keeps its buttons, the
detail screens scroll from the keyboard (j k ↑ ↓ pgdn g G, as the keys panel says)."""

from __future__ import annotations

from textual.widgets import Button

from runway_tui.tui.components.migrations_table import MigrationsTable
from runway_tui.tui.screens.confirm import ConfirmScreen
from runway_tui.tui.screens.detail import MigrationDetailScreen
from runway_tui.tui.screens.document import DocumentScreen
from tests.engine.helpers import data_migration
from tests.support.waiting import wait_until_async
from tests.tui.conftest import settle, write_standard
from tests.tui.test_app import SIZE


def write_many(project, count: int) -> None:
    for version in range(1, count + 1):
        project.write_migration(version, f"step_{version}", data_migration(version, doc=f"Step number {version}."))


async def test_a_confirmation_of_many_steps_keeps_apply_and_cancel_visible(project, tui_app):
    write_many(project, 40)
    app = tui_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("U", "ctrl+a", "ctrl+k", *"40", "enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ConfirmScreen)
        for button in screen.query(Button):
            region = button.region
            assert region.height > 0 and region.bottom <= 24 and screen.region.contains_region(region), button.id
        assert screen.hidden_steps > 0
        assert f"… {screen.hidden_steps} more" in screen.body_text()
        await pilot.press("escape")


SOURCE_LINES = "\n".join(f"# line {n}" for n in range(200))


async def test_the_migration_source_scrolls_from_the_keyboard(project, tui_app):
    project.write_migration(1, "long", data_migration(1) + SOURCE_LINES + "\n")
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.main.query_one(MigrationsTable).focus()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MigrationDetailScreen)
        source = screen.query_one("#source")
        for key in ("down", "j", "pagedown"):
            before = source.scroll_y
            await pilot.press(key)
            await pilot.pause()
            assert source.scroll_y > before, key
        await pilot.press("G")
        await pilot.pause()
        assert source.scroll_y == source.max_scroll_y
        await pilot.press("g")
        await pilot.pause()
        assert source.scroll_y == 0


async def test_a_document_in_full_goes_to_the_end_with_G(project, tui_app):
    """The collection detail became the explorer; its long view (one document in full) honours `G` and `g`."""
    write_standard(project, 1)
    text = "{\n" + ",\n".join(f'  "field_{n}": "{"x" * 60}"' for n in range(80)) + "\n}"
    app = tui_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.push_screen(DocumentScreen("wide", text))
        await pilot.pause()
        body = app.screen.query_one("#document-body")
        await wait_until_async(lambda: body.max_scroll_y > 0, "the document to be laid out", pause=pilot.pause)
        await pilot.press("G")
        await pilot.pause()
        assert body.scroll_y == body.max_scroll_y
        await pilot.press("g")
        await pilot.pause()
        assert body.scroll_y == 0


async def test_a_failed_step_error_is_in_the_detail_and_copyable(project, tui_app):
    from tests.tui.conftest import FAILING, run_until_it_fails

    project.write_migration(1, "fails", FAILING.format(v=1))
    run_until_it_fails(project)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.main.query_one(MigrationsTable).focus()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MigrationDetailScreen)
        assert "boom" in str(screen.query_one("#migration-facts").render())
        traceback = str(screen.query_one("#traceback-text").render())
        assert "Traceback (most recent call last)" in traceback and "001_fails.py" in traceback
        assert "RuntimeError: boom" in traceback
        await pilot.press("c")
        assert "RuntimeError: boom: the data is not what we expected" in app.clipboard
        assert "Traceback" in app.clipboard


LEAKY = '''"""Fails naming a URI with its password."""

version = {v}
transactional = False


def upgrade(ctx):
    raise RuntimeError("cannot reach mongodb://app:hunter2-secret@db.example.com:27017/shop")


def downgrade(ctx):
    pass
'''


async def test_the_traceback_in_the_detail_and_its_copy_have_secrets_scrubbed(project, tui_app):
    from tests.tui.conftest import run_until_it_fails

    project.write_migration(1, "leaky", LEAKY.format(v=1))
    run_until_it_fails(project)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.main.query_one(MigrationsTable).focus()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MigrationDetailScreen)
        traceback = str(screen.query_one("#traceback-text").render())
        assert "Traceback (most recent call last)" in traceback and "db.example.com" in traceback
        await pilot.press("c")
        assert "RuntimeError: cannot reach" in app.clipboard
        assert "hunter2-secret" not in traceback + app.clipboard + str(screen.query_one("#migration-facts").render())
