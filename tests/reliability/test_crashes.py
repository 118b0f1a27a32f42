"""kill -9 of a runner during `up --all` (replica set with transactions, standalone without), and the
server itself killed under a running CLI.

Each kill lands at a randomised point *mid-run*: the test reads what the runner reports (a "done" line per
applied step) and kills once it has reported a chosen number of steps, so the kill is proven to fall
between the first step and the last. After each kill: every step the runner reported applied is applied,
with its effects, and at most one more (committed, not yet reported); nothing is recorded applied without
its effects (or the reverse) when transactions are available; without them the interrupted migration is
shown `applying`/`failed`, further steps refuse until `mark` resolves it; the dead runner's lease expires
and the next run proceeds; the audit log has an entry for every completed step.

The server-kill test asks for durability: every step reported applied before the server died must be
there after it restarts. SecantusDB honours `j: true` on a transaction's commit only when started with
`--sync-on-commit` (mongod always does), so the replica-set daemon here runs with it; on the standalone
server each of our writes carries `j: true` itself.
"""

from __future__ import annotations

import random
import subprocess
import time
from collections import Counter

import pytest
from pymongo import MongoClient

from tests.reliability.helpers import (
    ReportedSteps,
    Stepper,
    assert_consistent,
    assert_survivors_match,
    no_traceback,
    one_line_error,
    read_state,
    record_figures,
    set_config,
    spawn_cli,
)
from tests.support.cli import run_cli
from tests.support.project import Project
from tests.support.server import Server, ServerFactory

MIGRATIONS = 50
TOPOLOGIES = ["replica-set", "standalone"]


@pytest.fixture(scope="module", params=TOPOLOGIES)
def crash_server(request: pytest.FixtureRequest, server_factory: ServerFactory) -> tuple[str, Server]:
    flags = ("--standalone",) if request.param == "standalone" else ()
    return request.param, server_factory.start(*flags)  # stopped (in parallel) at the end of the session


def _cli(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    result = run_cli("--config", str(project.config_path), *args, cwd=project.root, timeout=90)
    no_traceback(result.stdout, result.stderr)
    return result


def _resolve_by_hand(project: Project, client: MongoClient, database: str) -> str:
    """What an operator does for an interrupted step without transactions: look at the data, then mark."""
    state = read_state(client, database)
    (version, shown_state), = state.unsettled.items()
    marker, counted = state.markers[version], version in state.seen
    if marker and counted:
        action = "--applied"
    else:
        if marker:  # half applied: undo the first half by hand
            client[database].markers.delete_many({"v": version})
        action = "--pending"
    result = _cli(project, "mark", str(version), action)
    assert result.returncode == 0, result.stderr
    return shown_state


def _trial(project: Project, client: MongoClient, database: str, rng: random.Random, transactions: bool,
           stepper: Stepper) -> dict:
    set_config(project, database=database)
    figures: Counter[str] = Counter(trials=1)
    step, moment = stepper.random_moment(rng)  # a moment the test sees: the kill lands mid-run, however slow
    stepper.reset()
    victim = spawn_cli(project, "up", "--all")
    reported = ReportedSteps(victim)
    try:
        stepper.reach(victim, reported, step, moment)
        victim.kill()  # SIGKILL: no cleanup at all
    finally:
        reported.finish(timeout=30)
        stepper.release_all()  # the next run goes through every step
    assert victim.returncode == -9, "the runner ended before the kill"
    figures["killed_mid_run"] += 1
    figures[f"killed_{moment.replace(' ', '_')}"] += 1

    state = read_state(client, database)
    assert_survivors_match(state.applied, reported.done, MIGRATIONS)
    figures["reported_at_kill_total"] += len(reported.done)
    figures["applied_at_kill_total"] += len(state.applied)
    if state.lock is not None and state.lock.get("pid") == victim.pid:
        figures["lease_left_by_dead_runner"] += 1
    if transactions:
        assert not state.unsettled, f"with transactions nothing may be left half done: {state.unsettled}"
        assert_consistent(state)
    else:
        assert len(state.unsettled) <= 1, state.unsettled
        assert_consistent(state, settled_only=False)

    started = time.monotonic()
    result = _cli(project, "up", "--all")
    figures["recovery_wait_ms_total"] += int((time.monotonic() - started) * 1000)
    if state.unsettled:
        # without transactions: the interrupted step blocks everything until resolved by `mark`
        version = next(iter(state.unsettled))
        assert result.returncode == 4, result.stderr
        line = one_line_error(result.stderr)
        assert f"version {version}" in line and "mark" in line, line
        figures[f"interrupted_{_resolve_by_hand(project, client, database)}"] += 1
        again = _cli(project, "status")
        assert again.returncode == 0
        result = _cli(project, "up", "--all")
    assert result.returncode == 0, result.stderr

    state = read_state(client, database)
    assert state.applied == set(range(1, MIGRATIONS + 1))
    assert state.counter == MIGRATIONS and state.lock is None
    assert_consistent(state)
    return dict(figures)


def _run_trials(project: Project, client: MongoClient, server: tuple[str, Server], trials: int, seed: int) -> None:
    topology, srv = server
    set_config(project, uri=srv.uri, lock_ttl_s=2, lock_wait_s=15)
    stepper = Stepper(project, MIGRATIONS)
    rng = random.Random(seed)
    totals: Counter[str] = Counter()
    with MongoClient(srv.uri) as direct:
        hello = direct.admin.command("hello")
        assert bool(hello.get("setName")) is (topology == "replica-set")
        for i in range(trials):
            # a fresh database per trial, left on this throw-away server: after a kill -9 mid-transaction
            # SecantusDB's dropDatabase can block until the orphaned transaction is reaped
            database = f"crash_{seed}_{i}"
            totals.update(_trial(project, direct, database, rng, transactions=topology == "replica-set",
                                 stepper=stepper))
    record_figures(f"crash kill -9 runner ({topology})", seed=seed, **totals)
    assert totals["trials"] == trials


def test_kill_runner_a_few_times(project: Project, mongo_client: MongoClient, crash_server) -> None:
    _run_trials(project, mongo_client, crash_server, trials=2, seed=7)


@pytest.mark.slow
def test_kill_runner_thirty_times(project: Project, mongo_client: MongoClient, crash_server) -> None:
    _run_trials(project, mongo_client, crash_server, trials=30, seed=2024)


# --------------------------------------------------------------------------------------- server killed
@pytest.mark.parametrize("topology", ["replica-set", "standalone"])
def test_server_killed_under_cli(project: Project, server_factory: ServerFactory, topology: str) -> None:
    flags = ("--standalone",) if topology == "standalone" else ("--sync-on-commit",)
    server = server_factory.start(*flags)
    set_config(project, uri=server.uri, server_selection_ms=2000, connect_ms=2000, lock_ttl_s=2, lock_wait_s=15)
    stepper = Stepper(project, 10)
    database = project.db_name
    step, moment = stepper.random_moment(random.Random(), first=2)  # a moment the test sees: mid-run
    runner = spawn_cli(project, "up", "--all")
    reported = ReportedSteps(runner)
    try:
        stepper.reach(runner, reported, step, moment)
        server.kill()
    finally:
        stepper.release_all()
    out, err = reported.finish(timeout=60)  # a hang would fail here
    no_traceback(out, err)
    assert runner.returncode == 5, err
    line = one_line_error(err)
    assert "cannot reach the server" in line and "127.0.0.1" in line, line

    # The server comes back on its data: every step reported applied is there; what is recorded matches.
    revived = server_factory.start(*flags, storage_path=server.storage_path)
    set_config(project, uri=revived.uri)
    with MongoClient(revived.uri) as direct:
        state = read_state(direct, database)
        assert_survivors_match(state.applied, reported.done, 10)
        if topology == "replica-set":
            assert not state.unsettled
            assert_consistent(state)
        else:
            assert len(state.unsettled) <= 1
            assert_consistent(state, settled_only=False)
        status = _cli(project, "status")
        assert status.returncode == 0
        result = _cli(project, "up", "--all")
        if state.unsettled:
            assert result.returncode == 4 and "mark" in one_line_error(result.stderr)
            _resolve_by_hand(project, direct, database)
            result = _cli(project, "up", "--all")
        assert result.returncode == 0, result.stderr
        final = read_state(direct, database)
        assert final.applied == set(range(1, 11)) and final.counter == 10
        assert_consistent(final)
    record_figures(f"server killed under CLI ({topology})", moment=f"{moment} of step {step}",
                   reported_before_kill=len(reported.done),
                   survived=len(state.applied), interrupted=dict(state.unsettled))
