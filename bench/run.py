"""runway-tui vs Mongorunway vs migrate-mongo vs a pymongo floor, on SecantusDB (a fresh daemon per tool run).

    make bench                                   # N=200, 3 repeats, peers installed on first use
    .venv/bin/python bench/run.py --n 1000 --quick
    .venv/bin/python bench/run.py --n 200 --n 1000 --repeat 3 --json results.json
    .venv/bin/python bench/run.py --n 300 --n 1000 --repeat 1 --quick --explorer-docs 0

Every phase is one or more fresh CLI processes timed from outside (wall clock), except runway-tui's
"engine steps": N single steps inside one long-lived MigrationApp (what the TUI does). Each tool
gets a fresh database per repeat. The table shows medians over the repeats. See docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import explorer_bench  # noqa: E402
import peers  # noqa: E402
import workload  # noqa: E402
from common import (  # noqa: E402
    BENCH_DIR,
    CACHE,
    REPO,
    RUNWAY_CLI,
    CommandError,
    Daemon,
    Measurement,
    fmt_ratio,
    fmt_s,
    secantus_daemon,
    timed,
)

TOOLS = ("runway-tui", "rt-group", "mongorunway", "migrate-mongo", "floor", "floor+txn")
PHASES = [
    ("refresh", "refresh (Mongorunway only)"),
    ("status_pending", "status, all pending"),
    ("up_all", "up all (one process)"),
    ("status_applied", "status, all applied"),
    ("down_one", "one down step (process)"),
    ("down_all", "down all"),
    ("engine_up_steps", "N x up step, one engine"),
    ("engine_down_steps", "N x down step, one engine"),
]


class Verifier:
    """Checks the database after each mutating phase: every tool must really have done the work."""

    def __init__(self, daemon: Daemon) -> None:
        from pymongo import MongoClient

        self.client: Any = MongoClient(daemon.uri)

    def check(self, database: str, n_items: int, version: int, what: str) -> None:
        db = self.client[database]
        items = db["items"].count_documents({})
        meta = db["meta"].find_one({"_id": "version"}) or {"version": 0}
        if items != n_items or meta.get("version", 0) != version:
            raise CommandError(f"{what}: expected {n_items} items and version {version}, "
                               f"found {items} items and version {meta.get('version')}")

    def drop(self, database: str) -> None:
        self.client.drop_database(database)


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.log = workdir / "commands.log"
        self.results: dict[int, dict[str, dict[str, Measurement]]] = {}
        self.extra: dict[int, dict[str, Any]] = {}
        self.problems: dict[str, str] = {}

    def attach(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.verify = Verifier(daemon)

    def detach(self) -> None:
        self.verify.client.close()

    def m(self, n: int, tool: str, phase: str) -> Measurement:
        return self.results.setdefault(n, {}).setdefault(tool, {}).setdefault(phase, Measurement())

    def say(self, text: str) -> None:
        print(text, flush=True)

    # -------------------------------------------------------------------------------- runway-tui
    def runway(self, n: int, rep: int) -> None:
        """runway-tui as shipped: a transaction per step, lock and audit log on."""
        tool = "runway-tui"
        root = self.workdir / f"{tool}-n{n}-r{rep}"
        database = f"bench_rt_n{n}_r{rep}"
        config = workload.write_runway(root, n, self.daemon.uri, database)

        def cli(*argv: str) -> float:
            return timed([RUNWAY_CLI, "--config", config, *argv], cwd=root, log=self.log)

        self.m(n, tool, "status_pending").samples.append(cli("status"))
        self.m(n, tool, "up_all").samples.append(cli("up", "--all"))
        self.verify.check(database, 3 * n, n, f"{tool} up --all")
        self.m(n, tool, "status_applied").samples.append(cli("status"))
        self.m(n, tool, "down_one").samples.append(cli("down"))
        self.verify.check(database, 3 * (n - 1), n - 1, f"{tool} down")
        cli("up")
        self.m(n, tool, "down_all").samples.append(cli("down", "--all"))
        self.verify.check(database, 0, 0, f"{tool} down --all")
        sample = self.args.engine_sample if self.args.quick and n > self.args.engine_sample else None
        steps = self.worker(["steps", str(config), *([str(sample)] if sample else [])], root)
        self.m(n, tool, "engine_up_steps").samples.append(steps["up"]["total_s"])
        self.m(n, tool, "engine_down_steps").samples.append(steps["down"]["total_s"])
        self.verify.check(database, 0, 0, f"{tool} engine steps")
        if sample:
            note = f"--quick: {sample} of {n} single steps each way, total extrapolated x{n / sample:.0f}"
            self.m(n, tool, "engine_up_steps").note = note
            self.m(n, tool, "engine_down_steps").note = note
        self.extra.setdefault(n, {}).setdefault(f"{tool} engine_steps", []).append(steps)
        self.verify.drop(database)

    def runway_group(self, n: int, rep: int) -> None:
        """runway-tui `up --all --group` / `down --all --group`: the whole run in one transaction."""
        tool = "rt-group"
        root = self.workdir / f"{tool}-n{n}-r{rep}"
        database = f"bench_rtg_n{n}_r{rep}"
        config = workload.write_runway(root, n, self.daemon.uri, database)

        def cli(*argv: str) -> float:
            return timed([RUNWAY_CLI, "--config", config, *argv], cwd=root, log=self.log)

        self.m(n, tool, "up_all").samples.append(cli("up", "--all", "--group"))
        self.verify.check(database, 3 * n, n, f"{tool} up --all --group")
        self.m(n, tool, "down_all").samples.append(cli("down", "--all", "--group"))
        self.verify.check(database, 0, 0, f"{tool} down --all --group")
        self.verify.drop(database)

    def runway_commands(self, n: int) -> None:
        """Once per N: every command the engine sends in the CLI phases, counted in-process."""
        root = self.workdir / f"runway-count-n{n}"
        database = f"bench_rt_count_n{n}"
        config = workload.write_runway(root, n, self.daemon.uri, database)
        counts = {}
        for label, argv in (("status_pending", ["status"]), ("up_all", ["up", "--all"]),
                            ("status_applied", ["status"]), ("down_one", ["down"]),
                            ("down_all_group", ["down", "--all", "--group"]),
                            ("up_all_group", ["up", "--all", "--group"])):
            counts[label] = self.worker(["cli", str(config), *argv], root)
        self.verify.check(database, 3 * n, n, "runway-tui counted run")
        self.extra.setdefault(n, {})["cli_commands"] = counts
        self.verify.drop(database)

    def worker(self, argv: list[str], cwd: Path) -> dict[str, Any]:
        result = subprocess.run([sys.executable, str(BENCH_DIR / "engine_worker.py"), *argv], cwd=cwd,
                                capture_output=True, text=True, check=False)
        with self.log.open("a") as handle:
            handle.write(f"$ engine_worker {' '.join(argv)} [rc={result.returncode}]\n{result.stderr[-3000:]}\n")
        lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
        if result.returncode != 0 or not lines:
            tail = result.stdout[-1500:] + result.stderr[-1500:]
            raise CommandError(f"engine_worker {' '.join(argv)} failed:\n{tail}")
        return dict(json.loads(lines[-1][len("RESULT "):]))

    # -------------------------------------------------------------------------------- Mongorunway
    def mongorunway(self, n: int, rep: int, peer: peers.Peer) -> None:
        assert peer.executable
        root = self.workdir / f"mongorunway-n{n}-r{rep}"
        database = f"bench_mr_n{n}_r{rep}"
        workload.write_mongorunway(root, n, self.daemon.port, database)
        exe = str(peer.executable)

        def cli(*argv: str) -> float:
            return timed([exe, *argv], cwd=root, log=self.log)

        self.m(n, "mongorunway", "refresh").samples.append(cli("refresh", "bench"))
        self.m(n, "mongorunway", "status_pending").samples.append(cli("status", "bench"))
        self.m(n, "mongorunway", "up_all").samples.append(cli("upgrade", "bench", "all"))
        self.verify.check(database, 3 * n, n, "mongorunway upgrade all")
        self.m(n, "mongorunway", "status_applied").samples.append(cli("status", "bench"))
        self.m(n, "mongorunway", "down_one").samples.append(cli("downgrade", "bench"))
        self.verify.check(database, 3 * (n - 1), n - 1, "mongorunway downgrade")
        cli("upgrade", "bench")
        self.m(n, "mongorunway", "down_all").samples.append(cli("downgrade", "bench", "all"))
        self.verify.check(database, 0, 0, "mongorunway downgrade all")
        self.verify.drop(database)

    # -------------------------------------------------------------------------------- migrate-mongo
    def migrate_mongo(self, n: int, rep: int, peer: peers.Peer) -> None:
        assert peer.executable
        root = self.workdir / f"migrate-mongo-n{n}-r{rep}"
        database = f"bench_mm_n{n}_r{rep}"
        workload.write_migrate_mongo(root, n, self.daemon.uri, database)
        exe = str(peer.executable)

        def cli(*argv: str) -> float:
            return timed([exe, *argv], cwd=root, log=self.log)

        self.m(n, "migrate-mongo", "status_pending").samples.append(cli("status"))
        self.m(n, "migrate-mongo", "up_all").samples.append(cli("up"))
        self.verify.check(database, 3 * n, n, "migrate-mongo up")
        self.m(n, "migrate-mongo", "status_applied").samples.append(cli("status"))
        self.m(n, "migrate-mongo", "down_one").samples.append(cli("down"))
        self.verify.check(database, 3 * (n - 1), n - 1, "migrate-mongo down")
        cli("up")
        calls = n
        if self.args.quick and n > self.args.quick_sample:
            calls = self.args.quick_sample
        sample = [cli("down") for _ in range(calls)]
        total = sum(sample) * n / calls
        measurement = self.m(n, "migrate-mongo", "down_all")
        measurement.samples.append(total)
        if calls < n:
            measurement.note = (f"--quick: extrapolated from {calls} of {n} `down` calls "
                                f"(mean {sum(sample) / calls:.3f}s/call x {n})")
            self.verify.check(database, 3 * (n - calls), n - calls, "migrate-mongo down (sample)")
        else:
            self.verify.check(database, 0, 0, "migrate-mongo down x N")
        self.verify.drop(database)

    # -------------------------------------------------------------------------------- floor
    def floor(self, n: int, rep: int, txn: bool) -> None:
        tool = "floor+txn" if txn else "floor"
        database = f"bench_floor{'txn' if txn else ''}_n{n}_r{rep}"
        base = [sys.executable, str(BENCH_DIR / "floor.py"), self.daemon.uri, database, str(n)]
        flag = ["--txn"] if txn else []
        self.m(n, tool, "up_all").samples.append(timed([*base, "up", *flag], cwd=self.workdir, log=self.log))
        self.verify.check(database, 3 * n, n, f"{tool} up")
        self.m(n, tool, "down_all").samples.append(timed([*base, "down", *flag], cwd=self.workdir, log=self.log))
        self.verify.check(database, 0, 0, f"{tool} down")
        self.verify.drop(database)

    # -------------------------------------------------------------------------------- driver
    def guarded(self, what: str, action: Callable[[], None]) -> None:
        started = time.perf_counter()
        try:
            action()
            self.say(f"    {what}: done in {time.perf_counter() - started:.1f}s")
        except CommandError as exc:
            self.problems[what] = str(exc).splitlines()[0]
            self.say(f"    {what}: FAILED: {exc}")


def machine() -> dict[str, str]:
    def out(argv: list[str]) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return "?"

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return {"platform": platform.platform(), "cpu": cpu, "cpus": str(os.cpu_count()), "python": sys.version.split()[0],
            "node": out(["node", "--version"]) or "-", "load_at_start": load,
            "secantusdb": out([sys.executable, "-c", "import importlib.metadata as m; print(m.version('SecantusDB'))"]),
            "pymongo": out([sys.executable, "-c", "import pymongo; print(pymongo.version)"])}


def print_table(bench: Bench, n: int, repeat: int) -> list[dict[str, Any]]:
    import statistics

    res = bench.results.get(n, {})

    def med(tool: str, phase: str) -> float | None:
        return res.get(tool, {}).get(phase, Measurement()).median

    print(f"\n=== N={n}: wall-clock seconds, median of {repeat} repeat(s) ===")
    header = (f"{'phase':<28}{'runway-tui':>11}{'--group':>9}{'Mongorunway':>12}{'migr-mongo':>11}{'floor':>8}"
              f"{'floor+txn':>10}{'rt/MR':>7}{'rt/MM':>7}{'rt/floor':>9}{'grp/MM':>8}{'grp/floor':>10}")
    print(header)
    print("-" * len(header))
    for phase, label in PHASES:
        rt, gr, mr, mm = (med(t, phase) for t in ("runway-tui", "rt-group", "mongorunway", "migrate-mongo"))
        fl, ft = med("floor", phase), med("floor+txn", phase)
        if all(v is None for v in (rt, gr, mr, mm, fl, ft)):
            continue
        print(f"{label:<28}{fmt_s(rt):>11}{fmt_s(gr):>9}{fmt_s(mr):>12}{fmt_s(mm):>11}{fmt_s(fl):>8}{fmt_s(ft):>10}"
              f"{fmt_ratio(rt, mr):>7}{fmt_ratio(rt, mm):>7}{fmt_ratio(rt, fl):>9}{fmt_ratio(gr, mm):>8}"
              f"{fmt_ratio(gr, fl):>10}")
    for tool, phases in res.items():
        for phase, measurement in phases.items():
            if measurement.note:
                print(f"  note: {tool} {phase}: {measurement.note}")

    steps = bench.extra.get(n, {}).get("runway-tui engine_steps", [])
    if steps:
        up_ms = statistics.median(s["up"]["median_step_ms"] for s in steps)
        down_ms = statistics.median(s["down"]["median_step_ms"] for s in steps)
        print(f"  runway-tui engine: median single step {up_ms:.1f} ms up, {down_ms:.1f} ms down "
              f"(one long-lived MigrationApp; open {statistics.median(s['open_s'] for s in steps):.3f}s)")

    rt, grp, mm, mr, fl = "runway-tui", "rt-group", "migrate-mongo", "mongorunway", "floor"
    checks = [  # the targets (stated for N=1000 and N=300)
        ("up all <= 0.9x migrate-mongo", med(rt, "up_all"), med(mm, "up_all"), 0.9),
        ("up all <= 1.9x pymongo floor", med(rt, "up_all"), med(fl, "up_all"), 1.9),
        ("up all --group <= 0.75x migrate-mongo", med(grp, "up_all"), med(mm, "up_all"), 0.75),
        ("up all --group <= 1.4x pymongo floor", med(grp, "up_all"), med(fl, "up_all"), 1.4),
        # issue 19, point 9: the narrowed runner, a group run's bookkeeping in one write at its end
        ("up all <= 1.1x migrate-mongo (issue 19)", med(rt, "up_all"), med(mm, "up_all"), 1.1),
        ("up all --group <= 0.75x migrate-mongo (issue 19)", med(grp, "up_all"), med(mm, "up_all"), 0.75),
        ("status (pending) <= 0.8x migrate-mongo", med(rt, "status_pending"), med(mm, "status_pending"), 0.8),
        ("status (applied) <= 0.8x migrate-mongo", med(rt, "status_applied"), med(mm, "status_applied"), 0.8),
        ("one step as a process <= 0.9x migrate-mongo down", med(rt, "down_one"), med(mm, "down_one"), 0.9),
        ("up all <= 0.2x Mongorunway", med(rt, "up_all"), med(mr, "up_all"), 0.2),
        ("down all <= 0.1x Mongorunway", med(rt, "down_all"), med(mr, "down_all"), 0.1),
    ]
    verdicts = []
    print(f"\n  targets at N={n}:")
    for label, ours, theirs, limit in checks:
        if ours is None or theirs is None:
            print(f"  [SKIP] {label}: not measured")
            verdicts.append({"target": label, "verdict": "SKIP"})
            continue
        ratio = ours / theirs
        ok = ratio <= limit
        gap = "" if ok else f"; needs {ours - limit * theirs:.3f}s less ({(1 - limit / ratio) * 100:.0f}% faster)"
        print(f"  [{'PASS' if ok else 'FAIL'}] {label}: {ratio:.2f}x ({fmt_s(ours)}s vs {fmt_s(theirs)}s){gap}")
        verdicts.append({"target": label, "verdict": "PASS" if ok else "FAIL", "ratio": ratio, "limit": limit})

    counts = bench.extra.get(n, {}).get("cli_commands")
    if counts:
        print("\n  runway-tui commands sent per CLI phase (pymongo CommandListener, in-process run):")
        own = {"up_all": 3 * n, "down_one": 2, "up_all_group": 3 * n, "down_all_group": 2 * n}
        for label, data in counts.items():
            total = data["commands"]
            mine = own.get(label, 0)
            per = f", {(total - mine) / n:.2f} per migration" if label in ("up_all", "up_all_group",
                                                                           "down_all_group") else ""
            print(f"    {label:<15} {total:>6} commands, {total - mine} beyond the migrations' own{per}")
            print(f"      {data['by_command']}")
    steps = bench.extra.get(n, {}).get("runway-tui engine_steps", [])
    if steps:
        sample = steps[0]
        for direction in ("up", "down"):
            d = sample[direction]
            print(f"  engine overhead per single {direction} step (long-lived app): "
                  f"{d['engine_commands_per_step_median']:.0f} commands beyond the migration's own: "
                  f"{d['engine_commands_sample_step']}")
    return verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, action="append", help="migrations per run (repeatable; default 200)")
    parser.add_argument("--repeat", type=int, default=3, help="repeats; medians are reported (default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="migrate-mongo 'down all' (N processes) is extrapolated from a sample of calls")
    parser.add_argument("--quick-sample", type=int, default=40, help="calls sampled with --quick (default 40)")
    parser.add_argument("--engine-sample", type=int, default=100,
                        help="with --quick, single engine steps measured each way (default 100)")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated subset of {','.join(TOOLS)}")
    parser.add_argument("--shared-daemon", action="store_true",
                        help="one daemon for every tool run (default: a fresh daemon per tool run)")
    parser.add_argument("--no-peers", action="store_true", help="measure runway-tui and the floor only")
    parser.add_argument("--json", type=Path, help="also write every sample to this JSON file")
    parser.add_argument("--tui-n", type=int, default=1000, help="migrations for the TUI figures (0 skips them)")
    parser.add_argument("--tui-audit", type=int, default=100_000, help="audit entries for the TUI figures")
    parser.add_argument("--explorer-docs", type=int, default=1_000_000,
                        help="documents in the explorer's collection (default 1,000,000; 0 skips the explorer)")
    args = parser.parse_args()
    sizes = args.n or [200]
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    if args.no_peers:
        tools = [t for t in tools if t not in ("mongorunway", "migrate-mongo")]

    CACHE.mkdir(parents=True, exist_ok=True)
    workdir = CACHE / "runs" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    workdir.mkdir(parents=True)
    info = machine()
    print(f"runway-tui benchmark · N={sizes} · repeat {args.repeat}{' · quick' if args.quick else ''}")
    print(f"machine: {info['cpu']} x{info['cpus']} · {info['platform']} · load {info['load_at_start']}")
    print(f"python {info['python']} · pymongo {info['pymongo']} · SecantusDB {info['secantusdb']} · "
          f"node {info['node']}")
    print(f"logs: {workdir.relative_to(REPO)}/")

    available: dict[str, peers.Peer] = {}
    install_log = CACHE / "install.log"
    for name, installer in (("mongorunway", peers.mongorunway), ("migrate-mongo", peers.migrate_mongo)):
        if name not in tools:
            continue
        print(f"peer {name}: checking / installing into {CACHE.relative_to(REPO)}/ ...", flush=True)
        peer = installer(install_log)
        if peer.available:
            available[name] = peer
            print(f"peer {name}: {peer.version}")
        else:
            print(f"peer {name}: NOT AVAILABLE, skipped: {peer.problem}")

    all_verdicts: dict[int, list[dict[str, Any]]] = {}
    bench = Bench(args, workdir)

    def run_one(what: str, action: Callable[[], None]) -> None:
        """Each tool run gets its own fresh daemon unless --shared-daemon (see docs/PERFORMANCE.md)."""
        if args.shared_daemon:
            bench.guarded(what, action)
            return
        with secantus_daemon(workdir) as daemon:
            bench.attach(daemon)
            bench.guarded(what, action)
            bench.detach()

    shared = secantus_daemon(workdir) if args.shared_daemon else contextlib.nullcontext()
    with shared as daemon:
        if daemon is not None:
            print(f"one shared SecantusDB daemon on 127.0.0.1:{daemon.port}")
            bench.attach(daemon)
        else:
            print("a fresh SecantusDB daemon (free loopback port, empty storage) for every tool run")
        for n in sizes:
            for rep in range(1, args.repeat + 1):
                print(f"\n--- N={n}, repeat {rep}/{args.repeat} ---", flush=True)
                order = [t for t in TOOLS if t in tools]
                order = order[rep - 1:] + order[:rep - 1]  # rotate so no tool always runs first
                for tool in order:
                    if tool == "runway-tui":
                        run_one(tool, lambda n=n, rep=rep: bench.runway(n, rep))
                    elif tool == "rt-group":
                        run_one(tool, lambda n=n, rep=rep: bench.runway_group(n, rep))
                    elif tool in available:
                        peer = available[tool]
                        fn = bench.mongorunway if tool == "mongorunway" else bench.migrate_mongo
                        run_one(tool, lambda fn=fn, n=n, rep=rep, peer=peer: fn(n, rep, peer))
                    elif tool in ("floor", "floor+txn"):
                        run_one(tool, lambda tool=tool, n=n, rep=rep: bench.floor(n, rep, tool == "floor+txn"))
            if "runway-tui" in tools:
                run_one("runway-tui command count", lambda n=n: bench.runway_commands(n))
    for n in sizes:
        all_verdicts[n] = print_table(bench, n, args.repeat)
    for tool in ("mongorunway", "migrate-mongo"):
        if tool in tools and tool not in available:
            print(f"\n{tool} was not measured: it could not be installed (see {install_log})")
    if bench.problems:
        print("\nproblems:")
        for what, message in bench.problems.items():
            print(f"  {what}: {message}")

    if args.tui_n > 0:
        print(f"\n--- the TUI: N={args.tui_n} no-op migrations, {args.tui_audit:,} audit entries "
              "(bench/tui_bench.py) ---", flush=True)
        subprocess.run([sys.executable, str(BENCH_DIR / "tui_bench.py"), "--n", str(args.tui_n), "--audit",
                        str(args.tui_audit), "--repeat", "1"], check=False)

    explorer: dict[str, float] = {}
    if args.explorer_docs > 0:
        print(f"\n--- explorer: a collection of {args.explorer_docs:,} documents (bench/explorer_bench.py) ---",
              flush=True)
        explorer = explorer_bench.run(args.explorer_docs, 1000, 1)

    payload = {"machine": info, "args": {"n": sizes, "repeat": args.repeat, "quick": args.quick,
                                         "shared_daemon": args.shared_daemon},
               "peers": {k: v.version for k, v in available.items()},
               "samples": {n: {tool: {ph: {"samples": m.samples, "median": m.median, "note": m.note}
                                      for ph, m in phases.items()} for tool, phases in per.items()}
                           for n, per in bench.results.items()},
               "extra": bench.extra, "explorer": explorer, "verdicts": all_verdicts, "problems": bench.problems}
    (workdir / "results.json").write_text(json.dumps(payload, indent=1, default=str))
    if args.json:
        args.json.write_text(json.dumps(payload, indent=1, default=str))
    print(f"\nall samples: {(workdir / 'results.json').relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
