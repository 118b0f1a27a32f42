"""`configureFailPoint failCommand` on each write the engine makes (error codes and closeConnection).

For each: the command reports the failure clearly (one line, documented exit code), the recorded state
matches what is really in the database, and a retry once the fail point is cleared succeeds.
The fail points are scoped to the engine's connections (`appName: runway-tui`), so this test's own
client keeps working and always switches the fail point off again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pymongo import MongoClient

from tests.reliability.helpers import (
    InProc,
    assert_consistent,
    no_traceback,
    read_state,
    record_figures,
    run_inproc,
    set_config,
)
from tests.support.project import Project
from tests.support.server import ServerFactory

UNKNOWN_ERROR = 8  # not retryable: the driver hands it straight to the engine

MIGRATION = '''"""Insert a marker and count it"""
import time

version = 1


def upgrade(ctx):
    ctx.db.markers.insert_one({"v": 1}, session=ctx.session)
    time.sleep(SLEEP)


def downgrade(ctx):
    ctx.db.markers.delete_one({"v": 1}, session=ctx.session)
'''


@dataclass(frozen=True)
class Case:
    id: str
    topology: str  # "replica-set" (transactions) or "standalone"
    commands: tuple[str, ...]
    skip: int = 0
    times: int = 1
    close: bool = False
    sleep: float = 0.0
    ttl: float = 5.0


CASES = [
    # replica set: state update, audit insert and the migration's own write all run in the step's transaction
    Case("rs-migration-write", "replica-set", ("insert",)),
    Case("rs-migration-write-close", "replica-set", ("insert",), close=True),
    Case("rs-state-update", "replica-set", ("update",)),  # the step's first update is its state write
    Case("rs-state-update-close", "replica-set", ("update",), close=True),
    Case("rs-audit-insert", "replica-set", ("insert",), skip=1),
    Case("rs-commit", "replica-set", ("commitTransaction",)),
    Case("rs-commit-close", "replica-set", ("commitTransaction",), close=True),
    Case("rs-lock-acquire", "replica-set", ("findAndModify",)),
    Case("rs-lock-acquire-close", "replica-set", ("findAndModify",), close=True),
    Case("rs-lock-release", "replica-set", ("delete",), ttl=2),
    Case("rs-lock-renew-once", "replica-set", ("update",), skip=1, sleep=1.6, ttl=1.5),
    Case("rs-lock-renew-lost", "replica-set", ("update",), skip=1, times=5, sleep=3.0, ttl=1.5),
    Case("rs-index-creation", "replica-set", ("createIndexes",)),
    # standalone: applying -> applied, no transaction
    Case("sa-state-applying", "standalone", ("update",)),
    Case("sa-state-applying-close", "standalone", ("update",), close=True),
    Case("sa-migration-write", "standalone", ("insert",)),
    Case("sa-state-applied", "standalone", ("update",), skip=1),
    Case("sa-audit-insert", "standalone", ("insert",), skip=1),
    Case("sa-lock-acquire", "standalone", ("findAndModify",)),
    Case("sa-lock-release", "standalone", ("delete",), ttl=2),
]


@pytest.fixture(scope="module")
def standalone_uri(server_factory: ServerFactory) -> str:
    return server_factory.start("--standalone", "--enable-test-commands").uri  # stopped at session end


@contextlib.contextmanager
def fail_point(uri: str, case: Case) -> Iterator[None]:
    data: dict = {"failCommands": list(case.commands), "appName": "runway-tui"}
    data.update({"closeConnection": True} if case.close else {"errorCode": UNKNOWN_ERROR})
    mode = {"times": case.times, **({"skip": case.skip} if case.skip else {})}
    with MongoClient(uri) as admin:
        admin.admin.command("configureFailPoint", "failCommand", mode=mode, data=data)
        try:
            yield
        finally:
            admin.admin.command("configureFailPoint", "failCommand", mode="off")


def _error_line(result: InProc) -> str:
    lines = [x for x in result.err.splitlines() if x.startswith("runway-tui: error:")]
    assert len(lines) == 1, result.err
    assert "internal error" not in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_fail_point(case: Case, project: Project, mongo_uri: str, standalone_uri: str, db_name: str,
                    caplog: pytest.LogCaptureFixture) -> None:
    uri = mongo_uri if case.topology == "replica-set" else standalone_uri
    set_config(project, uri=uri, lock_ttl_s=case.ttl)
    project.write_migration(1, "marker", MIGRATION.replace("SLEEP", str(case.sleep)))
    assert run_inproc(project, "refresh").code == 0  # the indexes and the record exist before the fault

    with MongoClient(uri) as client:
        with fail_point(uri, case):
            result = run_inproc(project, "up")
        no_traceback(result.out, result.err)
        state = read_state(client, db_name)
        applied = 1 in state.applied
        outcome = "applied" if applied else state.states.get(1, "?")

        if result.code == 0:
            assert applied and state.markers[1] == 1, "exit 0 means the step is applied, with its effects"
            assert_consistent(state, counted=False)
        else:
            line = _error_line(result)
            assert result.code in (1, 3, 5), line
            # the line says what failed; nothing is recorded that did not happen
            assert "001_marker" in line or "lock" in line or "server" in line, line
            if case.topology == "replica-set":
                assert not applied and state.markers[1] == 0 and state.states[1] == "pending", state.states
                assert_consistent(state, counted=False)
            else:
                assert_consistent(state, settled_only=False, counted=False)
                if state.unsettled:  # effects may be there: shown failed with the reason until resolved
                    assert state.records[1].get("error") or state.states[1] == "applying"

        # Expectations specific to the fault
        if case.id == "rs-lock-release" or case.id == "sa-lock-release":
            assert result.code == 0 and state.lock is not None, "the lease stays until it expires"
        if case.id == "rs-lock-renew-once":  # a missed renewal inside the TTL is survived (and logged)
            assert result.code == 0 and "lock heartbeat failed" in result.err + caplog.text
        if case.id == "rs-lock-renew-lost":
            assert result.code == 1 and "lock" in _error_line(result) and not applied
        if case.id.startswith("rs-") and not case.close and "lock" not in case.id and "index" not in case.id:
            assert result.code == 1 and not applied

        # Retry with the fail point cleared (an interrupted standalone step is resolved with `mark` first)
        if state.unsettled:
            blocked = run_inproc(project, "up")
            assert blocked.code == 4 and "mark" in _error_line(blocked)
            action = "--applied" if state.markers[1] else "--pending"
            assert run_inproc(project, "mark", "1", action).code == 0
        retry = run_inproc(project, "up")
        assert retry.code == 0, retry.err
        final = read_state(client, db_name)
        assert final.applied == {1} and final.markers[1] == 1 and final.lock is None
        assert_consistent(final, counted=False)
        record_figures("fail point", case=case.id, exit_code=result.code, outcome=outcome,
                       message=(_error_line(result) if result.code else "")[:160])
