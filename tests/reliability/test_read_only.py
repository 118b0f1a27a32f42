"""A read-only session sends zero write commands, through every CLI command and every engine operation,
and each mutating action is refused with a clear message.

Every command the driver sends is seen by a `pymongo.monitoring.CommandListener` (registered globally,
so the engine's own client is observed without any hook in the engine). The TUI is not covered here yet.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pymongo import MongoClient, monitoring

from runway_tui.engine.errors import ReadOnlyError
from runway_tui.engine.factory import create_app
from tests.reliability.helpers import no_traceback, run_inproc, set_config
from tests.support.project import Project

WRITES = {"insert", "update", "delete", "findAndModify", "findandmodify", "create", "drop", "dropDatabase",
          "createIndexes", "dropIndexes", "collMod", "renameCollection", "bulkWrite", "commitTransaction",
          "abortTransaction", "killSessions", "createUser", "applyOps"}


class Recorder(monitoring.CommandListener):
    """Records command names while `active`; the global listener is shared by every client of the run."""

    def __init__(self) -> None:
        self.active = False
        self.commands: list[tuple[str, str]] = []
        self.servers: list[tuple[str, int]] = []  # where each of `commands` went
        self._lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.active:
            target = event.command.get(event.command_name)
            with self._lock:
                self.commands.append((event.command_name, f"{event.database_name}.{target}"))
                self.servers.append(event.connection_id)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


RECORDER = Recorder()
monitoring.register(RECORDER)


@contextmanager
def recording() -> Iterator[list[tuple[str, str]]]:
    RECORDER.commands, RECORDER.servers = [], []
    RECORDER.active = True
    try:
        yield RECORDER.commands
    finally:
        RECORDER.active = False


STEP = '''"""Step {v}"""
version = {v}


def upgrade(ctx):
    ctx.db.things.insert_one({{"v": {v}}}, session=ctx.session)


def downgrade(ctx):
    ctx.db.things.delete_one({{"v": {v}}}, session=ctx.session)
'''

READS = [["status"], ["plan"], ["check"], ["history"], ["history", "--limit", "3", "--version-filter", "1"],
         ["up", "--dry-run"], ["up", "--all", "--dry-run"], ["down", "--dry-run"], ["down", "--to", "0", "--dry-run"]]
MUTATIONS = [["up"], ["up", "--all"], ["up", "--to", "4"], ["down"], ["down", "--all"], ["refresh"],
             ["mark", "4", "--applied"], ["mark", "1", "--pending"], ["accept", "2"], ["unlock"],
             ["unlock", "--force"], ["new", "sneaky"]]


@pytest.fixture
def busy_project(project: Project, mongo_client: MongoClient, db_name: str) -> Project:
    """Applied, pending, drifted and locked: every read has something to show, every write something to do."""
    for v in (1, 2, 3):
        project.write_migration(v, f"step_{v}", STEP.format(v=v))
    assert run_inproc(project, "up", "--all").code == 0
    project.write_migration(4, "step_4", STEP.format(v=4))
    drifted = project.scripts_dir / "002_step_2.py"
    drifted.write_text(drifted.read_text() + "# edited\n")
    mongo_client[db_name].migrations_lock.insert_one({"_id": "runway", "owner": "someone-else", "user": "ops",
                                                      "host": "elsewhere", "pid": 1, "operation": "up"})
    return project


def _snapshot(client: MongoClient, db: str) -> dict[str, Any]:
    database = client[db]
    return {name: sorted(map(str, database[name].find({}))) for name in database.list_collection_names()}


@pytest.mark.parametrize("how", ["flag", "config"])
def test_cli_read_only_sends_no_write(busy_project: Project, mongo_client: MongoClient, db_name: str,
                                      how: str) -> None:
    flag = ["--read-only"] if how == "flag" else []
    if how == "config":
        set_config(busy_project, read_only="true")
    before = _snapshot(mongo_client, db_name)
    files_before = sorted(p.name for p in busy_project.scripts_dir.iterdir())
    sent: dict[str, list[str]] = {}
    for json_mode in ([], ["--json"]):
        for args in READS + MUTATIONS:
            with recording() as commands:
                result = run_inproc(busy_project, *args, *flag, *json_mode)
            sent[" ".join(args + json_mode)] = [name for name, _ in commands]
            no_traceback(result.out, result.err)
            writes = [c for c in commands if c[0] in WRITES]
            assert not writes, f"{args}: read-only session sent {writes}"
            if args in MUTATIONS:
                assert result.code == 2, f"{args} exited {result.code}: {result.err}"
                line = [x for x in result.err.splitlines() if x.startswith("runway-tui: error:")]
                assert len(line) == 1 and "read-only" in line[0] and "refusing" in line[0], result.err
            else:
                assert result.code in (0, 4), f"{args} exited {result.code}: {result.err}"  # 4: drift shown
    assert any(sent.values()), "the listener saw nothing: it is not attached"
    assert sum(len(v) for k, v in sent.items() if k.startswith("status")) > 0
    assert _snapshot(mongo_client, db_name) == before
    assert sorted(p.name for p in busy_project.scripts_dir.iterdir()) == files_before


def test_engine_read_only_operations(busy_project: Project, mongo_client: MongoClient, db_name: str) -> None:
    before = _snapshot(mongo_client, db_name)
    with recording() as commands:
        app = create_app("test", config=busy_project.config_path, raise_on_none=True, read_only=True)
        try:
            assert app.status().rows and app.plan().steps
            app.history(limit=None)
            app.history_count()
            app.lock_info()
            app.database_overview()
            app.collection_detail("things")
            app.session.get_current_version()
            app.session.get_all_migration_models()
            list(app.session.history())
            refused = []
            for name, call in [("upgrade", lambda: app.upgrade(all_=True)), ("downgrade", app.downgrade),
                               ("upgrade_once", app.upgrade_once), ("downgrade_to", lambda: app.downgrade_to(0)),
                               ("refresh", app.refresh), ("mark", lambda: app.mark(4, applied=True)),
                               ("accept", lambda: app.accept(2)), ("unlock", lambda: app.unlock(force=True)),
                               ("template", lambda: app.create_migration_file_template("x"))]:
                with pytest.raises(ReadOnlyError) as error:
                    call()
                assert "read-only" in str(error.value)
                refused.append(name)
        finally:
            app.close()
    writes = [c for c in commands if c[0] in WRITES]
    assert not writes, writes
    assert len(refused) == 9 and len(commands) > 5
    assert _snapshot(mongo_client, db_name) == before


def test_writable_session_is_seen_writing(busy_project: Project, mongo_client: MongoClient, db_name: str) -> None:
    """Control: the same listener does see the writes of a normal session (so zero above means zero)."""
    mongo_client[db_name].migrations_lock.delete_many({})
    with recording() as commands:
        result = run_inproc(busy_project, "up", "--ignore-drift")
    assert result.code == 0, result.err
    names = {c[0] for c in commands}
    assert {"findAndModify", "insert", "update", "delete", "commitTransaction"} <= names, names


async def _settle(app: Any, pilot: Any, timeout: float = 60.0) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        await pilot.pause()
        if not app.working():
            await pilot.pause()
            if not app.working():
                return
        await asyncio.sleep(0.02)
    raise AssertionError("the app did not settle (a worker kept running)")


async def drive_every_key(app: Any, screens: list[str]) -> None:
    """Press every key of the TUI's key map (except quit and $EDITOR), closing whatever each one opens."""
    from runway_tui.tui.bindings import ACTIONS

    async with app.run_test(size=(140, 40)) as pilot:
        await _settle(app, pilot)
        screens.append(app.export_screenshot())
        for spec in ACTIONS:
            if spec.action in ("quit_app", "edit_migration"):
                continue
            await pilot.press(spec.key)
            await _settle(app, pilot)
            if spec.action.startswith(("new_migration", "migrate_to", "filter")):
                await pilot.press("9", "enter")  # type something and confirm, if a prompt opened
                await _settle(app, pilot)
            await pilot.press("enter")  # confirm a dialog, if one opened
            await _settle(app, pilot)
            screens.append(app.export_screenshot())
            await pilot.press("escape")
            await _settle(app, pilot)


async def test_tui_read_only_every_key_sends_no_write(busy_project: Project, mongo_client: MongoClient,
                                                      db_name: str) -> None:
    from runway_tui.engine.config import load_config
    from runway_tui.tui.app import RunwayApp

    config = load_config(busy_project.config_path)
    before = _snapshot(mongo_client, db_name)
    files_before = sorted(p.name for p in busy_project.scripts_dir.iterdir())
    screens: list[str] = []
    with recording() as commands:
        app = RunwayApp(config.app("test"), config.tui, read_only=True)
        try:
            await drive_every_key(app, screens)
        finally:
            app.shutdown_engine()
    # R rehearses the pending migrations in a scratch database on the embedded daemon (issue 20): those writes
    # are the rehearsal's; the production server receives none
    production = mongo_client.address
    assert production in RECORDER.servers
    writes = [c for c, server in zip(commands, RECORDER.servers, strict=True) if c[0] in WRITES
              and server == production]
    assert not writes, writes
    assert any(c[0] in WRITES for c in commands)  # the rehearsal ran (in its scratch)
    assert len(commands) > 5 and len(screens) > 15
    assert "READ-ONLY" in screens[0].replace("\xa0", " ").upper() or "READ" in screens[0]
    assert _snapshot(mongo_client, db_name) == before
    assert sorted(p.name for p in busy_project.scripts_dir.iterdir()) == files_before
