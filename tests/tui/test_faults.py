"""Faults an operator meets, and the one key (or none) that recovers from each: a plan that fails, a server
that is not there at start, a bad $EDITOR, the embedded daemon killed. Pilot, real engine, real servers."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from runway_tui.tui.components.migrations_table import MigrationsTable
from runway_tui.tui.screens.confirm import ConfirmScreen
from runway_tui.tui.screens.prompt import PromptScreen
from tests.support.project import Project
from tests.support.server import free_port
from tests.tui.conftest import make_app, settle, write_standard
from tests.tui.helpers import toasts, wait_for
from tests.tui.test_app import SIZE, header_text, log_text


def fast_failing(project: Project) -> None:
    project.config_path.write_text(project.config_path.read_text().replace("server_selection_ms: 5000",
                                                                           "server_selection_ms: 300"))


async def test_a_failed_plan_leaves_the_app_usable(project, tui_app):
    write_standard(project)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("U")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("ctrl+a", "ctrl+k", *"50", "enter")  # beyond the last version
        await settle(app, pilot)
        assert app.busy is None and "planning" not in header_text(app)
        assert "version 50 does not exist" in log_text(app)
        await pilot.press("escape")  # the error dialog
        await pilot.press("u")  # keys work again
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)


async def test_a_failed_plan_down_above_current_leaves_the_app_usable(project, tui_app):
    write_standard(project)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        await pilot.press("D")
        await pilot.press("ctrl+a", "ctrl+k", "3", "enter")  # above the current version 1
        await settle(app, pilot)
        assert app.busy is None and "above the current version" in log_text(app)
        await pilot.press("escape", "p")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen) and app.screen.request.title.startswith("Plan")


async def test_unreachable_at_start_shows_the_files_and_one_message(tmp_path):
    project = Project.create(tmp_path / "p", uri=f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
                             db_name="nowhere")
    fast_failing(project)
    write_standard(project)
    app = make_app(project, poll=0.2)
    # Every change of the connection state, as it happens: a retry's "connecting" may last less than one
    # look at the app on a loaded machine, so the test counts transitions instead of sampling the state.
    seen: list[str] = []
    change_state = app.set_state

    def recording(state) -> None:
        change_state(state)
        if not seen or seen[-1] != app.connection.value:
            seen.append(app.connection.value)

    def retries() -> int:
        after = seen[seen.index("disconnected"):] if "disconnected" in seen else []
        return sum(1 for a, b in zip(after, after[1:], strict=False) if (a, b) == ("connecting", "disconnected"))

    app.set_state = recording  # type: ignore[method-assign]
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.connection == "disconnected")
            table = app.main.query_one(MigrationsTable)
            await wait_for(pilot, lambda: table.row_count == 3)  # the files need no server
            assert table.offline and str(table.get_row_at(0)[0]).endswith("unknown")
            await wait_for(pilot, lambda: retries() >= 3 and app.connection == "disconnected")  # the poll retries
            assert app.screen is app.main  # no dialog, let alone one per retry
            assert sum("Cannot connect" in n for n in toasts(app)) == 1
            assert log_text(app).count("cannot reach the server") == 1
            await pilot.press("escape", "2", "1")  # keys work
            assert app.focused is table
            await pilot.press("q")
            await pilot.pause()
        assert app.return_value == 0
    finally:
        app.shutdown_engine()


async def test_a_bad_editor_is_one_message_and_the_app_keeps_working(project, tui_app, monkeypatch):
    write_standard(project)
    monkeypatch.setenv("EDITOR", "/nonexistent/editor --wait")
    monkeypatch.delenv("VISUAL", raising=False)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("e")
        await pilot.pause()
        assert any("cannot open the editor" in n and "/nonexistent/editor" in n for n in toasts(app))
        await pilot.press("u")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)


def daemon_pid(project: Project) -> int | None:
    path = project.root / ".runway" / "embedded" / "daemon.json"
    return json.loads(path.read_text())["pid"] if path.exists() else None


def is_process(pid: int) -> bool:
    """Alive or a zombie: both still have a /proc entry."""
    return Path(f"/proc/{pid}").exists()


async def test_killed_embedded_daemon_is_reaped_and_restarted(tmp_path):
    project = Project.create(tmp_path / "p", uri="embedded", db_name="embedded_tui")
    fast_failing(project)
    write_standard(project, 1)
    app = make_app(project, poll=0.3)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot, timeout=40)
            assert app.connection == "connected"
            old = daemon_pid(project)
            assert old is not None and is_process(old)
            os.kill(old, signal.SIGKILL)
            await wait_for(pilot, lambda: app.connection != "connected")
            await pilot.press("escape", "r")
            await wait_for(pilot, lambda: app.connection == "connected" and daemon_pid(project) not in (None, old),
                           timeout=40)
            assert not is_process(old)  # reaped: no zombie left behind
            await settle(app, pilot)
            assert "1 pending" in header_text(app)
    finally:
        app.shutdown_engine()
    pid = daemon_pid(project)
    assert pid is None or not is_process(pid)  # the last user left: the daemon we started is stopped


async def test_what_lands_while_the_app_closes_is_dropped_not_a_crash(project, tui_app):
    """A worker's message or a timer can land after Textual popped every screen (seen under load: a step's
    end, then the grey-keys timer, failed on the missing main screen). Each is dropped; the state is kept."""
    from dataclasses import replace

    from runway_tui.tui.messages import OperationFinished
    from runway_tui.tui.state import Activity, Busy, OperationName

    write_standard(project)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
    assert not app.screen_stack  # closed: nothing left to show on
    busy = replace(app.state, busy=Busy(Activity.RUNNING, "running up"))
    app.set_state(busy)
    app._show_keys_state()
    app.update_header()
    app._operation_finished(OperationFinished(OperationName.UP, summary="late"))
    assert app.state == busy
