"""`u` confirmed while another operator's `up --steps 2` holds the lock (issue 18): after the wait the TUI says who
moved the database to what, that nothing ran, and the fresh plan; it never proposes to go down."""

from __future__ import annotations

import subprocess

from runway_tui.tui.screens.confirm import ConfirmScreen
from tests.engine.helpers import data_migration, migration, open_app
from tests.reliability.helpers import spawn_cli
from tests.support.waiting import Gate, wait_until_async
from tests.tui.conftest import settle
from tests.tui.helpers import notifications
from tests.tui.test_app import SIZE, log_text, states


async def test_a_confirmed_step_overtaken_while_waiting_names_the_other_operator_and_never_says_down(
        project, tui_app, tmp_path):
    gate = Gate(tmp_path)
    project.write_migration(1, "m1", data_migration(1))
    project.write_migration(2, "m2", migration(2, up=gate.wait_code(indent=0)))
    project.write_migration(3, "m3", data_migration(3))
    project.write_migration(4, "m4", data_migration(4))
    with open_app(project) as engine:
        engine.upgrade(steps=1)
    app = tui_app()
    other = None
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("u")
            await settle(app, pilot)
            assert isinstance(app.screen, ConfirmScreen)
            assert dict(app.screen.request.facts)["Migration"].startswith("002")
            other = spawn_cli(project, "up", "--steps", "2")  # the other operator, in another terminal
            gate.wait_entered()
            await pilot.press("y")
            await wait_until_async(lambda: app.state.lock_wait, "the TUI's run to wait for the other's lock",
                                   pause=pilot.pause)
            gate.open()
            await wait_until_async(lambda: app.busy is None and "database moved" in log_text(app),
                                   "the run's outcome", pause=pilot.pause, timeout=60)
            await settle(app, pilot)
            shown = log_text(app) + "\n" + notifications(app)
            assert "applied 002, 003" in shown and "now at 003" in shown, shown
            assert "nothing was run" in shown and "fresh plan: up 004_m4" in shown, shown
            assert f"(pid {other.pid}, cli)" in shown
            assert "down to version" not in shown and "D (" not in shown and "revert" not in shown, shown
            assert states(app)[4] == "pending"
    finally:
        gate.open()
        if other is not None:
            try:
                other.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                other.kill()
                other.communicate()
