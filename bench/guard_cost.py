"""What the guard of runway's own collections (engine/guard.py) costs a step, measured in one process.

    .venv/bin/python bench/guard_cost.py [--n 200] [--steps 50] [--rounds 12]

One MigrationApp on the bench workload (bench/workload.py) runs `up --steps S` and `down --steps S` again
and again, every other run with the guard taken out (its listener never armed, no `listCollections`),
so that the machine's load falls on both alike. Prints the median time of a step each way and the
difference: the guard's cost per step. A fresh SecantusDB daemon; nothing else shares it.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import workload  # noqa: E402
from common import CACHE, secantus_daemon  # noqa: E402


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Inline:
    """Runs what is submitted at once, in the caller's thread (the guard's look taken out)."""

    def submit(self, fn: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        future.set_result(fn())
        return future


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200, help="migrations in the project")
    parser.add_argument("--steps", type=int, default=50, help="steps per run")
    parser.add_argument("--rounds", type=int, default=12, help="runs each way per mode")
    args = parser.parse_args()

    from runway_tui.engine.app import MigrationApp
    from runway_tui.engine.config import load_config

    workdir = CACHE / "guard_cost"
    workdir.mkdir(parents=True, exist_ok=True)
    with secantus_daemon(workdir) as daemon:
        config = workload.write_runway(workdir / f"n{args.n}_{int(time.time())}", args.n, daemon.uri, "bench_guard")
        app = MigrationApp(load_config(config).app("bench"))
        shipped = (app.runner._watch_resume, app.runner._read_catalog, app.runner._lookout)
        inline = _Inline()
        per_step: dict[str, list[float]] = {"guard": [], "no guard": []}
        cpu: dict[str, list[float]] = {"guard": [], "no guard": []}  # client + server CPU seconds per step
        try:
            for round_ in range(args.rounds):
                for mode in (("guard", "no guard") if round_ % 2 == 0 else ("no guard", "guard")):
                    if mode == "guard":
                        app.runner._watch_resume, app.runner._read_catalog, app.runner._lookout = shipped
                    else:  # as before the guard: no listener armed, no look at the catalog, no thread
                        app.runner._watch_resume = lambda *_: None  # type: ignore[method-assign]
                        app.runner._read_catalog = lambda: None  # type: ignore[method-assign]
                        app.runner._lookout = lambda: inline  # type: ignore[method-assign]
                    for run in (lambda: app.upgrade(steps=args.steps), lambda: app.downgrade(steps=args.steps)):
                        started, cpu_started = time.perf_counter(), time.process_time() + _cpu(daemon.process.pid)
                        done = len(run().completed)
                        per_step[mode].append((time.perf_counter() - started) / done)
                        cpu[mode].append((time.process_time() + _cpu(daemon.process.pid) - cpu_started) / done)
        finally:
            app.close()
    on, off = statistics.median(per_step["guard"]), statistics.median(per_step["no guard"])
    print(f"N={args.n}, runs of {args.steps} steps, {args.rounds} rounds (load {os.getloadavg()[0]:.1f}): a step "
          f"takes {on * 1000:.2f} ms with the guard, {off * 1000:.2f} ms without: {(on - off) * 1000:+.2f} ms "
          f"({(on - off) / off * 100:+.1f} %)")
    on, off = statistics.median(cpu["guard"]), statistics.median(cpu["no guard"])
    print(f"  CPU (this process + the daemon, what a loaded machine pays in time): {on * 1000:.2f} ms a step with "
          f"the guard, {off * 1000:.2f} ms without: {(on - off) * 1000:+.2f} ms ({(on - off) / off * 100:+.1f} %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
