"""A/B of `up --all` and `down --all`: this tree against another source tree of runway-tui, alternating.

    git archive main runway_tui | tar -x -C /tmp/main-tree          # the tree to compare against
    git archive HEAD runway_tui | tar -x -C /tmp/this-tree          # (a frozen copy of this one)
    .venv/bin/python bench/ab.py --baseline /tmp/main-tree --this /tmp/this-tree --n 300 --n 1000 --repeat 5

Each sample is one CLI process (`python -m runway_tui`, the tree chosen by PYTHONPATH) on a fresh database
of the same daemon, the two trees taking turns so that the machine's load falls on both alike. Prints the
medians of the wall time and of the CPU time (the CLI process and the daemon together: what a loaded
machine pays, and much steadier than the wall time there), the difference per step, and, in-process, what
one look of the guard at runway's own collections and its command listener cost (engine/guard.py). See
docs/RELIABILITY.md (round three).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workload  # noqa: E402
from common import CACHE, REPO, secantus_daemon  # noqa: E402


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(tree: Path, config: Path, daemon_pid: int, *args: str) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the CLI process and the daemon together (what a loaded machine pays)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "NO_COLOR": "1"}
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server = cpu_of(daemon_pid)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "runway_tui", "--config", str(config), *args], cwd=config.parent,
                            env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime) + cpu_of(daemon_pid) - server
    if result.returncode != 0:
        raise SystemExit(f"{tree}: {' '.join(args)} exited {result.returncode}:\n{result.stderr[-2000:]}")
    return elapsed, cpu


def guard_cost(uri: str, samples: int = 500) -> float:
    """Milliseconds of one look at runway's collections (what the guard adds to each step on the server)."""
    from pymongo import MongoClient

    sys.path.insert(0, str(REPO))
    from runway_tui.engine.guard import catalog

    with MongoClient(uri) as client:
        db = client["bench_guard"]
        for name in ("migrations", "auditlog", "migrations_lock", "migrations_sources", "auditlog_evidence"):
            db[name].insert_one({"x": 1})
        names = ["migrations", "migrations_sources", "auditlog", "auditlog_evidence", "migrations_lock"]
        catalog(db, names)
        started = time.perf_counter()
        for _ in range(samples):
            catalog(db, names)
        cost = (time.perf_counter() - started) / samples * 1000
        client.drop_database("bench_guard")
    return cost


def listener_cost(uri: str, samples: int = 3000) -> float:
    """Microseconds the armed guard's command listener adds to one command a migration sends (an insert into
    a collection of its own): the median of each insert timed alone, with and without the listener on the
    client, the two taking turns insert by insert so that the machine's load falls on both alike."""
    from pymongo import MongoClient

    sys.path.insert(0, str(REPO))
    from runway_tui.engine.guard import OwnCollectionsGuard

    guard = OwnCollectionsGuard()
    guard.configure("bench_listener", ["migrations", "auditlog", "migrations_lock"])
    guard.arm()
    clients = {"with": MongoClient(uri, event_listeners=[guard]), "without": MongoClient(uri)}
    times: dict[str, list[float]] = {"with": [], "without": []}
    try:
        for i in range(samples):
            for label in (("with", "without") if i % 2 == 0 else ("without", "with")):
                items = clients[label]["bench_listener"]["items"]
                started = time.perf_counter()
                items.insert_one({"i": i})
                times[label].append(time.perf_counter() - started)
        clients["with"].drop_database("bench_listener")
    finally:
        for client in clients.values():
            client.close()
    return (statistics.median(times["with"]) - statistics.median(times["without"])) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="a source tree holding runway_tui/")
    parser.add_argument("--this", type=Path, default=REPO, help="the tree measured against it (default: this one)")
    parser.add_argument("--n", type=int, action="append", help="migrations per run (repeatable; default 300)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--group", action="store_true",
                        help="also `up --all --group` and `down --all --group` (one transaction per run)")
    args = parser.parse_args()
    modes = {"": (), " --group": ("--group",)} if args.group else {"": ()}
    trees = {"this": args.this.resolve(), "baseline": args.baseline.resolve()}
    workdir = CACHE / "ab"
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"load at start: {os.getloadavg()[0]:.2f}", flush=True)
    with secantus_daemon(workdir) as daemon:
        print(f"one look at runway's collections (listCollections): {guard_cost(daemon.uri):.3f} ms", flush=True)
        print(f"the guard's listener on a migration's command: {listener_cost(daemon.uri):+.1f} us", flush=True)
        for n in args.n or [300]:
            times: dict[tuple[str, str], list[float]] = {}
            cpus: dict[tuple[str, str], list[float]] = {}
            for rep in range(args.repeat):
                for label in (("this", "baseline") if rep % 2 == 0 else ("baseline", "this")):
                    for mode, flags in modes.items():
                        database = f"ab_{label}_{n}_{rep}{mode.replace(' --', '_')}"
                        config = workload.write_runway(workdir / database, n, daemon.uri, database)
                        for direction in ("up", "down"):
                            phase = direction + mode
                            wall, cpu = run(trees[label], config, daemon.process.pid, direction, "--all", *flags)
                            times.setdefault((label, phase), []).append(wall)
                            cpus.setdefault((label, phase), []).append(cpu)
            for phase in [direction + mode for mode in modes for direction in ("up", "down")]:
                for what, figures in (("wall", times), ("CPU", cpus)):
                    this = statistics.median(figures[("this", phase)])
                    base = statistics.median(figures[("baseline", phase)])
                    direction, _, group = phase.partition(" ")
                    shown = f"{direction} --all" + (f" {group}" if group else "")
                    print(f"N={n} {shown}, {what}: this {this:.2f} s, baseline {base:.2f} s, "
                          f"{(this - base) / base * 100:+.1f} % ({(this - base) / n * 1000:+.2f} ms per step); "
                          f"samples this {[round(t, 2) for t in figures[('this', phase)]]}, "
                          f"baseline {[round(t, 2) for t in figures[('baseline', phase)]]}", flush=True)
    print(f"load at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
