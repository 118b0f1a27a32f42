"""Safety as an operator sees it: a confirmation runs exactly what it showed, read-only hides every write
(editing included). Pilot against the real engine and the test SecantusDB; the "other operator" is a
second engine on the same database."""

from __future__ import annotations

import pytest

from runway_tui.engine.config import load_config
from runway_tui.engine.errors import DatabaseMovedError
from runway_tui.engine.planner import Expected
from runway_tui.tui.screens.confirm import ConfirmScreen
from runway_tui.tui.screens.keys import KeysScreen
from tests.tui.conftest import engine_for, settle, write_standard
from tests.tui.helpers import notifications
from tests.tui.test_app import SIZE, log_text, states


def other_operator(project):
    return engine_for(load_config(project.config_path).app(project.app))


async def test_up_confirmation_binds_to_the_version_it_showed(project, tui_app):
    write_standard(project)
    with other_operator(project) as engine:
        engine.upgrade(steps=2)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        facts = dict(app.screen.request.facts)
        assert (facts["From version"], facts["To version"]) == ("002", "003")
        with other_operator(project) as engine:
            engine.downgrade(steps=1)  # now at 001: "up to 003" would run 002 and 003
        await pilot.press("y")
        await settle(app, pilot)
        assert states(app) == {1: "applied", 2: "pending", 3: "pending"}  # nothing unconfirmed ran
        assert "database moved" in log_text(app) and "database moved" in notifications(app)
        assert app.screen is app.main and app.busy is None
        await pilot.press("u")  # a fresh dialog, from where the database is now
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        facts = dict(app.screen.request.facts)
        assert (facts["From version"], facts["To version"]) == ("001", "002")


async def test_down_confirmation_binds_to_the_version_it_showed(project, tui_app):
    write_standard(project)
    with other_operator(project) as engine:
        engine.upgrade(steps=2)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert dict(app.screen.request.facts)["Migration"].startswith("002")
        with other_operator(project) as engine:
            engine.upgrade(steps=1)  # now at 003: "down to 001" would revert 003 and 002
        await pilot.press("y")
        await settle(app, pilot)
        assert states(app) == {1: "applied", 2: "applied", 3: "applied"}
        assert "database moved" in log_text(app)
        await pilot.press("d")
        await settle(app, pilot)
        assert dict(app.screen.request.facts)["Migration"].startswith("003")


def test_engine_refuses_a_moved_database_under_the_lock(project):
    write_standard(project)
    with other_operator(project) as engine:
        engine.upgrade(steps=2)
        with pytest.raises(DatabaseMovedError, match="nothing was run"):
            engine.upgrade(to=3, expect=Expected(1, (2, 3)))
        with pytest.raises(DatabaseMovedError):
            engine.downgrade(to=0, expect=Expected(2, (2,)))
        assert engine.status().current_version == 2
        assert engine.upgrade(to=3, expect=Expected(2, (3,))).current_version == 3


async def test_read_only_hides_and_refuses_editing(project, tui_app, monkeypatch, tmp_path):
    write_standard(project)
    marker = tmp_path / "editor-ran"
    editor = tmp_path / "editor.sh"
    editor.write_text(f"#!/bin/sh\ntouch {marker}\n")
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.delenv("VISUAL", raising=False)
    app = tui_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        keys = {ab.binding.id for ab in app.main.active_bindings.values()}
        assert "edit-migration" not in keys
        await pilot.press("e")
        await pilot.pause()
        app.edit_selected()  # what a palette entry or a remapped key would call
        await pilot.pause()
        assert "read-only" in notifications(app)
        assert not marker.exists()
        await pilot.press("question_mark")
        assert isinstance(app.screen, KeysScreen)
        assert "Edit" not in {row.description for row in app.screen.rows}


async def test_a_key_that_does_nothing_says_why(project, tui_app):
    write_standard(project)
    app = tui_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await pilot.pause()
        assert "read-only: this would write" in notifications(app)
        await pilot.press("e")
        await pilot.pause()
        assert "files are not edited" in notifications(app)
