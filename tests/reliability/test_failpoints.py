"""`configureFailPoint failCommand` on each write the engine makes (error codes and closeConnection).

For each case: the fault really fired (a command listener sees the engine's command fail as armed), the
command's exit code and the recorded outcome are the ones that follow from that fault, the message is one
line, what is recorded matches what is really in the database, and a retry once the fail point is cleared
succeeds. The fail points are scoped to the engine's connections (`appName: runway-tui`), so this test's
own client keeps working and always switches the fail point off again. Faults that must land while a
step runs (the heartbeat's) hold the step at a gate until the test has seen them land.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
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
from tests.support.commands import Seen, SeenCommand, watch
from tests.support.project import Project
from tests.support.server import ServerFactory
from tests.support.waiting import Gate, wait_until

UNKNOWN_ERROR = 8  # not retryable: the driver hands it straight to the engine

MIGRATION = '''"""Insert a marker (and wait at the gate when the case needs it)"""

version = 1


def upgrade(ctx):
    ctx.db.markers.insert_one({"v": 1}, session=ctx.session)
GATE


def downgrade(ctx):
    ctx.db.markers.delete_one({"v": 1}, session=ctx.session)
'''


@dataclass(frozen=True)
class Case:
    id: str
    topology: str  # "replica-set" (transactions) or "standalone"
    commands: tuple[str, ...]
    exit_code: int  # what follows from the fault
    outcome: str  # the record afterwards: "applied", "pending" or "failed" (standalone: effects may remain)
    skip: int = 0
    times: int = 1
    close: bool = False
    ttl: float = 30.0  # long enough that no heartbeat lands between the step's own commands
    gated: bool = False  # hold the step until `release_when` holds


CASES = [
    # replica set: the migration's own write and the step's bookkeeping (lease fence, state and audit entry: one
    # client bulkWrite) all run in the step's transaction
    Case("rs-migration-write", "replica-set", ("insert",), 1, "pending"),
    Case("rs-migration-write-close", "replica-set", ("insert",), 5, "pending", close=True),
    Case("rs-step-write", "replica-set", ("bulkWrite",), 1, "pending"),
    Case("rs-step-write-close", "replica-set", ("bulkWrite",), 5, "pending", close=True),
    Case("rs-commit", "replica-set", ("commitTransaction",), 1, "pending"),
    Case("rs-commit-close", "replica-set", ("commitTransaction",), 0, "applied", close=True),  # driver retries
    Case("rs-lock-acquire", "replica-set", ("findAndModify",), 1, "pending"),
    Case("rs-lock-acquire-close", "replica-set", ("findAndModify",), 0, "applied", close=True),  # retryable
    Case("rs-lock-release", "replica-set", ("delete",), 0, "applied", ttl=2),
    # one missed renewal (every ttl/3) leaves a third of the lease: 2 s, a margin for a loaded machine
    Case("rs-lock-renew-once", "replica-set", ("update",), 0, "applied", skip=1, ttl=6, gated=True),
    Case("rs-lock-renew-lost", "replica-set", ("update",), 1, "pending", skip=1, times=10_000, ttl=1.5,
         gated=True),
    Case("rs-index-creation", "replica-set", ("createIndexes",), 1, "pending"),
    # standalone: applying -> applied, no transaction
    Case("sa-state-applying", "standalone", ("update",), 1, "pending"),
    Case("sa-state-applying-close", "standalone", ("update",), 5, "pending", close=True),
    Case("sa-migration-write", "standalone", ("insert",), 1, "failed"),
    Case("sa-state-applied", "standalone", ("update",), 1, "failed", skip=1),  # no transaction: separate writes
    Case("sa-audit-insert", "standalone", ("insert",), 1, "failed", skip=1),
    Case("sa-lock-acquire", "standalone", ("findAndModify",), 1, "pending"),
    Case("sa-lock-release", "standalone", ("delete",), 0, "applied", ttl=2),
]


@pytest.fixture(scope="module")
def standalone_uri(server_factory: ServerFactory) -> str:
    return server_factory.start("--standalone", "--enable-test-commands").uri  # stopped at session end


@contextlib.contextmanager
def fail_point(uri: str, case: Case) -> Iterator[Seen]:
    """Arm the fail point for the block; yields the commands the engine sent meanwhile (to prove it fired)."""
    data: dict = {"failCommands": list(case.commands), "appName": "runway-tui"}
    data.update({"closeConnection": True} if case.close else {"errorCode": UNKNOWN_ERROR})
    mode = {"times": case.times, **({"skip": case.skip} if case.skip else {})}
    with MongoClient(uri) as admin:
        admin.admin.command("configureFailPoint", "failCommand", mode=mode, data=data)
        try:
            with watch() as seen:
                yield seen
        finally:
            admin.admin.command("configureFailPoint", "failCommand", mode="off")


def fired(case: Case, seen: Seen) -> list[SeenCommand]:
    """The engine's commands that the fail point failed: proof that the fault happened."""
    return [c for c in seen.named(*case.commands)
            if (c.network_failure if case.close else c.outcome == "failed" and c.code == UNKNOWN_ERROR)]


def lock_updates(seen: Seen) -> list[SeenCommand]:
    return [c for c in seen.named("update") if c.target.endswith(".migrations_lock")]


def renewal_failed_then_succeeded(seen: Seen) -> bool:
    outcomes = [c.outcome for c in lock_updates(seen)]
    return "failed" in outcomes and "ok" in outcomes[outcomes.index("failed"):]


def lease_ran_out(client: MongoClient, db_name: str) -> Callable[[Seen], bool]:
    """The lease was not renewed and its expiry passed on the server's clock (with a margin for the runner's
    estimate of that clock): the runner can no longer hold it."""
    def check(seen: Seen) -> bool:
        lease = client[db_name].migrations_lock.find_one({"_id": "runway"})
        now = client.admin.command("hello")["localTime"].replace(tzinfo=None)
        return bool(fired(CASES_BY_ID["rs-lock-renew-lost"], seen)) and lease is not None and \
            (now - lease["expires_at"]).total_seconds() > 0.3
    return check


CASES_BY_ID = {c.id: c for c in CASES}


@contextlib.contextmanager
def gate_released_when(gate: Gate, condition: Callable[[], bool], what: str) -> Iterator[dict]:
    """Open `gate` from a helper thread as soon as `condition` holds (the runner itself blocks the test's
    main thread); afterwards, `status["ok"]` says whether it held before the deadline."""
    status: dict = {}

    def release() -> None:
        try:
            gate.wait_entered(timeout=30)
            wait_until(condition, what, timeout=30)
            status["ok"] = True
        except AssertionError as exc:
            status["error"] = str(exc)
        finally:
            gate.open()

    thread = threading.Thread(target=release, name="gate-releaser", daemon=True)
    thread.start()
    try:
        yield status
    finally:
        gate.open()
        thread.join(35)


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
    gate = Gate(project.root / "gates")
    project.write_migration(1, "marker", MIGRATION.replace("GATE", gate.wait_code() if case.gated else ""))
    assert run_inproc(project, "refresh").code == 0  # the indexes and the record exist before the fault

    with MongoClient(uri) as client:
        with fail_point(uri, case) as seen:
            if case.gated:
                condition = (renewal_failed_then_succeeded if case.id == "rs-lock-renew-once"
                             else lease_ran_out(client, db_name))
                with gate_released_when(gate, lambda: condition(seen), f"the fault of {case.id} to land") as gated:
                    result = run_inproc(project, "up")
                assert gated.get("ok"), gated.get("error")
            else:
                result = run_inproc(project, "up")
        hits = fired(case, seen)
        assert hits, f"the fail point never fired on {case.commands}: {seen.named(*case.commands)}"
        if case.times == 1:
            assert len(hits) == 1, hits
        no_traceback(result.out, result.err)
        state = read_state(client, db_name)
        applied = 1 in state.applied
        outcome = "applied" if applied else state.states.get(1, "?")

        assert (result.code, outcome) == (case.exit_code, case.outcome), result.err
        if result.code == 0:
            assert state.markers[1] == 1, "exit 0 means the step is applied, with its effects"
            assert_consistent(state, counted=False)
        else:
            line = _error_line(result)
            # the line says what failed; nothing is recorded that did not happen
            assert "001_marker" in line or "lock" in line or "server" in line, line
            if case.topology == "replica-set" or outcome == "pending":
                assert state.markers[1] == 0, "a pending step has no effects"
                assert_consistent(state, counted=False)
            else:  # standalone, interrupted after it ran: shown failed with the reason until resolved
                assert_consistent(state, settled_only=False, counted=False)
                assert state.records[1].get("error"), state.records[1]

        # Expectations specific to the fault
        if case.id in ("rs-lock-release", "sa-lock-release"):
            assert state.lock is not None, "the lease stays until it expires"
        if case.id == "rs-commit-close":  # the driver retried the commit once, on a new connection
            assert [c.outcome for c in seen.named("commitTransaction")] == ["failed", "ok"]
        if case.id == "rs-lock-renew-once":  # a missed renewal inside the TTL is survived (and logged)
            assert "lock heartbeat failed" in result.err + caplog.text
        if case.id == "rs-lock-renew-lost":
            assert "lock" in _error_line(result) and "renewed in time" in _error_line(result)

        # Retry with the fail point cleared (an interrupted standalone step is resolved with `mark` first)
        if state.unsettled:
            blocked = run_inproc(project, "up")
            assert blocked.code == 4 and "mark" in _error_line(blocked)
            action = "--applied" if state.markers[1] else "--pending"
            # the marker is there exactly when the fault came after the migration's own write
            assert state.markers[1] == (0 if case.id == "sa-migration-write" else 1), state.markers
            assert run_inproc(project, "mark", "1", action).code == 0
        retry = run_inproc(project, "up")
        assert retry.code == 0, retry.err
        final = read_state(client, db_name)
        assert final.applied == {1} and final.markers[1] == 1 and final.lock is None
        assert_consistent(final, counted=False)
        record_figures("fail point", case=case.id, exit_code=result.code, outcome=outcome,
                       message=(_error_line(result) if result.code else "")[:160])


# ------------------------------------------------------------------ a commit whose outcome the runner cannot know
def _arm_commit(uri: str, data: dict) -> None:
    with MongoClient(uri) as admin:
        admin.admin.command("configureFailPoint", "failCommand", mode="alwaysOn",
                            data={"failCommands": ["commitTransaction"], "appName": "runway-tui", **data})


def _disarm(uri: str) -> None:
    with MongoClient(uri) as admin:
        admin.admin.command("configureFailPoint", "failCommand", mode="off")


def test_commit_that_committed_but_whose_reply_failed_is_recorded_applied(project: Project, mongo_uri: str,
                                                                         db_name: str) -> None:
    """Every commit attempt commits on the server but answers with a write-concern timeout (outcome unknown
    to the driver, so it retries, and so do we): the runner reconciles from the record and reports success."""
    project.write_migration(1, "marker", MIGRATION.replace("GATE", ""))
    assert run_inproc(project, "refresh").code == 0
    try:
        _arm_commit(mongo_uri, {"writeConcernError": {"code": 64, "codeName": "WriteConcernFailed",
                                                      "errmsg": "waiting for replication timed out",
                                                      "errInfo": {"wtimeout": True}}})
        with watch() as seen:
            result = run_inproc(project, "up")
    finally:
        _disarm(mongo_uri)
    commits = seen.named("commitTransaction")
    assert len(commits) >= 2 and all(c.outcome == "failed" and c.code == 64 for c in commits), commits  # fired
    assert result.code == 0, result.err
    with MongoClient(mongo_uri) as client:
        state = read_state(client, db_name)
    assert state.applied == {1} and state.markers[1] == 1 and not state.records[1].get("error")
    assert [(e["transaction_name"], e["exc_name"]) for e in state.audit] == [("UpgradeTransaction", None)]
    assert_consistent(state, counted=False)


def test_commit_that_never_reached_the_server_is_recorded_pending(project: Project, mongo_uri: str,
                                                                 db_name: str) -> None:
    """Every commit attempt loses its connection before the server runs it: the runner cannot tell whether
    it committed, reconciles from the record (not committed) and reports the failure; nothing is applied."""
    project.write_migration(1, "marker", MIGRATION.replace("GATE", ""))
    assert run_inproc(project, "refresh").code == 0
    try:
        _arm_commit(mongo_uri, {"closeConnection": True})
        with watch() as seen:
            result = run_inproc(project, "up")
    finally:
        _disarm(mongo_uri)
    commits = seen.named("commitTransaction")
    assert len(commits) >= 2 and all(c.network_failure for c in commits), commits  # it fired, on every attempt
    assert result.code == 5, result.err  # the connection is what failed
    assert "the step in progress was not recorded as done" in _error_line(result)
    no_traceback(result.out, result.err)
    with MongoClient(mongo_uri) as client:
        state = read_state(client, db_name)
    assert state.applied == set() and state.states[1] == "pending" and state.markers[1] == 0
    assert "commitTransaction" in state.records[1]["error"] or "connection" in state.records[1]["error"].lower()
    assert_consistent(state, counted=False)
    retry = run_inproc(project, "up")
    assert retry.code == 0, retry.err
