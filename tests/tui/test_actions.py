"""The rarer keys (mark, accept, unlock, up/down to, plan, edit), the audit log's filter and pages, the live
log's controls and quitting during a step: Pilot against the real engine and the test SecantusDB."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys

from pymongo import MongoClient

from runway_tui.engine.config import load_config
from runway_tui.tui import workers
from runway_tui.tui.components.audit_pane import AuditPane, AuditTable
from runway_tui.tui.components.live_log import LiveLog
from runway_tui.tui.components.migrations_table import MigrationsTable
from runway_tui.tui.screens.confirm import ConfirmScreen
from runway_tui.tui.screens.prompt import PromptScreen
from runway_tui.tui.workers import read_newer, read_page
from tests.support.waiting import Gate, wait_until_async
from tests.tui.conftest import engine_for, settle, write_standard
from tests.tui.test_app import SIZE, header_text, log_text, states


def notifications(app) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


def rows_shown(app) -> dict[int, str]:
    """What pane 1 shows: version -> the status cell's text (mark, and the word when there is room)."""
    table = app.main.query_one(MigrationsTable)
    return {int(str(table.get_row(key)[1])): str(table.get_row(key)[0]) for key in table.rows_by_key}


def apply(project, steps: int) -> None:
    with engine_for(load_config(project.config_path).app(project.app)) as engine:
        engine.upgrade(steps=steps)


async def test_mark_applied_then_pending_asks_and_is_audited(project, tui_app):
    write_standard(project)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.main.query_one(MigrationsTable).select_version(2)
        await pilot.press("M")
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.request.title == "Mark 002 as applied?"
        await pilot.press("n")  # cancel: nothing written
        await settle(app, pilot)
        assert states(app)[2] == "pending" and app.main.query_one(AuditTable).row_count == 0
        await pilot.press("M", "y")
        await settle(app, pilot)
        assert states(app) == {1: "pending", 2: "applied", 3: "pending"}
        assert rows_shown(app)[2].startswith("✓")
        assert "marked 002_index_things as applied" in log_text(app)
        await pilot.press("P")
        assert app.screen.request.title == "Mark 002 as pending?"
        await pilot.press("y")
        await settle(app, pilot)
        assert states(app)[2] == "pending" and rows_shown(app)[2].startswith("○")
        actions = [str(app.main.query_one(AuditTable).get_row_at(i)[1]) for i in range(2)]
        assert actions == ["mark pending", "mark applied"]  # newest first


async def test_accept_drift_after_the_file_was_edited(project, tui_app):
    write_standard(project)
    apply(project, 1)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("A")  # no drift: said at once, no dialog
        assert app.screen is app.main and "has no drift" in notifications(app)
        path = project.scripts_dir / "001_create_things.py"
        path.write_text(path.read_text() + "# edited after it was applied\n")
        await pilot.press("r")
        await settle(app, pilot)
        assert "1 drift" in header_text(app) and rows_shown(app)[1].startswith("≠")
        await pilot.press("A")
        assert isinstance(app.screen, ConfirmScreen)
        assert "NOT run" in " ".join(app.screen.request.warnings)
        await pilot.press("y")
        await settle(app, pilot)
        assert "1 drift" not in header_text(app) and rows_shown(app)[1].startswith("✓")
        assert "accepted the edited file of 001_create_things" in log_text(app)
        assert str(app.main.query_one(AuditTable).get_row_at(0)[1]) == "accept drift"


async def test_unlock_on_production_needs_the_typed_name(project, tui_app, mongo_client: MongoClient):
    write_standard(project, 1)
    locks = mongo_client[project.db_name]["migrations_lock"]
    past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=1)
    locks.insert_one({"_id": "runway", "owner": "dead-runner", "user": "bob", "host": "old-box", "pid": 4242,
                      "operation": "up", "acquired_at": past, "expires_at": past, "heartbeat_at": past})
    app = tui_app(production=True, read_only=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert "held by bob@old-box for up" in header_text(app) and "(expired)" in header_text(app)
        await pilot.press("X")
        screen = app.screen
        assert isinstance(screen, ConfirmScreen) and screen.request.typed == project.db_name
        assert "bob@old-box (up, expired)" in dict(screen.request.facts)["Held by"]
        await pilot.press("y", *"wrong", "enter")
        await pilot.pause()
        assert app.screen is screen and locks.count_documents({}) == 1
        screen.query_one("#typed").value = project.db_name
        await pilot.press("enter")
        await settle(app, pilot)
        assert locks.count_documents({}) == 0
        assert "lock free" in header_text(app)
        assert "removed the lock held by bob@old-box" in log_text(app)
        await pilot.press("X")  # nothing left to remove: said at once
        assert app.screen is app.main and "no migration lock" in notifications(app)


async def test_up_to_and_down_to_a_typed_version(project, tui_app):
    write_standard(project)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("U")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("backspace", "x", "enter")  # not a number: the prompt says so and stays
        assert isinstance(app.screen, PromptScreen)
        assert "a version number" in str(app.screen.query_one("#prompt-error").render())
        await pilot.press("backspace", "2", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        facts = dict(app.screen.request.facts)
        assert facts["From version"] == "none applied" and facts["To version"] == "002"
        assert [s.split(":")[0] for s in app.screen.request.steps] == ["up 001 create_things", "up 002 index_things"]
        await pilot.press("y")
        await settle(app, pilot)
        assert states(app) == {1: "applied", 2: "applied", 3: "pending"}
        await pilot.press("D")
        await pilot.press("backspace", "backspace", "0", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.request.title.startswith("Revert 2 migrations")
        assert dict(app.screen.request.facts)["To version"] == "000"
        await pilot.press("y")
        await settle(app, pilot)
        assert states(app) == {1: "pending", 2: "pending", 3: "pending"}
        assert "version none" in header_text(app)


async def test_plan_shows_what_up_all_would_run_and_runs_nothing(project, tui_app):
    write_standard(project)
    apply(project, 1)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)  # the plan, which it can run as shown (a confirmation)
        assert app.screen.request.title == f"Plan: 'up all' would apply 2 migration(s) to {project.db_name}"
        assert ("From version", "001") in app.screen.request.facts and ("To version", "003") in app.screen.request.facts
        assert [s.split(" [")[0] for s in app.screen.request.steps] == ["up 002 index_things: Index things by name.",
                                                                         "up 003 seed_things: Seed three things."]
        assert "Nothing has run yet." in app.screen.body_text()
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is app.main and states(app) == {1: "applied", 2: "pending", 3: "pending"}


def fill_audit_log(project, mongo_client: MongoClient, count: int) -> None:
    """One real up and down through the engine, then `count` more entries cloned from them (in the log's
    own format), alternating between two users, one minute apart."""
    write_standard(project, 1)
    config = load_config(project.config_path).app(project.app)
    with engine_for(config) as engine:
        engine.upgrade(steps=1)
        engine.downgrade(steps=1)
    audit = mongo_client[project.db_name]["auditlog"]
    up, down = sorted(audit.find(), key=lambda d: d["transaction_name"], reverse=True)
    start = dt.datetime(2026, 1, 1)
    docs = []
    for n in range(count):
        doc = dict(up if n % 2 == 0 else down)
        doc.pop("_id")
        doc.update(date=start + dt.timedelta(minutes=n), user="carol" if n % 3 == 0 else "alice")
        docs.append(doc)
    audit.insert_many(docs)


def page_dates(table: AuditTable) -> list[str]:
    """Each row as one text (date, action, migration, result, duration, who): unique per entry here."""
    return [" ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]


async def test_audit_log_pages_by_key_and_filters_on_hundreds_of_entries(project, tui_app, monkeypatch,
                                                                          mongo_client: MongoClient):
    fill_audit_log(project, mongo_client, 298)  # 300 entries with the two real ones
    calls: list[tuple[int, object, str]] = []
    real_read_page = workers.read_page

    def spy(engine, limit, before=None, text=""):
        calls.append((limit, before, text))
        return real_read_page(engine, limit, before, text)

    monkeypatch.setattr(workers, "read_page", spy)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        calls.clear()
        pane, table = app.main.query_one(AuditPane), app.main.query_one(AuditTable)
        await pilot.press("3")
        assert table.row_count == 50 and pane.border_subtitle.startswith("1–50 · more")  # never counted
        pages = [page_dates(table)]
        for n in range(2, 7):
            await pilot.press("right_square_bracket")
            await settle(app, pilot)
            assert pane.border_subtitle.startswith(f"{(n - 1) * 50 + 1}–{n * 50}")
            pages.append(page_dates(table))
        assert pane.border_subtitle.startswith("251–300 of 300")  # the end is reached: the total is known
        shown = [date for page in pages for date in page]
        dates = [row[:14] for row in shown]
        assert len(set(shown)) == 300 and dates == sorted(dates, reverse=True)  # no gap, no overlap, newest first
        # every page after the first was read by key: older than the last entry shown, one more than a page
        assert len(calls) == 5 and all(before is not None and limit == 51 for limit, before, _ in calls)
        await pilot.press("right_square_bracket")  # past the end: said, nothing moves
        await settle(app, pilot)
        assert pane.border_subtitle.startswith("251–300") and "no more audit entries" in notifications(app)

        # an entry written meanwhile does not shift the older pages; it shows on the newest page
        fill_more = dict(mongo_client[project.db_name]["auditlog"].find_one({}, sort=[("date", -1)]))
        fill_more.pop("_id")
        fill_more["date"] = dt.datetime(2026, 3, 14, 9, 31)
        mongo_client[project.db_name]["auditlog"].insert_one(fill_more)
        for n in range(5, 0, -1):
            await pilot.press("left_square_bracket")
            await settle(app, pilot)
            assert page_dates(table) == pages[n - 1] or n == 1
        assert pane.border_subtitle.startswith("1–50 · more")
        assert page_dates(table)[0].startswith("03-14 09:31:00") and page_dates(table)[1:] == pages[0][:49]
        await pilot.press("left_square_bracket")  # before the first page: said, nothing moves
        await settle(app, pilot)
        assert pane.border_subtitle.startswith("1–50")

        await pilot.press("slash")
        assert app.focused is app.main.query_one("#audit-filter")
        await pilot.press(*"carol", "enter")
        await settle(app, pilot)
        assert pane.border_subtitle.startswith("1–50 · more · filter: carol")  # a filter starts at page 1
        assert {str(table.get_row_at(i)[5]).split("@")[0] for i in range(table.row_count)} == {"carol"}
        await pilot.press("right_square_bracket", "right_square_bracket")
        await settle(app, pilot)
        assert pane.border_subtitle.startswith("51–100 of 100 · filter: carol")
        assert app.focused is table
        await pilot.press("escape")  # esc in the list clears its filter
        await settle(app, pilot)
        assert pane.border_subtitle.startswith("1–50 · more ·") and "filter" not in pane.border_subtitle


def test_audit_pages_by_key_cut_ties_and_span_the_windows(project, mongo_client: MongoClient):
    """Entries sharing one date across a page boundary, and gaps older than every window: every entry once,
    newest first, whatever the page size."""
    write_standard(project, 1)
    config = load_config(project.config_path).app(project.app)
    with engine_for(config) as engine:
        engine.upgrade(steps=1)
        template = mongo_client[project.db_name]["auditlog"].find_one({})
        template.pop("_id")
        now = engine.lock.clock.now()
        dates = [now - dt.timedelta(minutes=10)] * 70  # 70 entries with the same date
        dates += [now - dt.timedelta(days=d) for d in (2, 30, 400, 4000, 20000)]  # sparse, some very old
        dates += [now - dt.timedelta(hours=3, seconds=s) for s in range(40)]
        mongo_client[project.db_name]["auditlog"].insert_many([{**template, "date": d} for d in dates])
        everything = [d["_id"] for d in mongo_client[project.db_name]["auditlog"].find().sort([("date", -1),
                                                                                                ("_id", -1)])]
        assert len(everything) == 116
        for size in (7, 50, 200):
            seen, before = [], None
            while True:
                page = read_page(engine, size, before)
                seen += [e.id for e in page]
                if len(page) < size:
                    break
                before = page[-1]
            assert seen == everything, size
        newest = read_page(engine, 5)
        assert [e.id for e in newest] == everything[:5]
        assert read_newer(engine, newest, 6) is None  # 70 entries share the newest date: too many to merge
        assert read_newer(engine, newest, 100) == []  # nothing written since (the ties are older, not newer)
        mongo_client[project.db_name]["auditlog"].insert_one({**template, "date": now})
        fresh = read_newer(engine, newest, 100)
        assert fresh is not None and [e.date for e in fresh] == [now.replace(microsecond=now.microsecond // 1000
                                                                                 * 1000)]
        assert [e.id for e in read_page(engine, 50, text="alice")] == [fresh[0].id, *everything[:49]]


async def test_live_log_follow_and_level_filter(project, tui_app):
    write_standard(project, 1)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        log = app.main.query_one(LiveLog)
        for n in range(60):
            app.log_line("warning" if n % 10 == 0 else "info", f"line {n}")
        await settle(app, pilot)
        rich_log = log.log_widget
        shown = lambda: "\n".join(strip.text for strip in rich_log.lines)  # noqa: E731
        assert "line 59" in shown() and rich_log.scroll_y == rich_log.max_scroll_y  # following: at the end
        await pilot.press("4", "f")
        assert log.border_subtitle.startswith("paused") and "live log: paused" in notifications(app)
        rich_log.scroll_home(animate=False)
        await pilot.pause()
        app.log_line("info", "arrived while paused")
        await settle(app, pilot)
        assert rich_log.scroll_y == 0 and "arrived while paused" in shown()  # kept, but the view stays
        await pilot.press("f")
        await pilot.pause()
        assert log.border_subtitle.startswith("following") and rich_log.scroll_y == rich_log.max_scroll_y
        await pilot.press("l")  # info+ -> warning+
        await pilot.pause()
        assert "warning+" in log.border_subtitle
        assert "line 10" in shown() and "line 11" not in shown() and "arrived while paused" not in shown()
        for _ in range(3):  # error+, debug+, info+
            await pilot.press("l")
        await pilot.pause()
        assert "info+" in log.border_subtitle and "line 11" in shown()


def gated_step(gate: Gate) -> str:
    """A migration (no transaction) that reports progress, then waits at the gate until the test opens it."""
    return ('"""Waits for the test, reporting progress."""\n\nversion = 1\ntransactional = False\n\n\n'
            "def upgrade(ctx):\n    ctx.progress(1, 2)\n" + gate.wait_code() + "    ctx.progress(2, 2)\n\n\n"
            "def downgrade(ctx):\n    pass\n")


async def test_quit_during_a_step_asks_and_never_leaves_the_lock(project, tui_app, mongo_client: MongoClient,
                                                                 tmp_path):
    gate = Gate(tmp_path)
    project.write_migration(1, "slow_step", gated_step(gate))
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        await pilot.press("y")
        await wait_until_async(lambda: gate.is_entered, "the step to start", pause=pilot.pause)
        await wait_until_async(lambda: "held by this session (alice@ops-1) for up" in header_text(app),
                               "the header to show who holds the lock", pause=pilot.pause)
        assert "running up 001_slow_step" in header_text(app)
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen) and app.screen.request.title == "A step is running"
        await pilot.press("y")
        await pilot.pause()
        assert app.is_running  # it waits for the step: leaving now would strand the lock and the record
        gate.open()
        await wait_until_async(lambda: not app.is_running, "the app to quit once the step ended",
                               pause=pilot.pause)
        assert app.return_code == 0
    assert mongo_client[project.db_name]["migrations_lock"].count_documents({}) == 0
    record = mongo_client[project.db_name]["migrations"].find_one({"version": 1})
    assert record is not None and record["is_applied"] is True  # the step ran to its end


async def test_quit_confirmed_after_the_step_ended_quits(project, tui_app, tmp_path):
    gate = Gate(tmp_path)
    project.write_migration(1, "slow_step", gated_step(gate))
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        await pilot.press("y")
        await wait_until_async(lambda: gate.is_entered, "the step to start", pause=pilot.pause)
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        gate.open()
        await settle(app, pilot)  # the step ends while the question is open
        assert states(app)[1] == "applied" and app.is_running
        await pilot.press("y")
        await wait_until_async(lambda: not app.is_running, "the app to quit", pause=pilot.pause)


def appending_editor(tmp_path) -> str:
    script = tmp_path / "editor.sh"
    script.write_text('#!/bin/sh\necho "# touched by the editor" >> "$1"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


async def test_edit_builds_the_editor_command(project, tui_app, tmp_path, monkeypatch):
    """App.suspend cannot hand a headless test terminal to a program, so the UI says so and shows the command;
    the test runs that command itself and checks the file changed and the app shows it (drift)."""
    write_standard(project, 1)
    apply(project, 1)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", appending_editor(tmp_path))
    path = project.scripts_dir / "001_create_things.py"
    before = path.read_text()
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        command = app.editor_command(path)
        assert command == [os.environ["EDITOR"], str(path)]
        await pilot.press("e")
        assert "cannot hand the terminal to an editor here; run:" in notifications(app)
        assert str(path) in notifications(app)
        subprocess.run(command, check=True, timeout=10)
        assert path.read_text() == before + "# touched by the editor\n"
        await pilot.press("r")
        await settle(app, pilot)
        assert "1 drift" in header_text(app) and rows_shown(app)[1].startswith("≠")
    monkeypatch.setenv("EDITOR", f"{sys.executable} -c pass")
    assert app.editor_command(path) == [sys.executable, "-c", "pass", str(path)]


async def test_forget_an_orphan_record_asks_and_is_audited(project, tui_app):
    """The TUI's own action for the CLI's `forget`: only an orphan (its file is gone), confirmed, audited."""
    write_standard(project)
    apply(project, 1)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.main.query_one(MigrationsTable).select_version(1)
        await pilot.press("F")  # its file exists: said at once, no dialog
        assert app.screen is app.main and "has its file" in notifications(app)
        (project.scripts_dir / "001_create_things.py").unlink()
        await pilot.press("r")
        await settle(app, pilot)
        app.main.query_one(MigrationsTable).select_version(1)
        await pilot.press("F")
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.request.title == "Forget the record of 001?"
        await pilot.press("y")
        await settle(app, pilot)
        assert 1 not in states(app)
        assert "forgot the record of 001_create_things" in log_text(app)
        assert str(app.main.query_one(AuditTable).get_row_at(0)[1]) == "forget"
