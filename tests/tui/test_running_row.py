"""Pane 1 while a run goes on, and its names, at the level a user sees them: the running row is marked ▶ and
followed, a step without progress shows its elapsed time (never a bar stuck at 0 %), one with progress its
rate and ETA, a step's duration reads the same in the live log, the audit log and the detail; names are
never cut first, and ctrl+w shows applied at/by across the screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import ProgressBar

from runway_tui.tui.bridge import Progress
from runway_tui.tui.components.audit_pane import AuditTable
from runway_tui.tui.components.live_log import LiveLog, progress_text
from runway_tui.tui.components.migrations_table import MigrationsTable
from tests.support.waiting import wait_until_async
from tests.tui.conftest import SEED, settle, write_standard
from tests.tui.helpers import gated, wait_for
from tests.tui.test_app import SIZE, log_text

WITH_PROGRESS = '''"""Reports half of its work, then waits until the test releases it."""
import time
from pathlib import Path

version = {v}
transactional = False


def upgrade(ctx):
    ctx.progress(5, 10)
    deadline = time.monotonic() + 60
    while not Path({gate!r}).exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def downgrade(ctx):
    pass
'''


def status_of(table: MigrationsTable, version: int) -> str:
    """The row's mark (the state word beside it depends on the width)."""
    return str(table.get_row(f"v{version}")[0])[0]


def label(app) -> str:
    return str(app.main.query_one("#progress-label").render())


async def run_to(pilot, version: int) -> None:
    await pilot.press("U", "ctrl+a", "ctrl+k", *str(version), "enter")
    await pilot.pause()
    await pilot.press("y")


async def test_the_running_row_is_marked_and_followed(project, tui_app, tmp_path):
    write_standard(project, 1)
    second, third = tmp_path / "second", tmp_path / "third"
    project.write_migration(2, "gated_two", gated(2, second))
    project.write_migration(3, "gated_three", gated(3, third))
    app = tui_app()
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            table = app.main.query_one(MigrationsTable)
            await run_to(pilot, 3)
            await wait_for(pilot, lambda: table.running is not None and table.running.version == 2
                           and status_of(table, 1) == "✓")
            assert status_of(table, 2) == "▶" and table.selected_key == "v2"  # followed from 001 to 002
            assert status_of(table, 1) == "✓" and "▶ 1 applying" in str(table.parent.border_subtitle)
            await pilot.press("k")  # the user looks elsewhere: the next step is marked, the cursor stays
            second.touch()
            await wait_for(pilot, lambda: table.running is not None and table.running.version == 3
                           and status_of(table, 2) == "✓")  # (the state read after 002's end has landed)
            assert status_of(table, 3) == "▶" and table.selected_key == "v1"
            third.touch()
            await settle(app, pilot)
            assert table.running is None and [status_of(table, v) for v in (1, 2, 3)] == ["✓", "✓", "✓"]
    finally:
        second.touch(), third.touch()  # a failed assertion must not leave the steps waiting a minute


async def test_a_step_without_progress_shows_its_elapsed_time(project, tui_app, tmp_path):
    gate = tmp_path / "release"
    project.write_migration(1, "slow", gated(1, gate))
    app = tui_app()
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("u")
            await pilot.pause()
            await pilot.press("y")
            log = app.main.query_one(LiveLog)
            await wait_for(pilot, lambda: log._progress is not None)
            assert app.main.query_one("#progress", ProgressBar).total is None  # indeterminate, not 0 %
            log.monotonic = lambda: log._progress.started + 12.34
            await wait_until_async(lambda: label(app).endswith(" 12.3 s elapsed · up 001_slow"), "the elapsed time",
                                   pause=pilot.pause)
            assert label(app)[0] in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"  # a spinner, turning while the step runs
            gate.touch()
            await settle(app, pilot)
            assert not app.main.query_one("#progress-row").display
    finally:
        gate.touch()


async def test_a_step_with_progress_shows_rate_and_eta(project, tui_app, tmp_path):
    gate = tmp_path / "release"
    project.write_migration(1, "backfill", WITH_PROGRESS.format(v=1, gate=str(gate)))
    app = tui_app()
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("u")
            await pilot.pause()
            await pilot.press("y")
            log = app.main.query_one(LiveLog)
            await wait_for(pilot, lambda: log._progress is not None and log._progress.done == 5)
            log.monotonic = lambda: log._progress.started + 2.0
            await wait_until_async(lambda: label(app) == "5/10 · 2.5/s · ETA 2.0 s · 2.0 s elapsed · up 001_backfill",
                                   "rate and ETA", pause=pilot.pause)
            bar = app.main.query_one("#progress", ProgressBar)
            assert (bar.total, bar.progress) == (10, 5)
            gate.touch()
            await settle(app, pilot)
    finally:
        gate.touch()


def test_progress_text():
    assert progress_text(Progress("up 001_a", 0, 0, 100.0), 161.0, "⠙") == "⠙ 1 min 01 s elapsed · up 001_a"
    assert progress_text(Progress("up 001_a", 0, 1000, 100.0), 100.5) == "0/1,000 · 500 ms elapsed · up 001_a"
    assert progress_text(Progress("up 001_a", 4000, 10_000, 100.0), 102.0) == \
        "4,000/10,000 · 2,000/s · ETA 3.0 s · 2.0 s elapsed · up 001_a"
    assert progress_text(Progress("up 001_a", 10, 10, 100.0), 104.0) == "10/10 · 2.5/s · 4.0 s elapsed · up 001_a"


async def test_a_steps_duration_reads_the_same_everywhere(project, tui_app, mongo_client):
    """In a transaction, with a slow commit (400 ms): the live log says the duration its record and audit
    entry say, in the same words."""
    project.write_migration(1, "seed", SEED.format(v=1))
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await pilot.pause()
        mongo_client.admin.command("configureFailPoint", "failCommand", mode={"times": 1},
                                   data={"failCommands": ["commitTransaction"], "appName": "runway-tui",
                                         "blockConnection": True, "blockTimeMS": 400})
        try:
            await pilot.press("y")
            await settle(app, pilot)
        finally:
            mongo_client.admin.command("configureFailPoint", "failCommand", mode="off")
        logged = next(line for line in log_text(app).splitlines() if "done in" in line).split("done in ")[1]
        audit = app.main.query_one(AuditTable)
        took = str(audit.get_row_at(0)[4])
        record = app.snapshot.status.rows[0].record
        assert logged == took.strip() and logged.endswith(("ms", " s"))
        await pilot.press("1", "enter")
        await settle(app, pilot)
        assert f" in {logged}" in str(app.screen.query_one("#migration-facts").render())
        assert record.duration_ms == app.engine.history(limit=1)[0].duration_ms


LONG_NAMES = ["create_customers", "customers_email_unique", "customers_loyalty_tier_backfill",
              "customers_loyalty_points_index", "orders_shipping_address_split"]


def write_long_names(project) -> None:
    for version, name in enumerate(LONG_NAMES, start=1):
        project.write_migration(version, name, f'"""{name.replace("_", " ").capitalize()}."""\nversion = {version}\n'
                                               "\n\ndef upgrade(ctx):\n    pass\n\n\ndef downgrade(ctx):\n    pass\n")


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_names_are_never_cut_first_and_ctrl_w_widens(project, tui_app, size):
    write_long_names(project)
    app = tui_app()
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await pilot.press("U", "ctrl+a", "ctrl+k", "3", "enter")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        table = app.main.query_one(MigrationsTable)
        names = [str(table.get_row(f"v{v}")[2]) for v in range(1, 6)]
        assert names == LONG_NAMES  # 003 and 005 start alike: both whole
        labels = [c.label.plain for c in table.columns.values()]
        assert len(labels) == 4 and labels[1:] == ["Ver", "Name", "Description"]  # at/by: the wide view's
        await pilot.press("ctrl+w")
        await settle(app, pilot)
        labels = [c.label.plain for c in table.columns.values()]
        assert labels[-2:] in (["Applied at (UTC)", "Applied by"], ["Applied at", "Applied by"],
                               ["Applied", "By"], ["At", "By"])
        assert [str(table.get_row(f"v{v}")[2]) for v in range(1, 6)] == LONG_NAMES
        assert str(table.get_row("v1")[5]) == "alice@ops-1" and str(table.get_row("v4")[5]) == ""
        if size[0] >= 100:  # the 2x2 grid: pane 1 spans it, pane 2 steps aside
            assert not app.main.query_one("#database-pane").display
            assert table.size.width > size[0] - 4
        await pilot.press("w")  # w as well as ctrl+w (some terminals keep ctrl+w)
        await settle(app, pilot)
        assert [c.label.plain for c in table.columns.values()][-1] == "Description"
        assert app.main.query_one("#database-pane").display


def test_no_name_in_the_standard_set_is_cut_at_120(tmp_path: Path):
    """The widths alone (no terminal): a 70-column pane holds a 31-character name beside its description."""
    from runway_tui.tui.components.columns import Column, fit
    from runway_tui.tui.components.migrations_table import GIVE_BACK, SHRINK

    columns = [Column("status", ("Status", " "), 14, compact=1), Column("version", ("Ver",), 3),
               Column("name", ("Name",), 31), Column("description", ("Description",), 40)]
    fit(columns, 68, 2, SHRINK, GIVE_BACK)
    widths = {c.key: c.width for c in columns}
    assert widths["name"] == 31 and widths["description"] >= 10 and sum(widths.values()) + 8 == 68
