"""`runway-tui fleet ...` on real servers: many tenant databases on two clusters (issue 22).

The second "cluster" is a second SecantusDB daemon; tenant databases carry a prefix of their own per test, and
the control database too, so tests never see each other's runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from tests.support.fleet import FleetProject, as_json, drop_prefixed, make_tenants, versions
from tests.support.server import free_port
from tests.support.waiting import Gate, wait_until

COUNTED = """\
\"\"\"{what}: every execution leaves one line in a file per tenant (outside any transaction)\"\"\"
import os
version = {version}


def upgrade(ctx):
    with open(os.path.join({counts!r}, ctx.db.name + ".{version}"), "a") as f:
        f.write("up\\n")
    ctx.db.items.insert_one({{"v": {version}}}, session=ctx.session)
{extra}

def downgrade(ctx):
    ctx.db.items.delete_many({{"v": {version}}}, session=ctx.session)
"""


@pytest.fixture(scope="module")
def second_uri(server_factory) -> str:
    """A second server: the fleet's second cluster."""
    return server_factory.start().uri


@pytest.fixture
def counts(tmp_path: Path) -> Path:
    folder = tmp_path / "counts"
    folder.mkdir()
    return folder


@pytest.fixture
def cleanup(mongo_uri: str) -> Iterator[list[tuple[str, str]]]:
    """(uri, prefix) pairs whose databases are dropped after the test."""
    pairs: list[tuple[str, str]] = []
    yield pairs
    for uri, prefix in pairs:
        drop_prefixed(uri, prefix)


def names(prefix: str, count: int, first: int = 0) -> list[str]:
    return [f"{prefix}_t{i:03d}" for i in range(first, first + count)]


def executions(counts: Path, database: str, version: int) -> int:
    path = counts / f"{database}.{version}"
    return len(path.read_text().splitlines()) if path.exists() else 0


def two_cluster_fleet(tmp_path, mongo_uri, second_uri, cleanup, per_cluster: int, **options) -> tuple[
        FleetProject, list[str], list[str]]:
    fleet = FleetProject.create(tmp_path / "fleet", [(mongo_uri, '{match: "{prefix}_t*"}'),
                                                     (second_uri, '{match: "{prefix}_t*"}')], mongo_uri, **options)
    cleanup.extend([(mongo_uri, fleet.prefix), (second_uri, fleet.prefix)])
    first, second = names(fleet.prefix, per_cluster), names(fleet.prefix, per_cluster, first=per_cluster)
    make_tenants(mongo_uri, first)
    make_tenants(second_uri, second)
    return fleet, first, second


# ------------------------------------------------------------------------------------------ status, plan
def test_fleet_status_is_one_line_per_tenant_and_a_summary_and_writes_nothing(tmp_path, mongo_uri, second_uri,
                                                                              cleanup, counts):
    fleet, first, second = two_cluster_fleet(tmp_path, mongo_uri, second_uri, cleanup, 3)
    fleet.write_migration(1, "one", COUNTED.format(what="one", version=1, counts=str(counts), extra=""))
    result = fleet.cli("fleet", "status")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["CLUSTER", "DATABASE", "VERSION", "PENDING"]
    for name in first + second:
        assert sum(name in line for line in lines) == 1, result.stdout
    assert "6 tenant(s): 0 up to date, 6 pending" in result.stdout
    data = as_json(fleet.cli("fleet", "status", "--json"))
    assert [d["database"] for d in data["databases"]] == first + second
    row = data["databases"][0]
    assert set(row) >= {"cluster", "database", "current_version", "pending", "problems", "lock"}
    assert row["pending"] == 1 and row["current_version"] is None and row["lock"] is None
    assert data["counts"]["pending"] == 6 and data["counts"]["databases"] == 6
    with MongoClient(mongo_uri) as client:
        assert "migrations" not in client[first[0]].list_collection_names()  # inspection never writes


def test_fleet_plan_lists_each_tenants_steps_and_runs_nothing(tmp_path, mongo_uri, second_uri, cleanup, counts):
    fleet, first, second = two_cluster_fleet(tmp_path, mongo_uri, second_uri, cleanup, 2)
    for version in (1, 2):
        fleet.write_migration(version, f"v{version}", COUNTED.format(what="v", version=version, counts=str(counts),
                                                                     extra=""))
    result = fleet.cli("fleet", "plan")
    assert result.returncode == 0, result.stderr
    assert "4 tenant(s): 4 to run, 0 blocked (dry run: nothing was run)" in result.stdout
    data = as_json(fleet.cli("fleet", "plan", "--json"))
    assert [d["steps"] for d in data["databases"]] == [[1, 2]] * 4
    assert not list(counts.iterdir())


# ------------------------------------------------------------------------------------------ fleet up
def test_fleet_up_runs_every_tenant_records_the_run_and_prints_a_line_per_tenant(tmp_path, mongo_uri, second_uri,
                                                                                 cleanup, counts):
    fleet, first, second = two_cluster_fleet(tmp_path, mongo_uri, second_uri, cleanup, 3)
    fleet.write_migration(1, "one", COUNTED.format(what="one", version=1, counts=str(counts), extra=""))
    result = fleet.cli("fleet", "up", "--json")
    assert result.returncode == 0, result.stderr
    data = as_json(result)
    assert set(data) >= {"run_id", "application", "counts", "targets"}
    assert data["application"] == "tenants"
    assert data["counts"] == {"ok": 6, "failed": 0, "blocked": 0, "unchanged": 0, "not_started": 0}
    target = data["targets"][0]
    assert set(target) >= {"cluster", "database", "from", "to", "result", "error", "duration_ms", "runner"}
    assert (target["from"], target["to"], target["result"], target["error"]) == (None, 1, "ok", None)
    assert "127.0.0.1" in target["cluster"]
    for name in first + second:  # one line per tenant as it finishes, on stderr beside the JSON
        assert sum(name in line and line.startswith("ok") for line in result.stderr.splitlines()) == 1
    assert versions(mongo_uri, first) == dict.fromkeys(first, [1])
    assert versions(second_uri, second) == dict.fromkeys(second, [1])
    again = fleet.cli("fleet", "up")
    assert again.returncode == 0 and "6 unchanged" in again.stdout
    history = fleet.cli("fleet", "history", "--json")
    runs = as_json(history)["runs"]
    assert [r["state"] for r in runs] == ["finished", "finished"] and runs[1]["run_id"] == data["run_id"]
    one = as_json(fleet.cli("fleet", "history", "--run", data["run_id"], "--json"))
    assert one["counts"]["ok"] == 6


def test_two_runners_started_together_migrate_every_tenant_exactly_once(tmp_path, mongo_uri, second_uri, cleanup,
                                                                        counts):
    fleet, first, second = two_cluster_fleet(tmp_path, mongo_uri, second_uri, cleanup, 25, concurrency=3)
    fleet.write_migration(1, "one", COUNTED.format(what="one", version=1, counts=str(counts), extra=""))
    fleet.write_migration(2, "two", COUNTED.format(what="two", version=2, counts=str(counts), extra=""))
    runners = [fleet.popen("fleet", "up", "--all", "--json") for _ in range(2)]
    outputs = [runner.communicate(timeout=300) for runner in runners]
    for runner, (_out, err) in zip(runners, outputs, strict=True):
        assert runner.returncode == 0, err
    reports = [json.loads(out) for out, _err in outputs]
    assert reports[0]["run_id"] == reports[1]["run_id"]  # one run: the second joined it
    for report in reports:
        assert report["counts"]["ok"] == 50 and report["counts"]["failed"] == 0
    for name in first + second:
        assert (executions(counts, name, 1), executions(counts, name, 2)) == (1, 1), name
    assert versions(mongo_uri, first) == dict.fromkeys(first, [1, 2])
    assert versions(second_uri, second) == dict.fromkeys(second, [1, 2])
    assert reports[0]["targets"] == reports[1]["targets"]  # both report the whole run, from its record


FAILING = """\
\"\"\"fails on one tenant\"\"\"
import os
version = 1


def upgrade(ctx):
    with open(os.path.join({counts!r}, ctx.db.name + ".1"), "a") as f:
        f.write("up\\n")
    if ctx.db.name == {bad!r}:
        raise RuntimeError("this tenant's data is wrong")
    ctx.db.items.insert_one({{"v": 1}}, session=ctx.session)


def downgrade(ctx):
    ctx.db.items.delete_many({{"v": 1}}, session=ctx.session)
"""


@pytest.mark.parametrize(("budget", "ok", "not_started"), [(0, 2, 5), (5, 7, 0)])
def test_a_failing_tenant_spends_the_failure_budget(tmp_path, mongo_uri, cleanup, counts, budget, ok, not_started):
    fleet = FleetProject.create(tmp_path / "fleet", [(mongo_uri, '{match: "{prefix}_t*"}')], mongo_uri,
                                concurrency=1, max_failures=budget)
    cleanup.append((mongo_uri, fleet.prefix))
    tenants = names(fleet.prefix, 8)
    make_tenants(mongo_uri, tenants)
    bad = tenants[2]
    fleet.write_migration(1, "one", FAILING.format(counts=str(counts), bad=bad))
    result = fleet.cli("fleet", "up", "--json")
    assert result.returncode == 1, result.stderr
    data = as_json(result)
    assert data["counts"] == {"ok": ok, "failed": 1, "blocked": 0, "unchanged": 0, "not_started": not_started}
    by_name = {t["database"]: t for t in data["targets"]}
    assert by_name[bad]["result"] == "failed" and "this tenant's data is wrong" in by_name[bad]["error"]
    applied = versions(mongo_uri, tenants)
    for name in tenants:  # the record says exactly which tenant is at which version
        result_of = by_name[name]["result"]
        assert applied[name] == ([1] if result_of == "ok" else []), name
        assert executions(counts, name, 1) == (0 if result_of == "not_started" else 1), name
        if result_of == "not_started":
            assert "failure budget spent" in by_name[name]["error"]
    human = fleet.cli("fleet", "history", "--run", data["run_id"])
    assert f"{ok} ok, 1 failed" in human.stdout


def test_an_unreachable_cluster_is_not_started_with_the_reason_and_the_others_finish(tmp_path, mongo_uri, cleanup,
                                                                                   counts):
    down = f"mongodb://127.0.0.1:{free_port()}/?directConnection=true"
    fleet = FleetProject.create(tmp_path / "fleet", [(mongo_uri, '{match: "{prefix}_t*"}'),
                                                     (down, "{list: [{prefix}_gone_a, {prefix}_gone_b]}"),
                                                     (down, '{match: "{prefix}_*"}')],
                                mongo_uri, selection_ms=300)
    cleanup.append((mongo_uri, fleet.prefix))
    tenants = names(fleet.prefix, 4)
    make_tenants(mongo_uri, tenants)
    fleet.write_migration(1, "one", COUNTED.format(what="one", version=1, counts=str(counts), extra=""))
    result = fleet.cli("fleet", "up", "--json")
    assert result.returncode == 5, result.stderr
    data = as_json(result)
    assert data["counts"]["ok"] == 4 and data["counts"]["not_started"] == 2
    gone = [t for t in data["targets"] if t["result"] == "not_started"]
    assert [t["database"] for t in gone] == [f"{fleet.prefix}_gone_a", f"{fleet.prefix}_gone_b"]
    assert all(t["error"].startswith("cluster unreachable: cannot reach") for t in gone)
    assert len(data["unreachable"]) == 2  # the list target and the match target of the server that is down
    human = fleet.cli("fleet", "up", "--new")
    assert human.returncode == 5
    assert "unreachable:" in human.stdout and "4 unchanged, 2 not started" in human.stdout
    status = fleet.cli("fleet", "status")
    assert status.returncode == 5 and "unreachable" in status.stdout


PROBED = """\
\"\"\"holds each tenant at a gate while counting the tenants in flight on its server\"\"\"
version = 1


def upgrade(ctx):
    probe = ctx.client[{probe!r}]["active"]
    probe.update_one({{"_id": "now"}}, {{"$inc": {{"n": 1}}}}, upsert=True)
    now = probe.find_one({{"_id": "now"}})["n"]
    probe.update_one({{"_id": "max"}}, {{"$max": {{"n": now}}}}, upsert=True)
{gate}
    probe.update_one({{"_id": "now"}}, {{"$inc": {{"n": -1}}}})
    ctx.db.items.insert_one({{"v": 1}}, session=ctx.session)


def downgrade(ctx):
    pass
"""


def test_concurrency_holds_per_cluster_across_two_runners(tmp_path, mongo_uri, second_uri, cleanup):
    fleet, first, second = two_cluster_fleet(tmp_path, mongo_uri, second_uri, cleanup, 8, concurrency=2)
    probe = f"{fleet.prefix}_probe"
    gate = Gate(tmp_path / "gates")
    fleet.write_migration(1, "probe", PROBED.format(probe=probe, gate=gate.wait_code()))
    runners = [fleet.popen("fleet", "up", "--json") for _ in range(2)]

    def in_flight(uri: str) -> int:
        with MongoClient(uri) as client:
            doc = client[probe]["active"].find_one({"_id": "now"})
            return doc["n"] if doc else 0

    # the cap reached on both servers while every tenant is held at the gate
    wait_until(lambda: in_flight(mongo_uri) == 2 and in_flight(second_uri) == 2, "two tenants in flight on each")
    gate.open()
    for runner in runners:
        _out, err = runner.communicate(timeout=300)
        assert runner.returncode == 0, err
    for uri in (mongo_uri, second_uri):
        with MongoClient(uri) as client:
            assert client[probe]["active"].find_one({"_id": "max"})["n"] == 2  # never more than 2 at once
    assert versions(mongo_uri, first) == dict.fromkeys(first, [1])
    assert versions(second_uri, second) == dict.fromkeys(second, [1])


def test_a_fleet_application_refuses_the_single_database_commands_in_one_line(tmp_path, mongo_uri, cleanup):
    fleet = FleetProject.create(tmp_path / "fleet", [(mongo_uri, '{match: "{prefix}_t*"}')], mongo_uri)
    result = fleet.cli("status")
    assert result.returncode == 2
    assert result.stderr.strip() == ("runway-tui: error: application 'tenants' is a fleet of tenant databases: "
                                     "use 'runway-tui fleet status' (see 'runway-tui fleet --help')")


HELD = """\
\"\"\"held at a gate on one tenant\"\"\"
import os
version = 1


def upgrade(ctx):
    with open(os.path.join({counts!r}, ctx.db.name + ".1"), "a") as f:
        f.write("up\\n")
    if ctx.db.name == {held!r}:
{gate}
    ctx.db.items.insert_one({{"v": 1}}, session=ctx.session)  # in the step's transaction: once per commit


def downgrade(ctx):
    ctx.db.items.delete_many({{"v": 1}}, session=ctx.session)
"""


def holder_pid(uri: str, control_db: str, database: str) -> int:
    with MongoClient(uri) as client:
        doc = client[control_db]["fleet_tenants"].find_one({"database": database, "result": None})
    return int(doc["claim"]["runner"].split(":")[-2]) if doc and doc.get("claim") else 0


def test_kill_9_of_one_runner_mid_tenant_the_other_takes_it_over_and_nothing_commits_twice(
        tmp_path, mongo_uri, cleanup, counts):
    import os
    import signal

    fleet = FleetProject.create(tmp_path / "fleet", [(mongo_uri, '{match: "{prefix}_t*"}')], mongo_uri,
                                concurrency=2, ttl_s=2, wait_s=30)
    cleanup.append((mongo_uri, fleet.prefix))
    tenants = names(fleet.prefix, 6)
    make_tenants(mongo_uri, tenants)
    held = tenants[1]
    gate = Gate(tmp_path / "gates")
    fleet.write_migration(1, "one", HELD.format(counts=str(counts), held=held, gate=gate.wait_code(indent=8)))
    runners = [fleet.popen("fleet", "up", "--json") for _ in range(2)]
    gate.wait_entered()
    pid = wait_until(lambda: holder_pid(mongo_uri, fleet.control_db, held), "the runner holding the gated tenant")
    victim = next(r for r in runners if r.pid == pid)
    survivor = next(r for r in runners if r.pid != pid)
    os.kill(victim.pid, signal.SIGKILL)
    victim.communicate(timeout=60)
    gate.open()
    out, err = survivor.communicate(timeout=300)
    assert survivor.returncode == 0, err
    report = json.loads(out)
    assert report["counts"]["ok"] == 6, [(t["database"], t["result"], t["error"]) for t in report["targets"]]
    assert versions(mongo_uri, tenants) == dict.fromkeys(tenants, [1])
    with MongoClient(mongo_uri) as client:
        assert {name: client[name]["items"].count_documents({}) for name in tenants} == dict.fromkeys(tenants, 1)
    survivor_id = next(t["runner"] for t in report["targets"] if t["database"] == held)
    assert f":{survivor.pid}:" in survivor_id  # the survivor ran the tenant the killed runner held
    assert executions(counts, held, 1) == 2  # entered by the killed runner (rolled back), then by the survivor


def test_a_run_whose_runners_all_stopped_resumes_with_its_id_skipping_finished_tenants(tmp_path, mongo_uri,
                                                                                      cleanup, counts):
    import os
    import signal

    fleet = FleetProject.create(tmp_path / "fleet", [(mongo_uri, '{match: "{prefix}_t*"}')], mongo_uri,
                                concurrency=1, ttl_s=2, wait_s=30)
    cleanup.append((mongo_uri, fleet.prefix))
    tenants = names(fleet.prefix, 4)
    make_tenants(mongo_uri, tenants)
    gate = Gate(tmp_path / "gates")
    fleet.write_migration(1, "one", HELD.format(counts=str(counts), held=tenants[2], gate=gate.wait_code(indent=8)))
    runner = fleet.popen("fleet", "up")
    gate.wait_entered()
    os.kill(runner.pid, signal.SIGKILL)
    runner.communicate(timeout=60)
    gate.open()
    running = as_json(fleet.cli("fleet", "history", "--json"))["runs"][0]
    assert running["state"] == "running"
    other = fleet.cli("fleet", "down")
    assert other.returncode == 2 and "is in progress with another request" in other.stderr
    result = fleet.cli("fleet", "up", "--resume", running["run_id"], "--json")
    assert result.returncode == 0, result.stderr
    data = as_json(result)
    assert data["run_id"] == running["run_id"] and data["counts"]["ok"] == 4
    assert [executions(counts, name, 1) for name in tenants] == [1, 1, 2, 1]  # the first two were not run again
    assert versions(mongo_uri, tenants) == dict.fromkeys(tenants, [1])
    assert as_json(fleet.cli("fleet", "history", "--json"))["runs"][0]["state"] == "finished"


def test_fleet_down_and_check_on_every_tenant(tmp_path, mongo_uri, second_uri, cleanup, counts):
    fleet, first, second = two_cluster_fleet(tmp_path, mongo_uri, second_uri, cleanup, 2)
    for version in (1, 2):
        fleet.write_migration(version, f"v{version}", COUNTED.format(what="v", version=version, counts=str(counts),
                                                                     extra=""))
    assert fleet.cli("fleet", "up").returncode == 0
    check = fleet.cli("fleet", "check")
    assert check.returncode == 0 and "ok: 4 tenant(s), no problems" in check.stdout
    down = fleet.cli("fleet", "down", "--json")
    assert down.returncode == 0, down.stderr
    assert {(t["from"], t["to"]) for t in as_json(down)["targets"]} == {(2, 1)}  # one step by default
    assert versions(mongo_uri, first) == dict.fromkeys(first, [1])
    (fleet.scripts_dir / "001_v1.py").write_text(COUNTED.format(what="edited", version=1, counts=str(counts),
                                                                extra=""))
    drift = fleet.cli("fleet", "check", "--json")
    assert drift.returncode == 4
    assert {d["database"] for d in as_json(drift)["databases"]} == set(first + second)
    blocked = fleet.cli("fleet", "down", "--json")  # reverting the edited migration: refused on each tenant
    assert blocked.returncode == 4, blocked.stderr
    data = as_json(blocked)
    assert data["counts"]["blocked"] == 4
    assert all("changed" in t["error"] or "drift" in t["error"] for t in data["targets"]), data["targets"]
    assert versions(mongo_uri, first) == dict.fromkeys(first, [1])


def test_a_tenant_whose_lease_is_held_elsewhere_beyond_the_lock_wait_is_not_started_exit_3(tmp_path, mongo_uri,
                                                                                           cleanup, counts):
    import os
    import subprocess
    import sys

    from tests.support.cli import REPO_ROOT
    from tests.support.project import Project

    fleet = FleetProject.create(tmp_path / "fleet", [(mongo_uri, '{match: "{prefix}_t*"}')], mongo_uri, wait_s=1)
    cleanup.append((mongo_uri, fleet.prefix))
    tenants = names(fleet.prefix, 2)
    make_tenants(mongo_uri, tenants)
    fleet.write_migration(1, "one", COUNTED.format(what="one", version=1, counts=str(counts), extra=""))
    single = Project.create(tmp_path / "single", uri=mongo_uri, db_name=tenants[0])  # a plain `up` on one tenant
    gate = Gate(tmp_path / "gates")
    single.write_migration(1, "slow", f'"""held"""\nversion = 1\n\n\ndef upgrade(ctx):\n{gate.wait_code()}\n\n'
                                      'def downgrade(ctx):\n    pass\n')
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), NO_COLOR="1")
    plain = subprocess.Popen([sys.executable, "-m", "runway_tui", "--config", str(single.config_path), "up"],
                             env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        gate.wait_entered()
        result = fleet.cli("fleet", "up", "--json")
    finally:
        gate.open()
        plain.communicate(timeout=120)
    assert result.returncode == 3, result.stderr
    data = as_json(result)
    by_name = {t["database"]: t for t in data["targets"]}
    assert by_name[tenants[1]]["result"] == "ok"
    assert by_name[tenants[0]]["result"] == "not_started" and "lock" in by_name[tenants[0]]["error"]
    assert executions(counts, tenants[0], 1) == 0
