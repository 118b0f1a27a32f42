"""The application switcher (`a`) probes every application read-only, and a probe runs no project code.

A production application's `app_events` handlers (a mongorunway.yaml's StartingEvent/ClosingEvent:
they typically announce a run or take a backup) must not run when someone only opens the list. Each
handler here leaves a file behind when it runs; the test then switches for real, to show that the very
same handlers do run when the application is opened.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from runway_tui.engine.config import load_config
from runway_tui.tui.app import RunwayApp
from tests.support.mongorunway_peer import host_and_port
from tests.tui.conftest import settle
from tests.tui.helpers import wait_for
from tests.tui.test_app import SIZE

HOOKS = '''"""The production application's event handlers: each leaves a file behind when it runs."""
from pathlib import Path

HERE = Path(__file__).parent


def on_start(event):
    (HERE / f"ran-start-{event.application.name}").write_text("announced a run")


def on_close(event):
    (HERE / f"ran-close-{event.application.name}").write_text("took a backup")
'''

MIGRATION = '''"""Create things."""
version = 1


def upgrade(ctx):
    ctx.database.create_collection("things")


def downgrade(ctx):
    ctx.database.drop_collection("things")
'''


# A module name of this test's own: another test's `project_hooks` may already sit in sys.modules.
HOOKS_MODULE = "switcher_probe_hooks"


def _application(name: str, uri: str, database: str, events: bool) -> str:
    host, port = host_and_port(uri)
    lines = [f"    {name}:", "      app_client:", f"        host: {host}", f"        port: {port}",
             f"      app_database: {database}", "      app_repository:", "        collection: migrations",
             "      app_auditlog_journal:", "        collection: auditlog", "      use_auditlog: true"]
    if events:
        lines += ["      app_events:", f"        StartingEvent: [{HOOKS_MODULE}.on_start]",
                  f"        ClosingEvent: [{HOOKS_MODULE}.on_close]"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def two_applications(tmp_path: Path, mongo_uri: str, db_name: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Mongorunway project: `staging` without handlers, `production` with them (its own database)."""
    monkeypatch.chdir(tmp_path)  # Mongorunway resolves scripts_dir and the handlers' modules from here
    sys.modules.pop(HOOKS_MODULE, None)
    (tmp_path / f"{HOOKS_MODULE}.py").write_text(HOOKS)
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001_create_things.py").write_text(MIGRATION)
    (tmp_path / "mongorunway.yaml").write_text(
        "mongorunway:\n  filesystem:\n    scripts_dir: migrations\n  applications:\n"
        + _application("staging", mongo_uri, db_name, events=False)
        + _application("production", mongo_uri, db_name + "_p", events=True))
    yield tmp_path
    sys.modules.pop(HOOKS_MODULE, None)


async def test_the_switcher_probe_runs_no_handler_of_another_application(two_applications: Path, mongo_client) -> None:
    from runway_tui.tui.screens.apps import AppsScreen

    config = load_config(two_applications / "mongorunway.yaml")
    app = RunwayApp(config.app("staging"), config.tui, read_only=False, poll_interval=3600, project_config=config,
                    launch_flags=(False, False))
    app.cursor_blink = False
    ran = lambda: sorted(p.name for p in two_applications.glob("ran-*"))  # noqa: E731
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("a")
            screen = app.screen
            assert isinstance(screen, AppsScreen)
            await wait_for(pilot, lambda: screen.probes["production"].server.startswith("MongoDB"))
            assert screen.probes["production"].pending == "1", screen.probes["production"]
            assert ran() == [], "opening the list ran the production application's handlers"
            await pilot.press("escape")
            await settle(app, pilot)
            assert ran() == []
            # Opening production for real runs its handlers: they were real all along.
            await pilot.press("a")
            await wait_for(pilot, lambda: app.screen.probes["production"].server.startswith("MongoDB"))
            await pilot.press("down", "enter")
            await wait_for(pilot, lambda: app.app_config.name == "production" and app.snapshot is not None)
            assert ran() == ["ran-start-production"]
    finally:
        app.shutdown_engine()
        mongo_client.drop_database(config.app("production").database)
    assert ran() == ["ran-close-production", "ran-start-production"]
