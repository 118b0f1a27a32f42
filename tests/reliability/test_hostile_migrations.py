"""Migrations that leave by `BaseException` (sys.exit, Ctrl-C, SIGTERM) or misuse `ctx.session`.

Every way a step can end is a recorded attempt: an audit entry for it, a record that tells the truth
(pending with the error on a replica set, where the transaction rolled the effects back; `failed` with
the reason on a standalone server, where effects may remain), exit 1 (130 for an interrupt) with one
error line, no traceback, and the lock released. Each case runs on both topologies, in a real process.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from tests.reliability.helpers import no_traceback, one_line_error, record_figures, spawn_cli
from tests.support.project import Project

STEP = '''"""Hostile step"""
import pathlib
import sys
import time

version = 1
{top}

def upgrade(ctx):
    ctx.db.markers.insert_one({{"v": 1}}, session=ctx.session)
    {body}


def downgrade(ctx):
    ctx.db.markers.delete_one({{"v": 1}}, session=ctx.session)
'''
WAIT = '''pathlib.Path({started!r}).write_text("started")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not pathlib.Path({release!r}).exists():
        time.sleep(0.01)'''


@dataclass(frozen=True)
class Ending:
    id: str
    body: str = "pass"
    top: str = ""
    code: int = 1
    says: tuple[str, ...] = ()
    at_import: bool = False  # the file itself leaves while being loaded: nothing of upgrade() ran


ENDINGS = [
    Ending("sys-exit-0", "sys.exit(0)", says=("SystemExit", "sys.exit(0)")),
    Ending("sys-exit-3", "sys.exit(3)", says=("SystemExit", "sys.exit(3)")),
    Ending("sys-exit-message", 'sys.exit("msg from the migration")', says=("sys.exit(msg from the migration)",)),
    Ending("sys-exit-none", "sys.exit()", says=("SystemExit",)),
    Ending("raise-system-exit-class", "raise SystemExit", says=("SystemExit",)),
    Ending("keyboard-interrupt", "raise KeyboardInterrupt", code=130, says=("interrupted",)),
    Ending("generator-exit", "raise GeneratorExit('odd')", says=("GeneratorExit", "odd")),
    Ending("exit-at-import", top="sys.exit(0)", says=("SystemExit",), at_import=True),
    Ending("interrupt-at-import", top="raise KeyboardInterrupt", code=130, says=("interrupted",), at_import=True),
]


def _run(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    proc = spawn_cli(project, *args)
    out, err = proc.communicate(timeout=90)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def _assert_recorded_attempt(project: Project, exc_name: str, *, ran: bool) -> None:
    with MongoClient(project.uri, serverSelectionTimeoutMS=5000) as client:
        _assert_recorded(client[project.db_name], project, exc_name, ran=ran)


def _assert_recorded(db: Database, project: Project, exc_name: str, *, ran: bool) -> None:
    entries = list(db.auditlog.find({"migration_read_model.version": 1}).sort("date", 1))
    assert len(entries) == 1, entries
    assert entries[0]["transaction_name"] == "UpgradeTransaction"
    assert entries[0]["exc_name"] == exc_name
    assert entries[0]["exc_message"] and "\n" not in entries[0]["exc_message"]
    record = db.migrations.find_one({"_id": 1})
    assert record is not None and record["is_applied"] is False and record["error"], record
    markers = db.markers.count_documents({})
    if project.topology == "replica-set" or not ran:  # type: ignore[attr-defined]
        assert record["state"] == "pending", record
        assert markers == 0, "the rolled-back step left its effects"
    else:  # standalone: the marker may be there, and the record says so (blocked until `mark`)
        assert record["state"] == "failed", record
        assert markers == 1
    assert db.migrations_lock.find_one({"owner": {"$ne": None}}) is None, "the lock was not released"


@pytest.mark.parametrize("ending", ENDINGS, ids=lambda e: e.id)
def test_a_step_that_leaves_by_base_exception_is_a_recorded_attempt(ending: Ending, any_project: Project) -> None:
    any_project.write_migration(1, "hostile", STEP.format(body=ending.body, top=ending.top))
    result = _run(any_project, "up")
    no_traceback(result.stdout, result.stderr)
    assert result.returncode == ending.code, result.stderr
    line = one_line_error(result.stderr)
    assert "001_hostile" in line and "internal error" not in line
    for text in ending.says:
        assert text in line, line
    exc_name = {130: "KeyboardInterrupt"}.get(ending.code) or line.split(": ")[3].split()[-1]
    _assert_recorded_attempt(any_project, exc_name, ran=not ending.at_import)

    # What happens next is what the record says: retry on a replica set, blocked until `mark` on standalone.
    again = _run(any_project, "up")
    no_traceback(again.stdout, again.stderr)
    if any_project.topology == "standalone" and not ending.at_import:  # type: ignore[attr-defined]
        assert again.returncode == 4, again.stderr
        assert "mark 1" in one_line_error(again.stderr)
    else:
        assert again.returncode == ending.code
    record_figures("base-exception", case=ending.id, topology=any_project.topology,  # type: ignore[attr-defined]
                   held=True)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_step_is_a_recorded_attempt(signum: int, any_project: Project, tmp_path: Path) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    any_project.write_migration(1, "hostile", STEP.format(top="", body=WAIT.format(started=str(started),
                                                                                   release=str(release))))
    proc = spawn_cli(any_project, "up", "--json")
    deadline = time.monotonic() + 60
    while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert started.exists(), proc.communicate(timeout=10)
    proc.send_signal(signum)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        release.write_text("go")  # never leave the migration waiting
    no_traceback(out, err)
    assert proc.returncode == 130, err
    line = one_line_error(err)
    assert "001_hostile" in line and "interrupted" in line and "recorded" in line
    document = json.loads(out)
    assert document["ok"] is False and document["exit_code"] == 130
    _assert_recorded_attempt(any_project, "KeyboardInterrupt", ran=True)


# ------------------------------------------------------------------ randomised: a signal at any moment of a run
RANDOM_STEPS = 20


def _signal_trial(project: Project, seed: int) -> str:
    """`up --all` of counter migrations, SIGINT or SIGTERM at a random moment; returns where it landed.

    The moment is a random one among those the test has seen (a step at its gate, let go, or reported
    applied: `Stepper`), so the signal lands mid-run whatever the machine's speed."""
    import random

    from tests.reliability.helpers import ReportedSteps, Stepper, assert_consistent, read_state

    rng = random.Random(seed)
    stepper = Stepper(project, RANDOM_STEPS)
    step, moment = stepper.random_moment(rng)
    signum = rng.choice([signal.SIGINT, signal.SIGTERM])
    proc = spawn_cli(project, "up", "--all")
    reported = ReportedSteps(proc)
    with MongoClient(project.uri, serverSelectionTimeoutMS=5000) as client:
        try:
            stepper.reach(proc, reported, step, moment)
            proc.send_signal(signum)
        finally:
            stepper.release_all()  # never leave a step waiting
        out, err = reported.finish(timeout=60)
        no_traceback(out, err)
        state = read_state(client, project.db_name)
    assert proc.returncode == 130, f"seed {seed} ({moment} of step {step}): exit {proc.returncode}\n{err}"
    one_line_error(err)
    assert set(reported.done) <= state.applied and len(state.applied) < RANDOM_STEPS, (seed, reported.done)
    standalone = project.topology == "standalone"  # type: ignore[attr-defined]
    assert_consistent(state, settled_only=not standalone)
    interrupted = [v for v, r in state.records.items() if "interrupted" in (r.get("error") or "")]
    attempts = [e for e in state.audit if e.get("exc_name") == "KeyboardInterrupt"]
    assert len(interrupted) <= 1 and len(attempts) == len(interrupted), (seed, interrupted, attempts)
    if moment == "in its step":  # held inside its own code: the signal lands there, and it is that attempt
        assert interrupted == [step], (seed, step, interrupted)
    assert not {v: s for v, s in state.states.items() if s in ("applying", "reverting")}, (seed, state.states)
    for v, s in state.states.items():
        assert s != "failed" or (standalone and v in interrupted), (seed, v, state.records[v])
    return f"{moment} of step {step}: " + ("in a step" if interrupted else "between steps")


def test_a_signal_at_a_random_moment_leaves_a_consistent_record(any_project: Project) -> None:
    landed = [_signal_trial(any_project, seed=7 if any_project.topology == "standalone" else 3)]  # type: ignore[attr-defined]
    record_figures("signals-random", topology=any_project.topology, trials=1, landed=landed)  # type: ignore[attr-defined]


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
def test_a_signal_at_a_random_moment_twenty_times(seed: int, any_project: Project) -> None:
    landed = _signal_trial(any_project, seed)
    record_figures("signals-random", topology=any_project.topology, seed=seed, landed=landed)  # type: ignore[attr-defined]
