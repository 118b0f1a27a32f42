"""TUI fixtures: the real engine against the test SecantusDB, made deterministic by a fixed clock,
a fixed identity, a fixed shown address and fixed data (never by faking the engine)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from runway_tui.engine.app import MigrationApp
from runway_tui.engine.config import AppConfig, load_config
from runway_tui.engine.errors import RunwayError
from runway_tui.tui.app import RunwayApp
from tests.support.project import Project
from tests.support.waiting import DEADLINE

FIXED_NOW = dt.datetime(2026, 3, 14, 9, 30, 0)
ADDRESS = "mongodb://db.test:27017"


def fixed_clock() -> dt.datetime:
    return FIXED_NOW


CREATE = '''"""Create the things collection."""

version = {v}


def upgrade(ctx):
    ctx.db.create_collection("things", session=ctx.session)
    ctx.log("things created")


def downgrade(ctx):
    ctx.db.drop_collection("things", session=ctx.session)
'''

INDEX = '''"""Index things by name."""

version = {v}


def upgrade(ctx):
    ctx.db["things"].create_index("name", name="name_1", session=ctx.session)


def downgrade(ctx):
    ctx.db["things"].drop_index("name_1", session=ctx.session)
'''

SEED = '''"""Seed three things."""

version = {v}


def upgrade(ctx):
    ctx.db["things"].insert_many([{{"_id": n, "name": f"thing {{n}}"}} for n in (1, 2, 3)], session=ctx.session)
    ctx.progress(3, 3)


def downgrade(ctx):
    ctx.db["things"].delete_many({{}}, session=ctx.session)
'''

FAILING = '''"""Always fails halfway."""

version = {v}
transactional = False


def upgrade(ctx):
    ctx.db["things"].insert_one({{"_id": 99, "name": "half"}}, session=ctx.session)
    raise RuntimeError("boom: the data is not what we expected")


def downgrade(ctx):
    pass
'''


def write_standard(project: Project, count: int = 3) -> None:
    """001 create (no transaction: DDL), 002 index, 003 seed."""
    project.write_migration(1, "create_things", CREATE.format(v=1).replace('version = 1\n',
                                                                         'version = 1\ntransactional = False\n'))
    if count >= 2:
        project.write_migration(2, "index_things", INDEX.format(v=2).replace('version = 2\n',
                                                                           'version = 2\ntransactional = False\n'))
    if count >= 3:
        project.write_migration(3, "seed_things", SEED.format(v=3))


def engine_for(app_config: AppConfig, read_only: bool = False) -> MigrationApp:
    """The real engine with a fixed clock and identity (applied_by / audit user@host)."""
    engine = MigrationApp(app_config, read_only=read_only, clock=fixed_clock)
    engine.user, engine.host = "alice", "ops-1"
    engine.lock.user, engine.lock.host = engine.user, engine.host  # the lock took the identity at connect
    return engine


def run_until_it_fails(project: Project) -> None:
    """Another engine runs `up` on the project and its failure is recorded (the TUI then shows it)."""
    with engine_for(load_config(project.config_path).app(project.app)) as other, \
            contextlib.suppress(RunwayError):
        other.upgrade()


def make_app(project: Project, *, read_only: bool = False, production: bool = False, poll: float = 3600,
             address: str = ADDRESS) -> RunwayApp:
    config = load_config(project.config_path)
    app_config = config.app(project.app)
    if production:
        app_config = dataclasses.replace(app_config, production=True)
    app = RunwayApp(app_config, config.tui, read_only=read_only, clock=fixed_clock, address=address,
                    poll_interval=poll, engine_factory=lambda: engine_for(app_config, read_only))
    app.cursor_blink = False
    return app


def working(app) -> bool:
    """A worker runs, besides the change stream's (it runs as long as the app watches)."""
    return app.working()


async def settle(app: RunwayApp, pilot, timeout: float = DEADLINE) -> None:
    """Wait until the engine answered and every worker (and the message each one posted) is done."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        await pilot.pause()
        busy = working(app)
        waiting_for_user = app.screen is not app.main  # e.g. "planning up" stays set while the dialog asks
        if not busy and (app.snapshot is not None or app.connection == "disconnected") and (
                not app.busy or waiting_for_user):
            await pilot.pause()
            if not working(app):
                return
        await asyncio.sleep(0.02)
    raise AssertionError(f"app did not settle: busy={app.busy} connection={app.connection}")


def normalise_durations(mongo_client: MongoClient, db_name: str) -> None:
    """Step durations are measured, not clocked: fix them so that snapshots are stable."""
    db = mongo_client[db_name]
    db["auditlog"].update_many({}, {"$set": {"duration_ms": 12}})
    db["migrations"].update_many({"duration_ms": {"$ne": None}}, {"$set": {"duration_ms": 12}})


@pytest.fixture
def tui_app(project: Project) -> Iterator[Callable[..., RunwayApp]]:
    """Build apps on the test project; their engines are closed afterwards."""
    made: list[RunwayApp] = []

    def build(**kwargs) -> RunwayApp:
        app = make_app(project, **kwargs)
        made.append(app)
        return app

    yield build
    for app in made:
        app.shutdown_engine()


@pytest.fixture
def fixed_project(tmp_path: Path, mongo_uri: str, mongo_client: MongoClient, request) -> Iterator[Project]:
    """A project whose database name is fixed (it is rendered in snapshots); dropped before and after."""
    name = "runway_snap_" + request.node.name.split("[")[0].removeprefix("test_")[:30]
    mongo_client.drop_database(name)
    yield Project.create(tmp_path / "project", uri=mongo_uri, db_name=name)
    mongo_client.drop_database(name)
