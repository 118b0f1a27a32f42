"""Dead runners (issue 18): a waiting runner says at once when the lock's holder is dead (its pid is not running
on this host, or its heartbeat stopped), waits for its lease to expire when that comes within the wait, refuses
at once when it does not, and the audit log records the lease taken over and the attempt it abandoned."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys

import pytest

from runway_tui.engine.errors import LockTimeoutError
from runway_tui.engine.events import LogEvent
from runway_tui.engine.runners import pid_namespace
from tests.engine.helpers import data_migration, open_app


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped): surely not running now."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def server_now(mongo_client) -> dt.datetime:
    return mongo_client.admin.command("hello")["localTime"].replace(tzinfo=None)


def put_lease(mongo_client, project, *, host: str, pid: int, expires_in_s: float,
              heartbeat_ago_s: float = 0.0) -> None:
    """A lease of a runner `ghost` (cli) whose last heartbeat was `heartbeat_ago_s` ago."""
    now = server_now(mongo_client)
    beat = now - dt.timedelta(seconds=heartbeat_ago_s)
    mongo_client[project.db_name]["migrations_lock"].insert_one(
        {"_id": "runway", "owner": "dead-owner", "token": "t", "user": "ghost", "host": host, "pid": pid,
         "client": "cli", "operation": "up", "acquired_at": beat - dt.timedelta(seconds=30), "heartbeat_at": beat,
         "expires_at": now + dt.timedelta(seconds=expires_in_s)})


def audit(mongo_client, project, name: str) -> list[dict]:
    return list(mongo_client[project.db_name]["auditlog"].find({"transaction_name": name}))


def test_a_dead_pid_on_this_host_is_said_at_once_and_its_lease_is_waited_out_then_taken_over(project, mongo_client):
    project.write_migration(1, "a", data_migration(1))
    pid = dead_pid()
    put_lease(mongo_client, project, host=socket.gethostname(), pid=pid, expires_in_s=1.5)
    said: list[tuple[str, dict | None]] = []
    with open_app(project, lock_wait_s=30) as app:
        def on_log(event: LogEvent) -> None:
            if event.level == "warning" and "looks dead" in event.message:  # at once: the dead lease still there
                said.append((event.message, mongo_client[project.db_name]["migrations_lock"].find_one()))

        app.subscribe(on_log, LogEvent)
        assert app.upgrade_once() == 1
    (message, lease_then), = said
    assert f"(pid {pid}, cli)" in message and "is not running" in message
    assert lease_then is not None and lease_then["owner"] == "dead-owner"
    (entry,) = audit(mongo_client, project, "LeaseTakenOverTransaction")
    assert "lease expired unreleased" in entry["detail"] and f"ghost@{socket.gethostname()} (pid {pid}, cli)" \
        in entry["detail"]
    assert entry["exc_name"] is None and entry["client"] == "api"


def test_a_dead_holder_whose_lease_outlasts_the_wait_is_refused_at_once(project, mongo_client):
    """The wait limit is 120 s: waiting it out would fail this test by its timeout; the refusal says why."""
    project.write_migration(1, "a", data_migration(1))
    pid = dead_pid()
    put_lease(mongo_client, project, host=socket.gethostname(), pid=pid, expires_in_s=600)
    with open_app(project, lock_wait_s=120) as app, pytest.raises(LockTimeoutError) as info:
        app.upgrade()
    message = str(info.value)
    assert f"(pid {pid}, cli)" in message and "is not running" in message and "looks dead" in message
    assert "after the lock wait of 120s" in message and "nothing was run" in message
    assert "runway-tui unlock --force" in message
    assert mongo_client[project.db_name]["things"].count_documents({}) == 0


def test_a_silent_heartbeat_elsewhere_is_said_and_refused_when_the_lease_outlasts_the_wait(project, mongo_client):
    """Another host's runner renews its 60 s lease every 20 s; none for 50 s: it looks dead, and its lease (10 s
    left) outlasts a wait of 5 s, so the refusal comes at once and says why."""
    project.write_migration(1, "a", data_migration(1))
    put_lease(mongo_client, project, host="elsewhere", pid=4242, expires_in_s=10, heartbeat_ago_s=50)
    with open_app(project, lock_wait_s=5) as app, pytest.raises(LockTimeoutError) as info:
        app.upgrade()
    message = str(info.value)
    assert "its heartbeat stopped 50s ago" in message and "looks dead" in message, message
    assert "after the lock wait of 5s" in message


def test_a_dead_pid_in_another_pid_namespace_of_this_host_is_not_judged(project, mongo_client):
    """Two containers may share a host name: a pid is only checked within our own pid namespace."""
    if pid_namespace() is None:
        pytest.skip("no /proc/self/ns/pid here: the host name alone decides")
    put_lease(mongo_client, project, host=socket.gethostname(), pid=dead_pid(), expires_in_s=600)
    with open_app(project) as app:
        assert app.lock_info().process_gone is True
        mongo_client[project.db_name]["migrations_lock"].update_one({}, {"$set": {"pid_ns": "pid:[1]"}})
        holder = app.lock_info()
        assert holder.process_gone is False and not holder.looks_dead and holder.live
