"""Pane 3 for an incident review, at the level a user sees it: it stays live during a run of several steps,
filters by time window, user and action, exports what it shows (JSON, CSV) and says where, and shows the
state at a moment. Pilot against the real engine and the test SecantusDB."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json

import pytest

from runway_tui.engine.config import load_config
from runway_tui.engine.errors import StepFailedError
from runway_tui.tui.components.audit_pane import AuditPane, AuditTable
from runway_tui.tui.screens.prompt import PromptScreen
from runway_tui.tui.screens.state_at import StateAtScreen
from tests.engine.test_history_filters import act, idempotent
from tests.support.waiting import wait_until_async
from tests.tui.conftest import FIXED_NOW, engine_for, settle, write_standard
from tests.tui.helpers import gated, notifications, wait_for
from tests.tui.test_app import SIZE, header_text, log_text

EARLY = FIXED_NOW - dt.timedelta(hours=6)  # 03:30, the TUI's clock says 09:30


def at(hours: float) -> dt.datetime:
    return EARLY + dt.timedelta(hours=hours)


def rows(app) -> list[list[str]]:
    table = app.main.query_one(AuditTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


@pytest.fixture
def reviewed(project):
    """alice up 001 (03:30), bob up 002 (04:30), alice mark 002 pending (05:30), carol up 002 (06:30), bob up
    003 (07:30), and a step by carol (08:30) whose error reads like a spreadsheet formula."""
    for version in (1, 2, 3):
        project.write_migration(version, f"m{version}", idempotent(version))
    project.write_migration(4, "fails", '"""Fails."""\nversion = 4\ntransactional = False\n\n\ndef upgrade(ctx):\n'
                                        '    raise RuntimeError("=HYPERLINK(\\"http://x\\")")\n\n\n'
                                        'def downgrade(ctx):\n    pass\n')
    with engine_for(load_config(project.config_path).app(project.app)) as other:
        act(other, at(0), "alice", lambda: other.upgrade())
        act(other, at(1), "bob", lambda: other.upgrade())
        act(other, at(2), "alice", lambda: other.mark(2, applied=False))
        act(other, at(3), "carol", lambda: other.upgrade())
        act(other, at(4), "bob", lambda: other.upgrade())
        with contextlib.suppress(StepFailedError):  # the failure is what this data set wants on record
            act(other, at(5), "carol", lambda: other.upgrade())
    return project


async def test_the_audit_pane_shows_each_step_of_a_run_as_it_lands(project, tui_app, tmp_path):
    write_standard(project, 2)
    gate = tmp_path / "release"
    project.write_migration(3, "gated", gated(3, gate))
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert rows(app) == []
        await pilot.press("U", "ctrl+a", "ctrl+k", "3", "enter")
        await settle(app, pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: "version 002" in header_text(app))
        await wait_until_async(lambda: len(rows(app)) == 2, "the entries of 001 and 002 while 003 runs",
                               pause=pilot.pause)
        assert app.state.running_step
        assert [row[2] for row in rows(app)] == ["002_index_things", "001_create_things"]
        gate.touch()
        await settle(app, pilot)
        assert [row[2] for row in rows(app)] == ["003_gated", "002_index_things", "001_create_things"]


async def test_filter_by_window_user_and_action(reviewed, tui_app):
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert len(rows(app)) == 6
        await pilot.press("3", "slash")
        await pilot.press(*"since:2026-03-14T04:00 user:bob action:up", "enter")
        await settle(app, pilot)
        assert [(r[0][-8:], r[1], r[2]) for r in rows(app)] == [("07:30:00", "up", "003_m3"),
                                                                   ("04:30:00", "up", "002_m2")]
        subtitle = str(app.main.query_one(AuditPane).border_subtitle)
        assert subtitle == "1–2 of 2 · filter: since:2026-03-14T04:00 user:bob action:… · [ ] page"
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"since:3h", "enter")  # before the server's now (09:30)
        await settle(app, pilot)
        assert [r[0][-8:] for r in rows(app)] == ["08:30:00", "07:30:00", "06:30:00"]
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"action:mark until:05:00", "enter")
        await settle(app, pilot)
        assert "audit filter: until: expected an ISO 8601 time" in notifications(app)
        assert app.focused is app.main.query_one("#audit-filter")  # stays open to be corrected
        assert len(rows(app)) == 3  # the last good filter's page stays
        await pilot.press("ctrl+a", "ctrl+k", *"action:mark", "enter")
        await settle(app, pilot)
        assert [(r[1], r[-1].split("@")[0]) for r in rows(app)] == [("mark pending", "alice")]


async def test_export_saves_what_the_pane_shows_and_says_where(reviewed, tui_app):
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("3", "x")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("enter")  # the name offered: in the project's folder, as the prompt says
        await settle(app, pilot)
        saved = reviewed.root / "audit-test-20260314-093000.json"
        assert f"Saved 6 audit entries to {saved}" in notifications(app)
        assert f"exported 6 audit entries to {saved}" in log_text(app)
        data = json.loads(saved.read_text())
        assert data["application"] == "test" and data["count"] == 6 and data["filter"] == ""
        assert [(e["user"], e["transaction_name"]) for e in data["entries"]][:2] == [
            ("carol", "UpgradeTransaction"), ("bob", "UpgradeTransaction")]
        assert data["entries"][0]["exc_message"] == '=HYPERLINK("http://x")'  # JSON keeps the exact text

        await pilot.press("slash", *"user:carol", "enter")
        await settle(app, pilot)
        await pilot.press("x", "ctrl+a", "ctrl+k", *"review.csv", "enter")
        await settle(app, pilot)
        with (reviewed.root / "review.csv").open(newline="") as handle:
            table = list(csv.DictReader(handle))
        assert [(r["action"], r["migration"], r["user"], r["result"]) for r in table] == [
            ("up", "004_fails", "carol", "RuntimeError"), ("up", "002_m2", "carol", "ok")]
        assert table[0]["error"] == "'=HYPERLINK(\"http://x\")"  # never a formula in the reviewer's spreadsheet
        assert table[0]["date"] == "2026-03-14T08:30:00Z"

        await pilot.press("x", "ctrl+a", "ctrl+k", *"review.csv", "enter")  # never replaces a file
        assert isinstance(app.screen, PromptScreen)
        assert "review.csv exists; choose another name" in str(app.screen.query_one("#prompt-error").render())
        await pilot.press("ctrl+a", "ctrl+k", *"review.txt", "enter")
        assert "end the name with .json or .csv" in str(app.screen.query_one("#prompt-error").render())
        await pilot.press("escape")


async def test_state_at_the_selected_entry_read_only(reviewed, tui_app):
    app = tui_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("3", "j", "j", "j")  # the mark pending, 05:30
        assert app.main.query_one(AuditTable).selected_entry.transaction_name == "MarkPendingTransaction"
        await pilot.press("t")
        assert isinstance(app.screen, PromptScreen)
        assert app.screen.query_one("#prompt-input").value == "2026-03-14T05:30:00.000"  # the entry itself counts
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, StateAtScreen)
        await wait_until_async(lambda: screen.state is not None, "the state at 05:30", pause=pilot.pause)
        table = screen.query_one("#state-at-table")
        shown = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert [(r[0], r[1], r[2], r[3], r[5]) for r in shown] == [
            ("001", "m1", "applied", "applied", "up"), ("002", "m2", "pending", "≠ applied", "mark pending")]
        summary = str(screen.query_one("#state-at-summary").render())
        assert summary == "version 001 then · 1 applied · 1 differ from now (marked)"
        await pilot.press("escape")
        assert app.screen is app.main
        await pilot.press("t", "ctrl+a", "ctrl+k", *"last week", "enter")
        assert "expected an ISO 8601 time" in str(app.screen.query_one("#prompt-error").render())
