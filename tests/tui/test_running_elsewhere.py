"""A TUI watching another runner's step shows it running, not failed (issue 18): pane 1's row says `running` and
the header counts `1 running`; once that runner is killed, the same row says `interrupted` and no longer running."""

from __future__ import annotations

import subprocess

import pytest

from runway_tui.tui.components.migrations_table import MigrationsTable
from tests.engine.helpers import migration
from tests.reliability.helpers import spawn_cli
from tests.support.waiting import Gate, wait_until_async
from tests.tui.conftest import settle
from tests.tui.test_app import SIZE, header_text


def row_status(app, version: int = 1) -> str:
    """Pane 1's status cell: its mark (▶ running, ↯ interrupted, × failed), and its word when there is room."""
    table = app.main.query_one(MigrationsTable)
    key = f"v{version}"
    return str(table.get_row(key)[0]) if key in table.rows_by_key else ""


@pytest.fixture
def other_runner(project, tmp_path):
    """`up` in another process, held inside step 001 (no transaction: its record says `applying`)."""
    gate = Gate(tmp_path)
    project.write_migration(1, "long_backfill", migration(1, up=gate.wait_code(indent=0), transactional=False))
    runner = spawn_cli(project, "up")
    gate.wait_entered()
    yield runner, gate
    gate.open()
    if runner.poll() is None:
        try:
            runner.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            runner.kill()
            runner.communicate()


async def test_another_runners_step_is_running_in_pane_1_and_the_header(project, tui_app, other_runner):
    runner, gate = other_runner
    app = tui_app(poll=0.5)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await wait_until_async(lambda: row_status(app).startswith("▶"), "pane 1 to show 001 running",
                               pause=pilot.pause)
        header = header_text(app)
        assert "1 running" in header and "failed" not in header, header
        assert app.snapshot.status.rows[0].state == "running"

        runner.kill()  # SIGKILL: its record still says `applying`, its lease is unexpired
        runner.communicate(timeout=30)
        await wait_until_async(lambda: row_status(app).startswith("↯"), "pane 1 to show 001 interrupted",
                               pause=pilot.pause)
        header = header_text(app)
        assert "1 interrupted" in header and "running" not in header.split("·")[1], header
