"""The whole workflow inside the TUI: what the CLI hints at has a key here, with the same safety.
Pilot against the real engine and the test SecantusDB."""

from __future__ import annotations

import contextlib
import datetime as dt

from pymongo import MongoClient

from runway_tui.engine.config import load_config
from runway_tui.engine.errors import RunwayError
from runway_tui.tui.components.migrations_table import MigrationsTable
from runway_tui.tui.screens.confirm import ConfirmScreen
from runway_tui.tui.screens.error import ErrorScreen
from tests.tui.conftest import FAILING, engine_for, settle, write_standard
from tests.tui.helpers import gated, wait_for
from tests.tui.test_app import SIZE, header_text, log_text, states


def engine(project):
    return engine_for(load_config(project.config_path).app(project.app))


async def test_the_header_follows_every_step_of_a_run(project, tui_app, tmp_path):
    write_standard(project, 2)
    gate = tmp_path / "release"
    project.write_migration(3, "gated", gated(3, gate))
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("U", "ctrl+a", "ctrl+k", "3", "enter")
        await settle(app, pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: "version 002" in header_text(app))  # while 003 still runs
        assert app.state.running_step
        gate.touch()
        await settle(app, pilot)
        assert "version 003" in header_text(app)


async def test_failed_and_broken_rows_say_why(project, tui_app):
    write_standard(project, 1)
    project.write_migration(2, "fails", FAILING.format(v=2))
    (project.scripts_dir / "003_broken.py").write_text('"""Broken."""\nversion = 3\n\ndef upgrade(ctx):\n    pass\n')
    with engine(project) as other:
        other.upgrade(steps=1)
        with contextlib.suppress(RunwayError):  # the failure is what this test wants on record
            other.upgrade(steps=1)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.main.query_one(MigrationsTable)
        cells = {int(str(table.get_row(key)[1])): str(table.get_row(key)[3]) for key in table.rows_by_key}
        assert "boom" in cells[2]  # the stored error, not the description
        assert cells[3].startswith("missing def")  # the reason the file is broken


async def test_status_filter_and_next_problem(project, tui_app):
    write_standard(project)
    (project.scripts_dir / "004_broken.py").write_text('"""Broken."""\nversion = 4\n')
    with engine(project) as other:
        other.upgrade(steps=1)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.main.query_one(MigrationsTable)
        shown = lambda: sorted(int(str(table.get_row(k)[1])) for k in table.rows_by_key)  # noqa: E731
        assert shown() == [1, 2, 3, 4]
        await pilot.press("s")
        await settle(app, pilot)
        assert shown() == [2, 3] and "pending only" in table.parent.border_subtitle
        await pilot.press("s")
        await settle(app, pilot)
        assert shown() == [4]
        await pilot.press("s")
        await settle(app, pilot)
        assert shown() == [1]
        await pilot.press("s")
        await settle(app, pilot)
        assert shown() == [1, 2, 3, 4]
        table.select_version(1)
        await pilot.press("exclamation_mark")
        await pilot.pause()
        assert table.selected_row.version == 4


async def test_drift_can_be_ignored_for_one_run_after_a_confirmation(project, tui_app, mongo_client: MongoClient):
    """Drift blocks the run it concerns (issue 18: here `d` reverts the edited 002), until ignored for one run."""
    write_standard(project)
    with engine(project) as other:
        other.upgrade(steps=2)
    path = project.scripts_dir / "002_index_things.py"
    path.write_text(path.read_text() + "# edited after it was applied\n")
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ConfirmScreen) and screen.request.title.startswith("Refusing to run down")
        assert screen.request.confirm_label == "Run ignoring drift"
        await pilot.press("y")  # the override's own dialog: this run only
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen) and "[ignored]" in " ".join(app.screen.request.warnings)
        await pilot.press("y")
        await settle(app, pilot)
        assert states(app)[2] == "pending"
        assert "drift" in header_text(app)  # ignored for that run only: still there


async def test_drift_elsewhere_is_a_warning_in_the_confirmation(project, tui_app):
    """Issue 18: drift on 001 no longer holds up `u` of 003; the confirmation shows it as a warning."""
    write_standard(project)
    with engine(project) as other:
        other.upgrade(steps=2)
    path = project.scripts_dir / "001_create_things.py"
    path.write_text(path.read_text() + "# edited after it was applied\n")
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ConfirmScreen) and screen.request.title.startswith("Apply 1 migration")
        warnings = " ".join(screen.request.warnings)
        assert "001_create_things (version 1) was changed after it was applied" in warnings
        assert "not part of this run" in warnings and "select 001 and press A (accept drift)" in warnings
        await pilot.press("y")
        await settle(app, pilot)
        assert states(app)[3] == "applied"


async def test_out_of_order_can_be_applied_after_a_confirmation(project, tui_app):
    write_standard(project)
    with engine(project) as other:
        other.upgrade(steps=1)
        other.mark(3, applied=True)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen) and "out of order" in app.screen.request.confirm_label.lower()
        await pilot.press("y")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        assert states(app) == {1: "applied", 2: "applied", 3: "applied"}


async def test_force_unlock_of_a_live_lease_is_typed_on_production(project, tui_app, mongo_client: MongoClient):
    write_standard(project, 1)
    future = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1)
    mongo_client[project.db_name]["migrations_lock"].insert_one(
        {"_id": "runway", "owner": "live-runner", "user": "bob", "host": "box", "pid": 4242, "operation": "up",
         "acquired_at": future, "expires_at": future, "heartbeat_at": future})
    app = tui_app(production=True, read_only=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("X")
        screen = app.screen
        assert isinstance(screen, ConfirmScreen) and screen.request.typed == project.db_name
        assert "LIVE" in " ".join(screen.request.warnings) and screen.request.confirm_label == "Force unlock"
        screen.query_one("#typed").value = project.db_name
        await pilot.press("enter")
        await settle(app, pilot)
        assert mongo_client[project.db_name]["migrations_lock"].count_documents({}) == 0
        entry = mongo_client[project.db_name]["auditlog"].find_one()
        assert entry["transaction_name"] == "ForceUnlockTransaction"


async def test_esc_cancels_a_lock_wait(project, tui_app, mongo_client: MongoClient):
    write_standard(project, 1)
    project.config_path.write_text(project.config_path.read_text().replace("lock_wait_s: 5", "lock_wait_s: 60"))
    future = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1)
    mongo_client[project.db_name]["migrations_lock"].insert_one(
        {"_id": "runway", "owner": "live-runner", "user": "bob", "host": "box", "pid": 4242, "operation": "up",
         "acquired_at": future, "expires_at": future, "heartbeat_at": future})
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: "waiting for the migration lock" in log_text(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.busy is None)
        await settle(app, pilot)
        assert states(app)[1] == "pending" and "cancelled" in log_text(app)
        assert not isinstance(app.screen, ErrorScreen)
        assert log_text(app).count("warning waiting for the migration lock") == 1  # once, then the header


async def test_repair_dialogs_name_the_migration(project, tui_app):
    write_standard(project)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.main.query_one(MigrationsTable).select_version(2)
        await pilot.press("M")
        assert dict(app.screen.request.facts)["Migration"] == "002 index_things: Index things by name."
        await pilot.press("n")


async def test_switch_application_without_restarting(project, mongo_client: MongoClient):
    from runway_tui.tui.app import RunwayApp
    from runway_tui.tui.screens.apps import AppsScreen

    write_standard(project)
    other_db = project.db_name + "_other"
    mongo_client.drop_database(other_db)
    text = project.config_path.read_text()
    block = text[text.index("  test:\n"):text.index("tui:")]
    project.config_path.write_text(text.replace("tui:", block.replace("  test:\n", "  other:\n").replace(
        f"database: {project.db_name}", f"database: {other_db}").replace("production: false", "production: true")
        + "tui:", 1))
    with engine(project) as first:
        first.upgrade(steps=1)
    config = load_config(project.config_path)
    app = RunwayApp(config.app("test"), config.tui, read_only=False, poll_interval=3600, project_config=config,
                    launch_flags=(False, False))
    app.cursor_blink = False
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            assert "version 001" in header_text(app)
            await pilot.press("a")
            screen = app.screen
            assert isinstance(screen, AppsScreen)
            await wait_for(pilot, lambda: screen.probes["other"].server.startswith("MongoDB"))
            assert screen.probes["other"].pending == "3" and screen.probes["other"].version == "none"
            assert screen.probes["test"].version == "001"
            await wait_for(pilot, lambda: app.live)
            first_watch = app._watch_done
            await pilot.press("down", "enter")
            await wait_for(pilot, lambda: app.app_config.name == "other" and app.snapshot is not None)
            await wait_for(pilot, first_watch.is_set)  # the first application's watch has left
            await wait_for(pilot, lambda: app.live and app._watch_done is not first_watch)  # the new one's
            await settle(app, pilot)
            header = header_text(app)
            assert other_db in header and "version none" in header and "3 pending" in header
            assert app.read_only and "READ-ONLY" in header  # production without --write: the same rule
            assert "switching to other" in log_text(app)
    finally:
        app.shutdown_engine()
        mongo_client.drop_database(other_db)


async def test_search_in_the_live_log(project, tui_app):
    from runway_tui.tui.components.live_log import LiveLog

    write_standard(project)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        live = app.main.query_one(LiveLog)
        await pilot.press("4", "slash", *"connected")
        await pilot.pause()
        shown = " ".join(str(line.text) for line in live.log_widget.lines)  # wrapped lines joined
        assert "connected: MongoDB" in shown and "opening" not in shown
        assert "connected" in live.border_subtitle
        await pilot.press("enter", "escape")  # keep it, then esc in the pane clears it
        await pilot.pause()
        assert live.text_filter == "" and any("opening" in str(line.text) for line in live.log_widget.lines)
