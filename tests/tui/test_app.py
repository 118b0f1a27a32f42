"""Behaviour of the terminal UI, driven with Pilot against the real engine and the test SecantusDB."""

from __future__ import annotations

import pytest
from pymongo import MongoClient
from textual.command import CommandList, CommandPalette

from runway_tui.engine.config import load_config
from runway_tui.engine.errors import ReadOnlyError
from runway_tui.tui.app import RunwayApp
from runway_tui.tui.bridge import EventBuffer
from runway_tui.tui.components.header_bar import HeaderBar
from runway_tui.tui.components.live_log import LiveLog
from runway_tui.tui.components.migrations_table import MigrationsTable
from runway_tui.tui.screens.collection import CollectionScreen
from runway_tui.tui.screens.confirm import ConfirmScreen
from runway_tui.tui.screens.detail import AuditDetailScreen, MigrationDetailScreen
from runway_tui.tui.screens.error import ErrorScreen
from runway_tui.tui.screens.keys import KeysScreen
from runway_tui.tui.screens.prompt import PromptScreen
from tests.support.waiting import DEADLINE, wait_until_async
from tests.tui.conftest import FAILING, engine_for, make_app, settle, write_standard
from tests.tui.helpers import toasts

SIZE = (120, 36)


def palette_highlight(app: RunwayApp) -> str:
    """The prompt of the command palette's highlighted option ("" while the palette has none)."""
    if not isinstance(app.screen, CommandPalette):
        return ""
    options = app.screen.query_one(CommandList)
    if options.highlighted is None:
        return ""
    return str(options.get_option_at_index(options.highlighted).prompt)


def header_text(app: RunwayApp) -> str:
    return str(app.main.query_one(HeaderBar).render())


def log_text(app: RunwayApp) -> str:
    return "\n".join(f"{e.level} {e.text}" for e in app.main.query_one(LiveLog).history)


def states(app: RunwayApp) -> dict[int, str]:
    assert app.snapshot is not None
    return {r.version: r.state for r in app.snapshot.status.rows if r.version is not None}


async def test_launch_shows_files_database_and_header(project, tui_app):
    write_standard(project)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.connection == "connected"
        table = app.main.query_one(MigrationsTable)
        assert table.row_count == 3
        header = header_text(app)
        assert "3 pending" in header and "WRITE" in header and "lock free" in header
        assert project.db_name in header and "db.test" in header
        assert "connected: MongoDB" in log_text(app)
        assert app.focused is table
        assert app.screen.has_class("-wide")


async def test_pane_navigation_and_narrow_layout(project, tui_app):
    write_standard(project, 2)
    app = tui_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.screen.has_class("-narrow")
        for key, widget_id in (("2", "collections"), ("3", "audit"), ("4", "log"), ("1", "migrations")):
            await pilot.press(key)
            assert app.focused is not None and app.focused.id == widget_id
        table = app.main.query_one(MigrationsTable)
        await pilot.press("j")
        assert table.cursor_row == 1
        await pilot.press("k")
        assert table.cursor_row == 0
        await pilot.press("tab")
        assert app.focused.id == "collections"
        await pilot.press("shift+tab")
        assert app.focused.id == "migrations"
        # the focused pane takes the room in the narrow accordion
        pane = app.main.query_one("#migrations-pane")
        assert pane.size.height > app.main.query_one("#database-pane").size.height
        await pilot.resize_terminal(120, 36)
        await pilot.pause()
        assert app.screen.has_class("-wide")


async def test_create_template_from_a_name_prompt(project, tui_app):
    write_standard(project, 1)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"add widgets", "enter")
        await settle(app, pilot)
        created = sorted(p.name for p in project.scripts_dir.glob("002_*.py"))
        assert created == ["002_add_widgets.py"]
        assert 2 in states(app)
        assert "created migrations/002_add_widgets.py" in log_text(app)
        assert app.main.query_one(MigrationsTable).selected_key == "v2"  # the cursor is on the new file


async def test_a_name_with_accents_says_what_the_file_name_keeps(project, tui_app):
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await pilot.press(*"Café crème", "enter")
        await settle(app, pilot)
        assert sorted(p.name for p in project.scripts_dir.glob("*.py")) == ["001_cafe_creme.py"]
        said = " ".join(toasts(app)) + log_text(app)
        assert "keeps 'cafe_creme' (é -> e, è -> e)" in said, said


async def test_refresh_syncs_a_file_added_meanwhile(project, tui_app):
    write_standard(project, 1)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert states(app) == {1: "pending"}
        project.write_migration(2, "index_things", "\"\"\"Index.\"\"\"\nversion = 2\n\n\ndef upgrade(ctx):\n    pass"
                                                   "\n\n\ndef downgrade(ctx):\n    pass\n")
        await pilot.press("r")
        await settle(app, pilot)
        assert states(app) == {1: "pending", 2: "pending"}
        assert all(r.record is not None for r in app.snapshot.status.rows)  # synced to the database
        assert "refreshed: 2 new" in log_text(app)


async def test_up_asks_first_cancel_runs_nothing_confirm_applies(project, tui_app, mongo_client: MongoClient):
    write_standard(project)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        facts = dict(app.screen.request.facts)
        assert facts["From version"] == "none applied" and facts["To version"] == "001"
        assert facts["Database"] == project.db_name and facts["Migration"] == "001 create_things"
        assert facts["Description"] == "Create the things collection."
        assert facts["Transaction"].startswith("NO")
        await pilot.press("n")
        await settle(app, pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert states(app)[1] == "pending" and "cancelled" in log_text(app)
        await pilot.press("u")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        assert states(app) == {1: "applied", 2: "pending", 3: "pending"}
        assert "things" in mongo_client[project.db_name].list_collection_names()
        assert "up 001_create_things done" in log_text(app)
        assert "things created" in log_text(app)  # the migration's own ctx.log line
        assert app.main.query_one("#audit").row_count == 1


async def test_down_reverts_the_newest_applied(project, tui_app):
    write_standard(project)
    config = load_config(project.config_path).app(project.app)
    with engine_for(config) as engine:
        engine.upgrade(steps=2)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert dict(app.screen.request.facts)["To version"] == "001"
        await pilot.press("y")
        await settle(app, pilot)
        assert states(app) == {1: "applied", 2: "pending", 3: "pending"}
        assert app.snapshot.status.current_version == 1


async def test_production_needs_the_typed_database_name(project, tui_app):
    write_standard(project)
    app = tui_app(production=True, read_only=False)  # production opened with --write
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert "PRODUCTION" in header_text(app)
        await pilot.press("u")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ConfirmScreen) and screen.request.typed == project.db_name
        await pilot.press("y", "enter")  # 'y' is just a letter here; the wrong text runs nothing
        await pilot.pause()
        assert app.screen is screen and states(app)[1] == "pending"
        screen.query_one("#typed").value = project.db_name[:-1]
        await pilot.press("end", project.db_name[-1], "enter")
        await settle(app, pilot)
        assert states(app)[1] == "applied"


async def test_read_only_hides_writes_and_the_engine_refuses(project, tui_app):
    write_standard(project)
    app = tui_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert "READ-ONLY" in header_text(app)
        keys = {ab.binding.id for ab in app.main.active_bindings.values()}
        assert {"migrate-up", "migrate-down", "new-migration", "mark-applied", "unlock"}.isdisjoint(keys)
        assert {"refresh", "plan", "show-keys"} <= keys
        await pilot.press("u", "d", "n")
        await settle(app, pilot)
        assert app.screen is app.main and states(app)[1] == "pending"
        await pilot.press("question_mark")
        assert isinstance(app.screen, KeysScreen)
        assert "Up" not in {row.description for row in app.screen.rows}
        await pilot.press("escape")
        await pilot.press("r")  # read-only refresh only re-reads
        await settle(app, pilot)
        assert app.snapshot.status.rows[0].record is None
        with pytest.raises(ReadOnlyError):
            app.engine.upgrade(steps=1)


async def test_failing_migration_shows_error_and_failed_state(project, tui_app):
    write_standard(project, 1)
    project.write_migration(2, "always_fails", FAILING.format(v=2))
    config = load_config(project.config_path).app(project.app)
    with engine_for(config) as engine:
        engine.upgrade(steps=1)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert "boom: the data is not what we expected" in app.screen.message
        assert states(app)[2] == "failed"
        assert "error up 002_always_fails failed" in log_text(app)
        await pilot.press("escape")
        table = app.main.query_one(MigrationsTable)
        table.select_version(2)
        assert str(table.get_row("v2")[0]).startswith("×")  # the failed mark (the word too when there is room)
        assert "1 failed" in header_text(app)
        # a failed migration blocks further steps: the UI says why instead of running
        await pilot.press("u")
        await settle(app, pilot)
        assert isinstance(app.screen, ErrorScreen) and app.screen.title_text.startswith("Refusing")


async def wait_for(pilot, condition, timeout: float = DEADLINE) -> None:
    """Poll a condition while the app runs (for states that never leave workers idle)."""
    await wait_until_async(condition, "a state of the app", pause=lambda: pilot.pause(0.05), timeout=timeout)


async def test_lost_server_shows_disconnected_then_recovers_by_itself(tmp_path, server_factory):
    """A private daemon is killed (the UI shows DISCONNECTED and stays usable), then started again on the
    same port and storage: within a few poll intervals the app is connected again without any key."""
    from tests.support.project import Project

    server = server_factory.start()
    project = Project.create(tmp_path / "p", uri=server.uri, db_name="lost")
    project.config_path.write_text(project.config_path.read_text().replace("server_selection_ms: 5000",
                                                                           "server_selection_ms: 400"))
    write_standard(project, 1)
    app = make_app(project, poll=0.5)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            assert app.connection == "connected"
            server.kill()
            await pilot.press("r")
            # While disconnected the poll keeps retrying in workers, so wait for the state, not for idle workers.
            await wait_for(pilot, lambda: app.connection == "disconnected" and isinstance(app.screen, ErrorScreen))
            assert app.connection == "disconnected"
            assert "DISCONNECTED" in header_text(app)
            await wait_for(pilot, lambda: not app.live)  # the stream failed with it: the poll retries
            assert isinstance(app.screen, ErrorScreen)
            # The refresh and the poll both failed on the lost server: one dialog says so, not one per failure.
            await wait_for(pilot, lambda: not app.busy)
            await pilot.pause()
            assert [type(s) for s in app.screen_stack].count(ErrorScreen) == 1, app.screen_stack
            await pilot.press("escape")
            await pilot.press("2", "question_mark")  # still responsive
            assert isinstance(app.screen, KeysScreen)
            assert "u" not in {row.key for row in app.screen.rows if row.enabled and row.group == "Migrate"}
            await pilot.press("escape", "1")
            server.start()  # same port, same storage
            await wait_for(pilot, lambda: app.connection == "connected")  # the poll (0.5 s) retries by itself
            await settle(app, pilot)
            assert app.connection == "connected"
            header = header_text(app)
            assert "DISCONNECTED" not in header and "1 pending" in header and "lock free" in header
            assert app.main.query_one(MigrationsTable).row_count == 1
            assert "connection restored" in log_text(app)
            # the change stream failed with the server and opens again with it: the header says live again
            await wait_until_async(lambda: app.live and "· live" in header_text(app), "the change stream again",
                                   pause=pilot.pause)
            await pilot.press("u")  # writes are allowed again
            await settle(app, pilot)
            assert isinstance(app.screen, ConfirmScreen)
    finally:
        app.shutdown_engine()


async def test_detail_screens_open_and_close(project, tui_app):
    write_standard(project)
    config = load_config(project.config_path).app(project.app)
    with engine_for(config) as engine:
        engine.upgrade(steps=1)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")
        assert isinstance(app.screen, MigrationDetailScreen)
        await settle(app, pilot)
        facts = str(app.screen.query_one("#migration-facts").render())
        assert "✓ match" in facts
        assert app.screen.query_one("#migration-audit").row_count == 1
        await pilot.press("escape")
        await pilot.press("2")
        await pilot.press("enter")
        assert isinstance(app.screen, CollectionScreen)
        await settle(app, pilot)
        await pilot.press("escape")
        await pilot.press("3", "enter")
        assert isinstance(app.screen, AuditDetailScreen)
        await pilot.press("escape")
        assert app.screen is app.main


async def test_palette_lists_rare_actions_with_keys_and_keymap_remaps(project, tui_app):
    write_standard(project)
    project.config_path.write_text(project.config_path.read_text().replace("keymap: {}",
                                                                           "keymap: {migrate-up: ctrl+u}"))
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        assert app.screen is app.main  # remapped away
        await pilot.press("ctrl+u")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"down to")
        await wait_until_async(lambda: "down to" in palette_highlight(app), "the palette to offer 'down to'",
                               pause=pilot.pause)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)


def test_event_buffer_coalesces_bursts():
    announced = []
    buffer = EventBuffer(lambda: announced.append(1), lambda: "00:00:00")
    for n in range(500):
        buffer.add("info", f"line {n}")
    assert len(announced) == 1  # one message for the whole burst
    drained = buffer.drain()
    assert len(drained.entries) == 500
    buffer.add("info", "again")
    assert len(announced) == 2
