"""kill -9 and SIGINT in the middle of a backfill: exactly once on a replica set, `paused` (never `failed`),
and the next `up` finishes the job from the checkpoint.

Each kill lands at a random point mid-walk: the test reads the checkpoint and kills once it has passed a
randomly chosen count, so the kill falls between the first batch and the last. The dead runner's batch in
flight dies with its session: taking over the lease ends it (`killSessions`), so the next runner's writes
never wait on its locks.
"""

from __future__ import annotations

import json
import random
import signal

import pytest

from tests.backfill.helpers import audit_actions, counters, done, record, seed_items, write_inc
from tests.reliability.helpers import no_traceback, spawn_cli
from tests.support.cli import run_cli
from tests.support.waiting import wait_until


def _cli(project, *args, timeout=300):
    result = run_cli("--config", str(project.config_path), *args, cwd=project.root, timeout=timeout)
    no_traceback(result.stdout, result.stderr)
    return result


def _kill_three_times_then_finish(project, mongo_client, db_name, count, seed):
    seed_items(mongo_client, db_name, count)
    write_inc(project)
    rng = random.Random(seed)
    for trial in range(3):
        before = done(mongo_client, db_name)
        target = before + int((count - before) * rng.uniform(0.1, 0.6))
        victim = spawn_cli(project, "up")
        try:
            wait_until(lambda t=target, p=victim: done(mongo_client, db_name) >= t or p.poll() is not None,
                       f"kill {trial + 1}: the checkpoint to pass {target:,}", timeout=300)
        finally:
            victim.kill()  # SIGKILL: no clean-up at all
            victim.communicate(timeout=30)
        assert victim.returncode == -9, "the runner ended before the kill"
        at = done(mongo_client, db_name)
        # every committed batch is in the checkpoint, and nothing beyond it: exactly what the database holds
        assert counters(mongo_client, db_name) == {1: at, 0: count - at}, f"after kill {trial + 1}"
        status = json.loads(_cli(project, "status", "--json").stdout)
        row = next(r for r in status["migrations"] if r["version"] == 1)
        assert row["state"] in ("paused", "running"), row  # running until the dead runner's lease expires
    result = _cli(project, "up")
    assert result.returncode == 0, result.stderr
    assert counters(mongo_client, db_name) == {1: count}, "every document counted exactly once"
    stored = record(mongo_client, db_name)
    assert stored["state"] == "applied" and stored.get("backfill") is None
    actions = audit_actions(mongo_client, db_name)
    assert actions.count("BackfillPauseTransaction") == 3  # each death found and audited (runner lost)
    assert actions.count("BackfillResumeTransaction") == 3 and actions[-1] == "UpgradeTransaction"


def test_kill_9_three_times_mid_walk_counts_every_document_exactly_once(project, mongo_client, db_name):
    _kill_three_times_then_finish(project, mongo_client, db_name, 20_000, seed=26)


@pytest.mark.slow
def test_kill_9_three_times_on_200k_documents(project, mongo_client, db_name):
    _kill_three_times_then_finish(project, mongo_client, db_name, 200_000, seed=200)


def test_sigint_leaves_it_paused_and_up_finishes(project, mongo_client, db_name):
    count = 10_000
    seed_items(mongo_client, db_name, count)
    write_inc(project, args=", batch_size=200, max_docs_per_s=4000")
    victim = spawn_cli(project, "up")
    wait_until(lambda: done(mongo_client, db_name) >= 1_000, "the walk to get going")
    victim.send_signal(signal.SIGINT)
    out, err = victim.communicate(timeout=60)
    no_traceback(out, err)
    assert victim.returncode == 130, err
    at = done(mongo_client, db_name)
    assert f"paused at {at * 100 // count}% ({at:,} of {count:,})" in err, err
    assert "run 'runway-tui up' to resume" in err, err
    assert counters(mongo_client, db_name) == {1: at, 0: count - at}
    status = json.loads(_cli(project, "status", "--json").stdout)
    row = next(r for r in status["migrations"] if r["version"] == 1)
    assert row["state"] == "paused" and row["progress"] == {"done": at, "total": count, "last_id": at - 1}
    text = _cli(project, "status").stdout
    assert f"paused at {at * 100 // count}% ({at:,} of {count:,}): interrupted" in text, text
    history = _cli(project, "history").stdout
    assert "backfill pause" in history and "backfill start" in history, history
    result = _cli(project, "up")
    assert result.returncode == 0, result.stderr
    assert counters(mongo_client, db_name) == {1: count}
