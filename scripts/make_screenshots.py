"""Regenerate screenshots/*.svg from a scripted session of the real app (`make screenshots`).

The session runs on the embedded database with a *copy* of the sample project (so your own demo
database under .runway/ is untouched). For stable pictures the clock, the operator identity
and the shown address are fixed; everything else, measured durations included, is the real engine.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runway_tui.engine.app import MigrationApp  # noqa: E402
from runway_tui.engine.config import AppConfig, load_config  # noqa: E402
from runway_tui.engine.events import StepProgressEvent  # noqa: E402
from runway_tui.tui.app import RunwayApp  # noqa: E402
from runway_tui.tui.components.migrations_table import MigrationsTable  # noqa: E402
from runway_tui.tui.state import Reason  # noqa: E402

OUT = ROOT / "screenshots"
NOW = dt.datetime(2026, 3, 14, 9, 30, 0)
ADDRESS = "embedded (.runway/embedded)"
PAUSE_AT_VERSION = 3  # the batched backfill: the "step in progress" picture is taken mid-way


def clock() -> dt.datetime:
    return NOW


class StepGate:
    """Holds the backfill's worker thread at its first progress report until the picture is taken."""

    def __init__(self) -> None:
        self.paused = threading.Event()
        self.resume = threading.Event()

    def __call__(self, event: StepProgressEvent) -> None:
        step = event.step
        if (step is not None and step.version == PAUSE_AT_VERSION and 0 < event.done < event.total
                and not self.paused.is_set()):
            self.paused.set()
            self.resume.wait(timeout=60)


def make_app(app_config: AppConfig, tui, read_only: bool) -> RunwayApp:
    def factory() -> MigrationApp:
        engine = MigrationApp(app_config, read_only=read_only, clock=clock)
        engine.user, engine.host = "ana", "laptop"
        engine.lock.user, engine.lock.host = engine.user, engine.host  # shown in the header while a step runs
        return engine

    app = RunwayApp(app_config, tui, read_only=read_only, clock=clock, address=ADDRESS, poll_interval=3600,
                    engine_factory=factory)
    app.cursor_blink = False
    return app


async def settle(app: RunwayApp, pilot, timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        await pilot.pause()
        waiting = app.screen is not app.main
        if not app.working() and app.snapshot is not None and (not app.busy or waiting):
            await pilot.pause(0.2)
            if not app.working():
                return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the app did not settle (busy: {app.busy})")


def shot(app: RunwayApp, name: str) -> None:
    app.save_screenshot(f"{name}.svg", path=str(OUT))
    print(f"screenshots/{name}.svg")


async def write_session(app: RunwayApp, gate: StepGate) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        for _ in range(2):  # apply 001 and 002 through the UI, confirming each
            await pilot.press("u")
            await settle(app, pilot)
            await pilot.press("y")
            await settle(app, pilot)
        assert app.engine is not None
        app.reload(Reason.USER)
        await settle(app, pilot)
        app.main.query_one(MigrationsTable).select_version(3)
        app.clear_notifications()
        await pilot.pause(0.2)
        shot(app, "main")
        await pilot.press("ctrl+w")  # pane 1 across the screen, with applied at/by
        await settle(app, pilot)
        await pilot.pause(0.2)
        shot(app, "wide")
        await pilot.press("ctrl+w")
        await settle(app, pilot)

        await pilot.press("u")
        await settle(app, pilot)
        shot(app, "confirm")

        app.engine.subscribe(gate, StepProgressEvent)  # after the UI's own handler: the UI sees the event first
        await pilot.press("y")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while not gate.paused.is_set() and loop.time() < deadline:
            await asyncio.sleep(0.05)
        await pilot.pause(0.5)
        shot(app, "step_in_progress")
        gate.resume.set()
        await settle(app, pilot)
        app.reload(Reason.USER)
        await settle(app, pilot)

        app.clear_notifications()
        app.main.query_one(MigrationsTable).select_version(3)
        await pilot.press("1", "enter")
        await settle(app, pilot)
        await pilot.pause(0.3)
        shot(app, "detail")
        await pilot.press("escape")

        await pilot.press("question_mark")
        await pilot.pause(0.3)
        shot(app, "keys")
        await pilot.press("escape")

        await pilot.press("3", "j", "t", "enter")  # the state right after the second entry, from the audit log
        await settle(app, pilot)
        await pilot.pause(0.3)
        shot(app, "state_at")
        await pilot.press("escape", "1")
        await explorer_session(app, pilot)


async def explorer_session(app: RunwayApp, pilot) -> None:
    """The pending 004 (renames users.fullname): from its detail, `o` opens the collection it touches."""
    from textual.widgets import Input

    app.clear_notifications()
    app.main.query_one(MigrationsTable).select_version(4)
    await pilot.press("1", "enter")
    await settle(app, pilot)
    await pilot.press("o")
    await settle(app, pilot)
    screen = app.screen
    screen.query_one("#query-filter", Input).value = '{"fullname": {"$exists": true}}'
    screen.query_one("#query-filter", Input).focus()
    await pilot.press("enter")
    await settle(app, pilot)
    await pilot.press("escape")  # the filter keeps the focus after Enter; the table takes the next keys
    await pilot.press("c")
    await settle(app, pilot)
    await pilot.pause(0.3)
    shot(app, "explorer_documents")
    await pilot.press("3")
    await settle(app, pilot)
    await pilot.pause(0.3)
    shot(app, "explorer_indexes")
    await pilot.press("1", "enter")
    await settle(app, pilot)
    await pilot.pause(0.3)
    shot(app, "explorer_document")
    for _ in range(3):
        await pilot.press("escape")
        await pilot.pause(0.2)
    await mixed_collection_session(app, pilot)

    # drift on 001 (edited after it was applied): the problems filter, then the override it offers
    first = sorted(app.app_config.scripts_dir.glob("001_*.py"))[0]
    first.write_text(first.read_text() + "# edited after it was applied\n")
    await pilot.press("r")
    await settle(app, pilot)
    await pilot.press("s", "s")
    await settle(app, pilot)
    app.clear_notifications()
    await pilot.pause(0.3)
    shot(app, "problems")
    await pilot.press("s", "s")
    await pilot.press("u")
    await settle(app, pilot)
    app.clear_notifications()
    await pilot.pause(0.3)
    shot(app, "override")
    await pilot.press("escape")
    await settle(app, pilot)
    await pilot.press("1", "g", "enter")  # the drifted 001 in detail: applied source against the file now
    await settle(app, pilot)
    await pilot.pause(0.3)
    shot(app, "drift_diff")
    await pilot.press("escape")


def login_event(n: int) -> dict:
    """A realistic collection of mixed types: `phone` a string, a long, an int or missing; `mfa` true, false,
    "yes" or 1; a few statuses; a `legacy_id` that ten documents share."""
    from bson import Int64

    doc = {"_id": n, "user": f"user{n % 23:02d}", "at": NOW - dt.timedelta(minutes=17 * n),
           "status": ["ok", "ok", "ok", "ok", "denied", "locked"][n % 6], "mfa": [True, False, "yes", 1][n % 4],
           "device": {"os": ["ios", "android", "web"][n % 3], "version": f"{17 + n % 3}.{n % 4}"},
           "legacy_id": f"L{n % 190:04d}", "ip": f"10.0.{n % 7}.{n % 250}"}
    if n % 4 == 0:
        doc["phone"] = Int64(33600000000 + n)
    elif n % 4 == 1:
        doc["phone"] = f"+33 6 00 00 {n:04d}"
    elif n % 4 == 2:
        doc["phone"] = 600000000 + n
    if n % 9 == 0:
        doc["note"] = None
    return doc


async def mixed_collection_session(app: RunwayApp, pilot) -> None:
    """The Schema of a realistic mixed-type collection, an aggregation over it and a query plan (issue 27)."""
    from textual.widgets import DataTable, Input

    from runway_tui.tui.components.aggregate_view import PipelineEditor

    assert app.engine is not None
    events = app.engine.database["login_events"]
    events.drop()
    events.insert_many([login_event(n) for n in range(200)])
    events.create_index("legacy_id", name="legacy_id_1")
    await pilot.press("r")
    await settle(app, pilot)
    await pilot.press("2")
    await settle(app, pilot)
    table = app.main.query_one("#collections", DataTable)
    table.move_cursor(row=[str(k.value) for k in table.rows].index("login_events"))
    await pilot.press("enter")
    await settle(app, pilot)
    app.clear_notifications()
    await pilot.press("2")
    await settle(app, pilot)
    await pilot.pause(0.3)
    shot(app, "explorer_schema")
    await pilot.press("5")
    await settle(app, pilot)
    app.screen.query_one(PipelineEditor).text = ("[{$match: {status: {$ne: 'ok'}}}, {$group: {_id: {$type: '$phone'}, "
                                                 "events: {$sum: 1}, users: {$addToSet: '$user'}}}, "
                                                 "{$set: {users: {$size: '$users'}}}, {$sort: {events: -1}}]")
    await pilot.press("enter")
    await settle(app, pilot)
    await pilot.pause(0.3)
    shot(app, "explorer_aggregate")
    await pilot.press("1")
    box = app.screen.query_one("#query-filter", Input)
    box.value = "{legacy_id: 'L0042'}"
    box.focus()
    await pilot.press("enter")
    await settle(app, pilot)
    await pilot.press("escape", "e")
    await settle(app, pilot)
    await pilot.press("s")
    await settle(app, pilot)
    await pilot.pause(0.3)
    shot(app, "explorer_plan")
    for _ in range(3):
        await pilot.press("escape")
        await pilot.pause(0.2)
    events.drop()
    await pilot.press("r")
    await settle(app, pilot)


async def read_only_session(app: RunwayApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("u")  # hidden in read-only: nothing runs (a toast says why)
        await settle(app, pilot)
        app.clear_notifications()
        await pilot.pause(0.3)
        shot(app, "read_only")


def main() -> int:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="runway-shots-") as tmp:
        project = Path(tmp)
        shutil.copy(ROOT / "sample_config.yaml", project / "sample_config.yaml")
        shutil.copytree(ROOT / "examples", project / "examples", ignore=shutil.ignore_patterns("__pycache__"))
        config = load_config(project / "sample_config.yaml")
        app_config = config.app("dev")

        gate = StepGate()
        app = make_app(app_config, config.tui, read_only=False)
        try:
            asyncio.run(write_session(app, gate))
        finally:
            gate.resume.set()
            app.shutdown_engine()

        app = make_app(app_config, config.tui, read_only=True)
        try:
            asyncio.run(read_only_session(app))
        finally:
            app.shutdown_engine()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
