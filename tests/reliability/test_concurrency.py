"""16 runner processes race `up --all`, `down --all` and a mix of both against one database.

Afterwards every migration has its effects exactly once (counter, one marker each), the migrations
collection agrees with them, the audit log has exactly one successful entry per step, and each loser
either waited and found nothing to do (exit 0) or gave up waiting (exit 3) naming the lock holder.
"""

from __future__ import annotations

from collections import Counter

import pytest
from pymongo import MongoClient

from tests.reliability.helpers import (
    Finished,
    assert_consistent,
    no_traceback,
    race,
    read_state,
    record_figures,
    set_config,
    spawn_cli,
    write_counter_migrations,
)
from tests.support.cli import run_cli
from tests.support.project import Project
from tests.support.waiting import Gate

RACERS = 16
MIGRATIONS = 50


def _check_outcomes(results: list[Finished]) -> Counter[int]:
    codes = Counter(r.returncode for r in results)
    for r in results:
        no_traceback(r.stdout, r.stderr)
        assert r.returncode in (0, 3), f"{r.args} exited {r.returncode}:\n{r.stderr[-1500:]}"
        if r.returncode == 3:
            # the loser names who holds the lock (user@host, operation) and how to recover
            assert "the migration lock is held by" in r.stderr and "@" in r.stderr, r.stderr
    return codes


def _trial(project: Project, client: MongoClient, database: str) -> dict[str, int]:
    set_config(project, database=database)
    figures: dict[str, int] = {}

    # 1. 16 x `up --all`
    results = race(project, [("up", "--all")] * RACERS)
    codes = _check_outcomes(results)
    state = read_state(client, database)
    applied_by = [r for r in results if r.returncode == 0 and "applied 50 migration(s)" in r.stdout]
    assert state.counter == MIGRATIONS and sorted(state.seen) == list(range(1, MIGRATIONS + 1))
    assert all(state.markers[v] == 1 for v in range(1, MIGRATIONS + 1))
    assert state.applied == set(range(1, MIGRATIONS + 1))
    assert state.successes("UpgradeTransaction") == Counter(range(1, MIGRATIONS + 1))
    assert_consistent(state)
    nothing = [r for r in results if r.returncode == 0 and "nothing to apply" in r.stdout]
    assert len(applied_by) + len(nothing) + codes[3] == RACERS
    figures.update(up_exit0=codes[0], up_exit3=codes[3], up_workers=len({r.stdout for r in applied_by}))
    assert len(applied_by) >= 1

    # 2. 16 x `down --all`
    results = race(project, [("down", "--all")] * RACERS)
    codes = _check_outcomes(results)
    state = read_state(client, database)
    assert state.counter == 0 and state.seen == [] and not state.markers
    assert state.applied == set()
    assert state.successes("DowngradeTransaction") == Counter(range(1, MIGRATIONS + 1))
    assert_consistent(state)
    figures.update(down_exit0=codes[0], down_exit3=codes[3])

    # 3. a mix: 8 x `up --all`, 4 x `down --steps 7`, 4 x `up --steps 5`
    mix = [("up", "--all")] * 8 + [("down", "--steps", "7")] * 4 + [("up", "--steps", "5")] * 4
    results = race(project, mix)
    codes = _check_outcomes(results)
    state = read_state(client, database)
    assert_consistent(state)
    applied = sorted(state.applied)
    assert applied == list(range(1, len(applied) + 1)), "applied migrations must stay a prefix"
    assert state.counter == len(applied)
    figures.update(mix_exit0=codes[0], mix_exit3=codes[3], mix_final_applied=len(applied))

    # Nothing is left behind: the lock is free, and the entries are all successes.
    assert state.lock is None
    assert not [e for e in state.audit if e.get("exc_name")]
    figures["double_applies"] = sum(n - 1 for n in state.markers.values() if n > 1)
    return figures


def _run_trials(project: Project, mongo_client: MongoClient, db_name: str, trials: int) -> None:
    write_counter_migrations(project, MIGRATIONS)
    totals: Counter[str] = Counter()
    for i in range(trials):
        database = db_name if i == 0 else f"{db_name[:50]}_{i}"
        try:
            totals.update(_trial(project, mongo_client, database))
        finally:
            if i:
                mongo_client.drop_database(database)
    record_figures("concurrency", trials=trials, racers=RACERS, migrations=MIGRATIONS, **totals)
    assert totals["double_applies"] == 0


def test_sixteen_racers_one_trial(project: Project, mongo_client: MongoClient, db_name: str) -> None:
    _run_trials(project, mongo_client, db_name, trials=1)


@pytest.mark.slow
def test_sixteen_racers_twenty_trials(project: Project, mongo_client: MongoClient, db_name: str) -> None:
    _run_trials(project, mongo_client, db_name, trials=20)


def test_loser_times_out_naming_the_holder(project: Project, tmp_path) -> None:
    """A runner that cannot get the lock within lock_wait_s exits 3 and says who holds it.

    The holder is held inside its step (a gate) until the loser has given up, so the outcome never depends
    on which process the machine happened to start first."""
    set_config(project, lock_wait_s=1)
    gate = Gate(tmp_path)
    project.write_migration(1, "slow", '"""slow"""\nversion = 1\n\n\ndef upgrade(ctx):\n' + gate.wait_code()
                            + '\n\ndef downgrade(ctx):\n    pass\n')
    holder = spawn_cli(project, "up")
    try:
        gate.wait_entered()
        loser = run_cli("--config", str(project.config_path), "up", cwd=project.root)
    finally:
        gate.open()
    out, err = holder.communicate(timeout=60)
    assert holder.returncode == 0, err
    assert loser.returncode == 3, loser.stderr
    line = [x for x in loser.stderr.splitlines() if x.startswith("runway-tui: error:")]
    assert len(line) == 1 and "held by" in line[0] and "'up'" in line[0], loser.stderr
    # the holder is alive (it renews its lease): nothing proposes to remove its lock (issue 18)
    assert "unlock" not in line[0] and "released when that run finishes" in line[0], loser.stderr
    no_traceback(loser.stderr)
