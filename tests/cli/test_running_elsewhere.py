"""A step another process is running is shown as running, and only a step whose runner is gone is interrupted
(issue 18): `status` names who runs it (user, host, pid, client, since when, progress), `check` does not fail on
it and nothing proposes `mark` or `unlock` for it; once its runner is killed, the same step is `interrupted` with
the remedy."""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess

import pytest

from runway_tui.engine.errors import ExitCode
from tests.cli.test_cli import set_config
from tests.engine.helpers import migration
from tests.reliability.helpers import spawn_cli
from tests.support.waiting import Gate, wait_until

RUNNER_KEYS = {"user", "host", "pid", "client", "since"}


def gated(gate: Gate, before: str = "") -> str:
    return before + ("\n" if before else "") + gate.wait_code(indent=0)


@pytest.fixture
def held(project, tmp_path):
    """`up` in another process, inside step 001 (no transaction: its record says `applying`) until released."""
    gate = Gate(tmp_path)
    project.write_migration(1, "slow_backfill", migration(1, up=gated(gate, "ctx.progress(40, 100)"),
                                                           transactional=False))
    runner = spawn_cli(project, "up")
    try:
        gate.wait_entered()
        yield runner, gate
    finally:
        gate.open()
        if runner.poll() is None:
            try:
                runner.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                runner.kill()
                runner.communicate()


def row_of(main_cli, version: int = 1) -> dict:
    data = json.loads(main_cli("status", "--json").stdout)
    return next(m for m in data["migrations"] if m["version"] == version)


def test_a_step_running_in_another_process_is_running_for_status_check_and_plan(main_cli, held):
    runner, gate = held
    row = row_of(main_cli)
    assert row["state"] == "running", row
    assert set(row["runner"]) == RUNNER_KEYS
    assert row["runner"]["pid"] == runner.pid and row["runner"]["client"] == "cli"
    assert row["runner"]["host"] == socket.gethostname()
    since = dt.datetime.fromisoformat(row["runner"]["since"].removesuffix("Z"))
    assert since <= dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=5)
    assert "failed" not in row["problems"]
    # progress is carried by the runner's heartbeat: shown once the next beat lands
    progressed = wait_until(lambda: row_of(main_cli)["progress"], "the runner's progress in status")
    assert progressed == {"done": 40, "total": 100}

    status = main_cli("status")
    assert status.returncode == 0, status.stderr
    line = next(text for text in status.stdout.splitlines() if "001_slow_backfill" in text)
    assert "running" in line and "failed" not in line, status.stdout
    assert f"pid {runner.pid}" in status.stdout and "cli" in status.stdout and "40/100" in status.stdout
    check = main_cli("check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads(main_cli("check", "--json").stdout)["ok"] is True
    plan = main_cli("plan")
    everything = status.stdout + check.stdout + plan.stdout + plan.stderr
    assert "running" in plan.stdout
    assert "mark" not in everything and "unlock" not in everything, everything
    data = json.loads(main_cli("status", "--json").stdout)
    assert data["counts"]["running"] == 1 and data["counts"]["failed"] == 0

    gate.open()
    out, err = runner.communicate(timeout=60)
    assert runner.returncode == 0, err
    assert row_of(main_cli)["state"] == "applied" and row_of(main_cli)["runner"] is None


def test_a_transactional_step_running_elsewhere_is_running_too(main_cli, project, tmp_path):
    gate = Gate(tmp_path)
    project.write_migration(1, "in_a_transaction", migration(1, up=gated(gate)))
    runner = spawn_cli(project, "up")
    try:
        gate.wait_entered()
        row = wait_until(lambda: (r := row_of(main_cli))["state"] == "running" and r,
                         "the transactional step to show as running")
        assert row["runner"]["pid"] == runner.pid and row["runner"]["client"] == "cli"
        assert main_cli("check").returncode == 0
    finally:
        gate.open()
        runner.communicate(timeout=60)
    assert runner.returncode == 0
    assert row_of(main_cli)["state"] == "applied"


def test_a_killed_runner_leaves_the_step_interrupted_with_the_remedy(main_cli, held):
    runner, _gate = held
    runner.kill()  # SIGKILL: no clean-up at all; its lease is still unexpired
    runner.communicate(timeout=30)
    row = row_of(main_cli)
    assert row["state"] == "interrupted", row
    assert set(row["runner"]) == RUNNER_KEYS and row["runner"]["pid"] == runner.pid
    assert "failed" in row["problems"]
    status = main_cli("status")
    line = next(text for text in status.stdout.splitlines() if "001_slow_backfill" in text)
    assert "interrupted" in line
    assert f"pid {runner.pid}" in status.stdout and "is not running" in status.stdout, status.stdout
    assert "runway-tui mark 1 --applied" in status.stdout
    check = main_cli("check")
    assert check.returncode == ExitCode.VALIDATION_FAILED
    assert "interrupted" in check.stdout and "runway-tui mark 1 --applied" in check.stdout
    data = json.loads(main_cli("status", "--json").stdout)
    assert data["counts"]["interrupted"] == 1 and data["counts"]["running"] == 0


def test_a_killed_runner_leaves_an_abandoned_attempt_and_the_next_runner_takes_its_lease_over(project, tmp_path,
                                                                                             main_cli):
    """Issue 18: the audit log of an incident says the lease was taken over and which attempt was abandoned."""
    gate = Gate(tmp_path)
    project.write_migration(1, "half_done", migration(1, up=gate.wait_code(indent=0), transactional=False))
    victim = spawn_cli(project, "up")
    gate.wait_entered()
    victim.kill()
    victim.communicate(timeout=30)
    set_config(project, "lock_wait_s: 5", "lock_wait_s: 30")
    blocked = main_cli("up")  # says at once that the holder is dead, waits out its lease (5 s), then refuses
    assert blocked.returncode == 4, blocked.stderr
    assert f"(pid {victim.pid}, cli)" in blocked.stderr and "looks dead" in blocked.stderr
    assert "was interrupted" in blocked.stderr and "runway-tui mark 1 --applied" in blocked.stderr
    history = json.loads(main_cli("history", "--json").stdout)["entries"]
    actions = [e["transaction_name"] for e in history]
    assert "LeaseTakenOverTransaction" in actions and "AbandonedStepTransaction" in actions
    abandoned = next(e for e in history if e["transaction_name"] == "AbandonedStepTransaction")
    assert abandoned["pid"] == victim.pid and abandoned["client"] == "cli"  # the attempt was the victim's
    assert abandoned["migration_read_model"]["version"] == 1 and abandoned["exc_name"] == "AbandonedAttempt"
    assert "never finished" in abandoned["exc_message"] and "found by" in abandoned["exc_message"]
    again = main_cli("up")  # found once: a second look writes no second entry
    assert again.returncode == 4
    entries = json.loads(main_cli("history", "--json").stdout)["entries"]
    assert [e["transaction_name"] for e in entries].count("AbandonedStepTransaction") == 1
    table = main_cli("history").stdout
    assert "abandoned" in table and "taken over" in table
