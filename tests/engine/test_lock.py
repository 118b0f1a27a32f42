"""The lease lock: one holder at a time, bounded wait naming the holder, expiry, heartbeat, unlock."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator

import pytest

from runway_tui.engine.errors import LockTimeoutError, StepFailedError, UsageError
from runway_tui.engine.events import LockWaitingEvent
from tests.engine.helpers import data_migration, migration, open_app
from tests.support.waiting import Gate, wait_until


def gated_body(gate: Gate) -> str:
    """Insert {_id: 1}, then wait at the gate: the step holds the lock until the test opens it."""
    return 'ctx.db["things"].insert_one({"_id": 1}, session=ctx.session)\n' + gate.wait_code(indent=0)


def upgrade_in_thread(app) -> tuple[threading.Thread, dict]:
    """A thread that runs `app.upgrade()` once started; the step's failure lands in `outcome["error"]`."""
    outcome: dict = {}

    def run() -> None:
        try:
            app.upgrade()
        except StepFailedError as exc:
            outcome["error"] = exc

    return threading.Thread(target=run, name="upgrade"), outcome


def lease(mongo_client, project) -> dict | None:
    return mongo_client[project.db_name]["migrations_lock"].find_one({"_id": "runway"})


def put_lease(mongo_client, project, expires_in_s: float) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    mongo_client[project.db_name]["migrations_lock"].insert_one(
        {"_id": "runway", "owner": "dead-runner", "user": "ghost", "host": "ghosthost", "pid": 4242,
         "operation": "up", "acquired_at": now, "expires_at": now + dt.timedelta(seconds=expires_in_s)})


def test_second_runner_waits_then_times_out_naming_the_holder(project, mongo_client, tmp_path):
    gate = Gate(tmp_path)
    project.write_migration(1, "slow", migration(1, up=gated_body(gate)))
    project.write_migration(2, "next", data_migration(2))
    # The second waits longer than the holder's lease lasts unrenewed; the heartbeat renews it every 1 s, so
    # the test holds on a loaded machine unless the heartbeat is starved for 3 s.
    first = open_app(project, lock_ttl_s=3, lock_wait_s=5)
    second = open_app(project, lock_wait_s=4)
    waits: list[LockWaitingEvent] = []
    second.subscribe(waits.append, LockWaitingEvent)
    outcome: dict = {}
    runner = threading.Thread(target=lambda: outcome.setdefault("result", first.upgrade()))
    try:
        runner.start()
        gate.wait_entered()  # the first runner holds the lock and is inside its step
        held = lease(mongo_client, project)
        assert held is not None
        assert (held["user"], held["host"], held["pid"], held["operation"]) == (first.user, first.host,
                                                                                first.lock.pid, "up")
        with pytest.raises(LockTimeoutError) as info:
            second.upgrade()
        message = str(info.value)
        assert f"held by {first.user}@{first.host} (pid {first.lock.pid}, api)" in message
        assert "for 'up'" in message and "running up 001_slow" in message
        # issue 18: that runner is alive (it renews its lease): nothing proposes to remove its lock
        assert "unlock" not in message and "released when that run finishes" in message
        assert info.value.exit_code == 3
        assert waits and waits[0].holder.owner == held["owner"]  # it waited, naming the holder
        # It did not take the live lease: still the first runner's, renewed by its heartbeat meanwhile.
        renewed = lease(mongo_client, project)
        assert renewed["owner"] == held["owner"] and renewed["expires_at"] > held["expires_at"]
        assert mongo_client[project.db_name]["things"].count_documents({"_id": 2}) == 0
    finally:
        gate.open()
        runner.join(30)
        first.close()
        second.close()
    assert [r.step.version for r in outcome["result"].completed] == [1]
    assert lease(mongo_client, project) is None  # released after success


def test_a_waiting_runner_proceeds_once_the_holder_releases(project, mongo_client, tmp_path):
    gate = Gate(tmp_path)
    project.write_migration(1, "slow", migration(1, up=gated_body(gate)))
    project.write_migration(2, "next", data_migration(2))
    first = open_app(project, lock_ttl_s=2, lock_wait_s=5)
    second = open_app(project, lock_wait_s=60)
    waits: list[LockWaitingEvent] = []
    second.subscribe(waits.append, LockWaitingEvent)
    outcomes: dict = {}
    first_runner = threading.Thread(target=lambda: outcomes.setdefault("first", first.upgrade(steps=1)))
    second_runner = threading.Thread(target=lambda: outcomes.setdefault("second", second.upgrade(steps=1)))
    try:
        first_runner.start()
        gate.wait_entered()
        second_runner.start()
        wait_until(lambda: waits, "the second runner to report that it waits for the lock")
        assert waits[0].holder.owner == first.lock.owner
        assert "second" not in outcomes and lease(mongo_client, project)["owner"] == first.lock.owner
    finally:
        gate.open()
        first_runner.join(30)
        second_runner.join(30)
        first.close()
        second.close()
    # The second runner ran only after the first had released: it applied the next version, not the same one.
    assert [r.step.version for r in outcomes["first"].completed] == [1]
    assert [r.step.version for r in outcomes["second"].completed] == [2]
    audit = list(mongo_client[project.db_name]["auditlog"].find().sort("date", 1))
    assert [e["migration_read_model"]["version"] for e in audit] == [1, 2]
    assert lease(mongo_client, project) is None


def test_expired_lease_is_taken_over(app, project, mongo_client):
    project.write_migration(1, "a", data_migration(1))
    put_lease(mongo_client, project, expires_in_s=-5)
    assert app.lock_info().expired
    assert app.upgrade_once() == 1
    assert lease(mongo_client, project) is None


def test_live_lease_of_a_dead_runner_blocks_until_forced(project, mongo_client):
    project.write_migration(1, "a", data_migration(1))
    put_lease(mongo_client, project, expires_in_s=600)
    with open_app(project, lock_wait_s=0.3) as app:
        with pytest.raises(LockTimeoutError, match=r"held by ghost@ghosthost \(pid 4242\)"):
            app.upgrade()
        with pytest.raises(UsageError, match="has not expired"):
            app.unlock()
        assert lease(mongo_client, project) is not None
        removed = app.unlock(force=True)
        assert removed.holder == "ghost@ghosthost (pid 4242)"
        assert lease(mongo_client, project) is None
        assert app.unlock() is None  # nothing left
        assert app.upgrade_once() == 1
        entry = mongo_client[project.db_name]["auditlog"].find_one({"transaction_name": "ForceUnlockTransaction"})
        assert entry is not None and entry["user"] == app.user


def test_unlock_removes_an_expired_lease(app, project, mongo_client):
    put_lease(mongo_client, project, expires_in_s=-1)
    removed = app.unlock()
    assert removed is not None and removed.user == "ghost"
    assert lease(mongo_client, project) is None


def test_lock_is_released_after_a_failure(app, project, mongo_client):
    project.write_migration(1, "boom", migration(1, up="raise RuntimeError('x')"))
    with pytest.raises(StepFailedError):
        app.upgrade()
    assert lease(mongo_client, project) is None
    assert app.lock_info() is None


def test_lock_is_released_when_a_migration_raises_keyboard_interrupt(app, project, mongo_client):
    project.write_migration(1, "interrupted", migration(1, up="raise KeyboardInterrupt"))
    with pytest.raises(KeyboardInterrupt):
        app.upgrade()
    assert lease(mongo_client, project) is None


def test_heartbeat_renews_the_lease(project, mongo_client):
    with open_app(project, lock_ttl_s=3) as app:  # renewed every 1 s: a margin of 2 s on a loaded machine
        app.lock.acquire("test")
        try:
            first = lease(mongo_client, project)["expires_at"]
            # Past the first lease's end, the lease is still ours and unexpired: the heartbeat renewed it.
            wait_until(lambda: app.lock.clock.now() > first, "the first lease's expiry time to pass")
            second = lease(mongo_client, project)
            assert second["owner"] == app.lock.owner and second["expires_at"] > first
            assert not app.lock_info().expired and app.lock.lost_reason is None
            app.lock.check()
        finally:
            app.lock.release()
    assert lease(mongo_client, project) is None


def test_concurrent_runners_apply_each_migration_once(project, mongo_client):
    for version in range(1, 7):
        project.write_migration(version, f"m{version}", data_migration(version))
    apps = [open_app(project, lock_wait_s=20) for _ in range(3)]
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def run(app) -> None:
        try:
            barrier.wait()
            for _ in range(2):
                app.upgrade()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(app,)) for app in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for app in apps:
        app.close()
    assert errors == []
    db = mongo_client[project.db_name]
    assert sorted(d["_id"] for d in db["things"].find()) == [1, 2, 3, 4, 5, 6]  # Mongorunway B5
    assert db["auditlog"].count_documents({}) == 6


def test_a_runner_that_lost_its_lease_does_not_commit(project, mongo_client, tmp_path):
    gate = Gate(tmp_path)
    project.write_migration(1, "slow", migration(1, up=gated_body(gate)))
    app = open_app(project, lock_ttl_s=0.6)
    runner, outcome = upgrade_in_thread(app)
    try:
        runner.start()
        gate.wait_entered()
        # another runner took the lease over (as if ours had expired)
        mongo_client[project.db_name]["migrations_lock"].update_one({"_id": "runway"}, {"$set": {"owner": "thief"}})
        wait_until(lambda: app.lock.lost_reason, "the heartbeat to notice that the lease was taken over")
        gate.open()
        runner.join(30)
    finally:
        gate.open()
        app.close()
    assert "taken over" in str(outcome["error"])
    assert mongo_client[project.db_name]["things"].count_documents({}) == 0
    assert mongo_client[project.db_name]["migrations"].find_one({"_id": 1})["is_applied"] is False
    assert lease(mongo_client, project)["owner"] == "thief"  # we never delete someone else's lease


@contextlib.contextmanager
def heartbeat_held_back(mongo_client, block_ms: int) -> Iterator[None]:
    """The engine's next `update` (its heartbeat, while the step only inserts) hangs on the server."""
    mongo_client.admin.command("configureFailPoint", "failCommand", mode={"times": 1},
                               data={"failCommands": ["update"], "appName": "runway-tui",
                                     "blockConnection": True, "blockTimeMS": block_ms})
    try:
        yield
    finally:
        mongo_client.admin.command("configureFailPoint", "failCommand", mode="off")


def test_a_step_outliving_its_unrenewed_lease_does_not_commit(project, mongo_client, tmp_path, recorder):
    """The local guard (`lock.check()` at the end of a step): the heartbeat is stuck, so it has not noticed
    anything, but the lease ran out meanwhile; the step must not commit on a lease others may have taken."""
    gate = Gate(tmp_path)
    project.write_migration(1, "slow", migration(1, up=gated_body(gate)))
    app = open_app(project, lock_ttl_s=1)
    runner, outcome = upgrade_in_thread(app)
    try:
        runner.start()
        gate.wait_entered()
        recorder.clear()
        with heartbeat_held_back(mongo_client, block_ms=6000):
            wait_until(lambda: any(name == "update" and target == "migrations_lock"
                                   for name, _, target in recorder.commands),
                       "the heartbeat's renewal to be sent (and held back by the server)")
            held = lease(mongo_client, project)
            wait_until(lambda: app.lock.clock.now() > held["expires_at"], "the unrenewed lease to run out")
            assert app.lock.lost_reason is None  # the stuck heartbeat has not said anything
            gate.open()
            runner.join(30)
    finally:
        gate.open()
        app.close()
    assert "expired" in str(outcome["error"]) and "renewed in time" in str(outcome["error"])
    db = mongo_client[project.db_name]
    assert db["things"].count_documents({}) == 0  # rolled back
    record = db["migrations"].find_one({"_id": 1})
    assert record["is_applied"] is False and record["state"] == "pending" and "expired" in record["error"]
    (entry,) = db["auditlog"].find({"transaction_name": "UpgradeTransaction"})
    assert entry["exc_name"] == "LockLostError"
