"""Where runway-tui spends its time: the fixed cost of a CLI process, and `up --all` at N migrations.

    .venv/bin/python bench/profile_runway.py [--n 1000] [--out bench/.cache/profile]

1. Fixed cost of one process, as medians of fresh processes: bare interpreter, `import pymongo`, the
   CLI's imports, connect + ping + close, and whole `status` / one-step `down` commands.
2. `python -X importtime` of `runway-tui status`: the heaviest imports on the CLI path.
3. cProfile of `up --all` (N migrations) and of a one-step `down`, run in-process, with the time
   split into engine functions of interest and the top functions by own time.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import pstats
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workload  # noqa: E402
from common import CACHE, RUNWAY_CLI, secantus_daemon  # noqa: E402

PY = sys.executable


def median_run(argv: list[str], cwd: Path, times: int = 5) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        subprocess.run(argv, cwd=cwd, capture_output=True, check=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def fixed_costs(uri: str, config: Path, root: Path) -> None:
    print("\n== 1. fixed cost of one process (median of 5 fresh processes, seconds) ==")
    connect = (f"from pymongo import MongoClient; c = MongoClient({uri!r}); c.admin.command('ping'); "
               "c.close()")
    rows = [
        ("python -c pass", [PY, "-c", "pass"]),
        ("python -c 'import pymongo'", [PY, "-c", "import pymongo"]),
        ("import runway_tui.cli.main", [PY, "-c", "import runway_tui.cli.main"]),
        ("import runway_tui.cli.commands", [PY, "-c", "import runway_tui.cli.commands"]),
        ("pymongo connect + ping + close", [PY, "-c", connect]),
        ("runway-tui --version", [str(RUNWAY_CLI), "--version"]),
        ("runway-tui status (N pending)", [str(RUNWAY_CLI), "--config", str(config), "status"]),
    ]
    for label, argv in rows:
        print(f"  {label:<36} {median_run(argv, root):.3f}")


def server_costs(uri: str) -> None:
    """What one write costs on this server inside and outside a transaction (explains the floors)."""
    from pymongo import InsertOne, MongoClient, UpdateOne

    client: MongoClient[dict[str, object]] = MongoClient(uri)
    db = client["bench_latency"]
    db["c"].insert_one({"_id": 0})
    reps = 200

    def per_op(label: str, fn: object) -> None:
        started = time.perf_counter()
        for i in range(reps):
            fn(i)  # type: ignore[operator]
        print(f"  {label:<58} {(time.perf_counter() - started) / reps * 1000:6.2f} ms")

    def txn(body: object) -> object:
        def run(i: int) -> None:
            with client.start_session() as s, s.start_transaction():
                body(i, s)  # type: ignore[operator]
        return run

    print("\n== 0. server cost per operation (mean of 200, ms) ==")
    per_op("update_one, no transaction", lambda i: db["c"].update_one({"_id": 0}, {"$set": {"i": i}}))
    per_op("insert_one, no transaction", lambda i: db["a"].insert_one({"i": i}))
    per_op("3 writes (insert, update, upsert), no transaction", lambda i: (
        db["a"].insert_one({"i": i}), db["c"].update_one({"_id": 0}, {"$set": {"i": i}}),
        db["c"].update_one({"_id": 1}, {"$set": {"i": i}}, upsert=True)))
    per_op("transaction: 3 writes + commit (floor+txn step)", txn(lambda i, s: (
        db["a"].insert_one({"i": i}, session=s), db["c"].update_one({"_id": 0}, {"$set": {"i": i}}, session=s),
        db["c"].update_one({"_id": 1}, {"$set": {"i": i}}, upsert=True, session=s))))
    per_op("transaction: 3 writes + state update + audit insert + commit", txn(lambda i, s: (
        db["a"].insert_one({"i": i}, session=s), db["c"].update_one({"_id": 0}, {"$set": {"i": i}}, session=s),
        db["c"].update_one({"_id": 1}, {"$set": {"i": i}}, upsert=True, session=s),
        db["m"].update_one({"_id": 0}, {"$set": {"i": i}}, upsert=True, session=s),
        db["l"].insert_one({"i": i}, session=s))))
    per_op("transaction: 3 writes + ONE bulkWrite(state, audit) + commit", txn(lambda i, s: (
        db["a"].insert_one({"i": i}, session=s), db["c"].update_one({"_id": 0}, {"$set": {"i": i}}, session=s),
        db["c"].update_one({"_id": 1}, {"$set": {"i": i}}, upsert=True, session=s),
        client.bulk_write([UpdateOne({"_id": 0}, {"$set": {"i": i}}, upsert=True, namespace="bench_latency.m"),
                           InsertOne({"i": i}, namespace="bench_latency.l")], session=s))))
    per_op("find_one by _id", lambda i: db["c"].find_one({"_id": 0}))
    client.drop_database("bench_latency")
    client.close()


def import_time(config: Path, root: Path) -> None:
    print("\n== 2. python -X importtime runway-tui status: heaviest top-level imports (cumulative ms) ==")
    result = subprocess.run([PY, "-X", "importtime", "-m", "runway_tui", "--config", str(config), "status"],
                            cwd=root, capture_output=True, text=True, check=False)
    entries = []
    pattern = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")
    for line in result.stderr.splitlines():
        match = pattern.match(line)
        if match:
            self_us, cum_us, indent, name = int(match[1]), int(match[2]), len(match[3]), match[4]
            entries.append((indent, name, self_us, cum_us))
    top = [e for e in entries if e[0] == 1]
    total = sum(e[3] for e in top)
    print(f"  total import time: {total / 1000:.0f} ms over {len(entries)} modules")
    for _indent, name, _self, cum in sorted(top, key=lambda e: -e[3])[:12]:
        print(f"  {cum / 1000:7.1f} ms  {name}")
    heavy = {}
    for _indent, name, self_us, _cum in entries:
        root_pkg = name.split(".")[0]
        heavy[root_pkg] = heavy.get(root_pkg, 0) + self_us
    print("  own import time by top-level package (ms): " + ", ".join(
        f"{k} {v / 1000:.0f}" for k, v in sorted(heavy.items(), key=lambda kv: -kv[1])[:10]))
    for name in ("textual", "rich", "yaml", "dns", "bson", "pymongo"):
        present = any(e[1] == name or e[1].startswith(name + ".") for e in entries)
        print(f"  {name:<8} imported on the status path: {'yes' if present else 'no'}")


INTEREST = [
    ("runway_tui/cli/main.py", "main", "CLI main (everything)"),
    ("runway_tui/engine/app.py", "__init__", "MigrationApp() connect + probe"),
    ("runway_tui/engine/app.py", "_run", "MigrationApp._run (the operation)"),
    ("runway_tui/engine/app.py", "_sync", "  _sync (refresh inside up/down)"),
    ("runway_tui/engine/app.py", "status", "  status() (called by _sync and _run)"),
    ("runway_tui/engine/scripts.py", "scan", "    ScriptDirectory.scan (ast of every file)"),
    ("runway_tui/engine/repository.py", "all", "    MigrationRepository.all (read all records)"),
    ("runway_tui/engine/status.py", "compute_status", "    compute_status"),
    ("runway_tui/engine/repository.py", "sync", "  MigrationRepository.sync (bulk write)"),
    ("runway_tui/engine/app.py", "plan", "  plan"),
    ("runway_tui/engine/runner.py", "run", "  StepRunner.run (all steps)"),
    ("runway_tui/engine/runner.py", "load", "    StepRunner.load (read + compile + exec file)"),
    ("runway_tui/engine/runner.py", "_run_in_transaction", "    _run_in_transaction"),
    ("bench_migration.py", "upgrade", "      the migration's own upgrade()"),
    ("bench_migration.py", "downgrade", "      the migration's own downgrade()"),
    ("runway_tui/engine/runner.py", "_write_success", "      _write_success (state update)"),
    ("runway_tui/engine/repository.py", "append", "      AuditJournal.append (audit insert)"),
    ("runway_tui/engine/runner.py", "_commit", "      _commit (commitTransaction)"),
    ("pymongo/synchronous/mongo_client.py", "start_session", "      start_session"),
    ("runway_tui/engine/events.py", "dispatch", "    EventBus.dispatch"),
    ("runway_tui/engine/lock.py", "acquire", "  MigrationLock.acquire"),
    ("runway_tui/engine/lock.py", "release", "  MigrationLock.release (joins heartbeat thread)"),
    ("runway_tui/engine/repository.py", "ensure_indexes", "  ensure_indexes (x2 collections)"),
    ("runway_tui/engine/repository.py", "current_version", "  current_version"),
    ("runway_tui/engine/app.py", "close", "MigrationApp.close"),
    ("pymongo/synchronous/network.py", "command", "pymongo network command (all round trips)"),
]


def profile_cli(argv: list[str], label: str, out: Path, root: Path) -> None:
    from runway_tui.cli.main import main

    profiler = cProfile.Profile()
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        profiler.enable()
        code = main(argv)
        profiler.disable()
    wall = time.perf_counter() - started
    profiler.dump_stats(out)
    stats = pstats.Stats(profiler)
    print(f"\n== 3. cProfile: runway-tui {' '.join(argv[2:])} ({label}): exit {code}, {wall:.2f}s in-process ==")
    print(f"  (profile written to {out}; open with python -m pstats)")
    table = stats.stats  # type: ignore[attr-defined]
    for suffix, func, text in INTEREST:
        hits = [(v[2], v[3], v[1]) for (file, _line, name), v in table.items()
                if file.endswith(suffix) and name == func]
        if not hits:
            continue
        tt = sum(h[0] for h in hits)
        ct = sum(h[1] for h in hits)  # one entry per file for the migrations' own functions
        calls = sum(h[2] for h in hits)
        print(f"  {text:<52} {ct:7.3f}s cum  {calls:>6} calls  ({ct / wall * 100:4.1f}%)  own {tt:.3f}s")
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(18)
    lines = [line for line in buffer.getvalue().splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    print("  top functions by own time:")
    for line in lines[start:start + 19]:
        print("   " + line.replace(str(Path(sys.prefix)), "<venv>")[:150])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=CACHE / "profile")
    parser.add_argument("--skip-fixed", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with secantus_daemon(args.out) as daemon:
        root = args.out / f"project-n{args.n}"
        if root.exists():
            import shutil

            shutil.rmtree(root)
        config = workload.write_runway(root, args.n, daemon.uri, f"bench_profile_n{args.n}")
        if not args.skip_fixed:
            server_costs(daemon.uri)
            fixed_costs(daemon.uri, config, root)
            import_time(config, root)
        profile_cli(["--config", str(config), "up", "--all"], f"N={args.n}", args.out / "up_all.prof", root)
        profile_cli(["--config", str(config), "down"], "one step", args.out / "down_one.prof", root)


if __name__ == "__main__":
    main()
