"""The TUI on a project made and migrated by Mongorunway 1.0.7a0 itself: found from its `mongorunway.yaml`
(no runway.yaml, no --config), the true state after Mongorunway's own upgrade, one step up and one down with
its format's files (custom command and business rule in the project's package), and Mongorunway reading the
result afterwards."""

from __future__ import annotations

from pymongo import MongoClient

from runway_tui.engine.config import load_config
from runway_tui.tui.app import RunwayApp
from runway_tui.tui.screens.confirm import ConfirmScreen
from tests.support.mongorunway_files import write_mongorunway_project
from tests.support.mongorunway_peer import MongorunwayProject
from tests.tui.conftest import ADDRESS, engine_for, fixed_clock, settle
from tests.tui.test_app import header_text, states


def _ok(result) -> str:
    text = result.stdout + result.stderr
    assert result.returncode == 0 and "Traceback" not in text, text
    return text


async def test_the_tui_opens_a_mongorunway_project_and_steps_both_ways(mongorunway_project: MongorunwayProject,
                                                                      mongo_client: MongoClient,
                                                                      monkeypatch) -> None:
    project = mongorunway_project
    write_mongorunway_project(project.migrations)
    _ok(project.run("refresh", "test"))
    _ok(project.run("upgrade", "test", "+1"))  # Mongorunway applies 001 itself
    monkeypatch.chdir(project.root)
    monkeypatch.delenv("RUNWAY_CONFIG", raising=False)
    config = load_config()  # what the TUI launch does with no --config: Mongorunway's file is found
    assert config.path.name == "mongorunway.yaml"
    app_config = config.app("test")
    app = RunwayApp(app_config, config.tui, read_only=False, clock=fixed_clock, address=ADDRESS,
                    poll_interval=3600, engine_factory=lambda: engine_for(app_config))
    app.cursor_blink = False
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(app, pilot)
            assert states(app) == {1: "applied", 2: "pending", 3: "pending", 4: "pending"}
            assert "001" in header_text(app)
            await pilot.press("u")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("y")
            await settle(app, pilot)
            assert states(app)[2] == "applied"
            assert mongo_client[project.database]["items"].count_documents({}) == 3  # 002 seeds three items
            await pilot.press("d")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("y")
            await settle(app, pilot)
            assert states(app) == {1: "applied", 2: "pending", 3: "pending", 4: "pending"}
    finally:
        app.shutdown_engine()
    assert "Current applied version is 1 (1 of 4)" in _ok(project.run("version", "test"))
    _ok(project.run("auditlog", "test", "-l", "10"))
    _ok(project.run("upgrade", "test", "all"))  # and Mongorunway carries on from there
    assert "Current applied version is 4 (4 of 4)" in _ok(project.run("version", "test"))
