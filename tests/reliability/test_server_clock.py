"""Dates of audit entries and records come from the server's clock, whatever the runner's clock says.

A runner runs in its own process with its local clock moved by hours (a `sitecustomize` shifts every
`datetime.now()` in that process); plain `history` and `status` from a correct clock must then show
every entry, newest first, dated by the server.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from pymongo import MongoClient

from tests.reliability.helpers import record_figures, run_inproc, spawn_cli
from tests.support.cli import REPO_ROOT
from tests.support.project import Project

STEP = '''"""Clocked step {v}"""
version = {v}


def upgrade(ctx):
    ctx.db.markers.insert_one({{"v": {v}}}, session=ctx.session)


def downgrade(ctx):
    ctx.db.markers.delete_one({{"v": {v}}}, session=ctx.session)
'''
SKEW = str(REPO_ROOT / "tests" / "support" / "skewed_clock")


def _skewed(project: Project, offset_s: float, *args: str) -> None:
    env = {"PYTHONPATH": os.pathsep.join([SKEW, str(REPO_ROOT)]), "RUNWAY_TEST_CLOCK_OFFSET_S": str(offset_s)}
    proc = spawn_cli(project, *args, env=env)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err


def _server_now(client: MongoClient) -> dt.datetime:
    return client.admin.command("hello")["localTime"].replace(tzinfo=None)


@pytest.mark.parametrize("offset_h", [2, -2, 26])
def test_dates_come_from_the_server_clock(offset_h: int, any_project: Project) -> None:
    for v in (1, 2, 3, 4):
        any_project.write_migration(v, "clocked", STEP.format(v=v))
    with MongoClient(any_project.uri, serverSelectionTimeoutMS=5000) as client:
        started = _server_now(client)
        _skewed(any_project, offset_h * 3600, "up", "--steps", "2")  # a runner whose clock is hours off
        _skewed(any_project, 0, "up", "--steps", "2")  # then one whose clock is right
        finished = _server_now(client)
        db = client[any_project.db_name]
        entries = list(db.auditlog.find({}))
        records = list(db.migrations.find({}))
    slack = dt.timedelta(seconds=30)
    for entry in entries:
        assert started - slack <= entry["date"] <= finished + slack, (entry["date"], started, finished)
    for record in records:
        assert started - slack <= record["applied_at"] <= finished + slack, record

    shown = json.loads(run_inproc(any_project, "history", "--json").out)["entries"]
    assert [e["migration_read_model"]["version"] for e in shown] == [4, 3, 2, 1], shown
    record_figures("server-clock", offset_h=offset_h, topology=any_project.topology, held=True)  # type: ignore[attr-defined]
