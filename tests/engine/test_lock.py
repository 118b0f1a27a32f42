"""The lease lock: one holder at a time, bounded wait naming the holder, expiry, heartbeat, unlock."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from runway_tui.engine.errors import LockTimeoutError, StepFailedError, UsageError
from runway_tui.engine.events import LockWaitingEvent
from tests.engine.helpers import data_migration, migration, open_app


def wait_for_file_body(path) -> str:
    return (f"import pathlib, time\nwhile not pathlib.Path({str(path)!r}).exists():\n    time.sleep(0.05)\n"
            + 'ctx.db["things"].insert_one({"_id": 1}, session=ctx.session)')


def lease(mongo_client, project) -> dict | None:
    return mongo_client[project.db_name]["migrations_lock"].find_one({"_id": "runway"})


def put_lease(mongo_client, project, expires_in_s: float) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    mongo_client[project.db_name]["migrations_lock"].insert_one(
        {"_id": "runway", "owner": "dead-runner", "user": "ghost", "host": "ghosthost", "pid": 4242,
         "operation": "up", "acquired_at": now, "expires_at": now + dt.timedelta(seconds=expires_in_s)})


def test_second_runner_waits_then_times_out_naming_the_holder(project, mongo_client, tmp_path):
    go = tmp_path / "go"
    project.write_migration(1, "slow", migration(1, up=wait_for_file_body(go)))
    project.write_migration(2, "next", data_migration(2))
    first = open_app(project, lock_ttl_s=1, lock_wait_s=5)
    second = open_app(project, lock_wait_s=1.6)
    waits: list[LockWaitingEvent] = []
    second.subscribe(waits.append, LockWaitingEvent)
    outcome: dict = {}
    runner = threading.Thread(target=lambda: outcome.setdefault("result", first.upgrade()))
    try:
        runner.start()
        deadline = time.monotonic() + 5
        while lease(mongo_client, project) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        held = lease(mongo_client, project)
        assert held is not None
        assert (held["user"], held["host"], held["pid"], held["operation"]) == (first.user, first.host,
                                                                                first.lock.pid, "up")
        started = time.monotonic()
        with pytest.raises(LockTimeoutError) as info:  # lasts longer than the 1 s ttl: the heartbeat renews it
            second.upgrade()
        waited = time.monotonic() - started
        assert 1.5 <= waited < 4
        message = str(info.value)
        assert f"held by {first.user}@{first.host} (pid {first.lock.pid})" in message
        assert "for 'up'" in message and "unlock" in message
        assert info.value.exit_code == 3
        assert waits and waits[0].holder.owner == held["owner"]
        renewed = lease(mongo_client, project)
        assert renewed["owner"] == held["owner"] and renewed["expires_at"] > held["expires_at"]
    finally:
        go.touch()
        runner.join(10)
        first.close()
        second.close()
    assert [r.step.version for r in outcome["result"].completed] == [1]
    assert lease(mongo_client, project) is None  # released after success


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
    with open_app(project, lock_ttl_s=0.6) as app:
        app.lock.acquire("test")
        try:
            first = lease(mongo_client, project)["expires_at"]
            time.sleep(0.9)  # longer than the ttl: still ours, renewed
            second = lease(mongo_client, project)
            assert second["owner"] == app.lock.owner and second["expires_at"] > first
            assert not app.lock_info().expired
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
    go = tmp_path / "go"
    project.write_migration(1, "slow", migration(1, up=wait_for_file_body(go)))
    app = open_app(project, lock_ttl_s=0.6)
    outcome: dict = {}

    def run() -> None:
        try:
            app.upgrade()
        except StepFailedError as exc:
            outcome["error"] = exc

    runner = threading.Thread(target=run)
    try:
        runner.start()
        deadline = time.monotonic() + 5
        while lease(mongo_client, project) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        # another runner took the lease over (as if ours had expired)
        mongo_client[project.db_name]["migrations_lock"].update_one({"_id": "runway"}, {"$set": {"owner": "thief"}})
        time.sleep(0.6)  # a heartbeat notices
        go.touch()
        runner.join(10)
    finally:
        go.touch()
        app.close()
    assert "taken over" in str(outcome["error"])
    assert mongo_client[project.db_name]["things"].count_documents({}) == 0
    assert mongo_client[project.db_name]["migrations"].find_one({"_id": 1})["is_applied"] is False
    assert lease(mongo_client, project)["owner"] == "thief"  # we never delete someone else's lease
