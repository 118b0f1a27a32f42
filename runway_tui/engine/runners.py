"""Who runs a step, and whether they still do: running is a step whose runner holds a live lease; a step whose
runner is gone (its lease expired or was released, or on this host its process no longer exists) is interrupted.

A step without a transaction marks its record `applying`/`reverting` with its runner (`runner_document`), the
lease owner among them; a step in a transaction writes nothing before it commits, so its runner's heartbeat
names it in the lease instead (`LeaseStep`). Either way `activity_of` tells running from interrupted by
comparing the record with the lease, without asking the runner anything.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from runway_tui.engine.models import Direction, LockInfo, MigrationRecord, Runner, State, StepActivity

CLIENTS = ("cli", "tui", "api")  # what a runner is; entries Mongorunway itself wrote read back as "mongorunway"


def pid_namespace() -> str | None:
    """This process's pid namespace (Linux), so two containers sharing a host name never judge each other's pids."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def process_running(pid: int) -> bool:
    """Whether a process with this pid exists on this machine (unknown counts as running)."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, as another user's
        return True
    return True


def runner_document(*, owner: str, user: str, host: str, pid: int, client: str, since: dt.datetime) -> dict[str, Any]:
    """What a record in `applying`/`reverting` says about its runner."""
    return {"owner": owner, "user": user, "host": host, "pid": pid, "client": client, "since": since}


def activity_of(record: MigrationRecord, lease: LockInfo | None) -> StepActivity | None:
    """The step in progress (or interrupted) on `record`, from the record and the lease as read now."""
    if record.state in (State.APPLYING, State.REVERTING):
        direction = Direction.UP if record.state is State.APPLYING else Direction.DOWN
        runner = Runner.from_document(record.runner)
        if runner is None:  # marked before runners were recorded: a live lease may be its own
            if lease is not None and lease.live:
                return _live(direction, _lease_runner(lease), lease, record.version)
            return StepActivity(direction, None, live=False, gone=_gone(None, lease))
        if lease is not None and lease.owner == runner.owner and lease.live:
            return _live(direction, runner, lease, record.version)
        return StepActivity(direction, runner, live=False, gone=_gone(runner, lease))
    step = lease.step if lease is not None and lease.live else None
    if step is None or step.version != record.version:
        return None
    # a step in a transaction: its record changes only when it commits
    if step.direction == Direction.UP.value and not record.is_applied:
        return _live(Direction.UP, _lease_runner(lease), lease, record.version)  # type: ignore[arg-type]
    if step.direction == Direction.DOWN.value and record.is_applied:
        return _live(Direction.DOWN, _lease_runner(lease), lease, record.version)  # type: ignore[arg-type]
    return None


def _live(direction: Direction, runner: Runner, lease: LockInfo, version: int) -> StepActivity:
    step = lease.step if lease.step is not None and lease.step.version == version else None
    return StepActivity(direction, runner, live=True, done=step.done if step else None,
                        total=step.total if step else None, paused_by=step.paused_by if step else None)


def _lease_runner(lease: LockInfo) -> Runner:
    since = lease.step.since if lease.step is not None else lease.acquired_at
    return Runner(lease.user, lease.host, lease.pid, lease.client, since, lease.owner)


def _gone(runner: Runner | None, lease: LockInfo | None) -> str:
    if lease is None:
        return "its runner no longer holds the migration lock (it was released, or expired and removed)"
    if runner is not None and lease.owner != runner.owner:
        return f"the migration lock is now held by {lease.who}, not by its runner"
    return lease.gone_reason() or "its runner no longer holds the migration lock"
