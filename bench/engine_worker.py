"""Runs inside the project's venv, against a prepared runway-tui project, and prints one JSON line.

    python bench/engine_worker.py steps CONFIG [K]  # N single up steps, then N single down steps,
                                                    # in one long-lived MigrationApp (what the TUI does);
                                                    # with K, only K steps each way (total extrapolated to N)
    python bench/engine_worker.py cli CONFIG ARGS.. # one CLI command run in this process, its commands counted

A pymongo `monitoring.CommandListener`, registered before any client exists, sees every command
the engine sends. The migration's own commands are known (up: insert, update, update; down: delete,
update), so everything else is the engine's overhead: state and audit writes, lock, status reads,
transaction commits.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import Counter
from typing import Any

from pymongo import monitoring

OWN = {"up": Counter({("insert", "items"): 1, ("update", "items"): 1, ("update", "meta"): 1}),
       "down": Counter({("delete", "items"): 1, ("update", "meta"): 1})}


class Recorder(monitoring.CommandListener):
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        target = event.command.get(event.command_name)
        self.events.append((event.command_name, target if isinstance(target, str) else ""))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def take(self) -> list[tuple[str, str]]:
        events, self.events = self.events, []
        return events


RECORDER = Recorder()
monitoring.register(RECORDER)


def overhead(events: list[tuple[str, str]], direction: str, steps: int) -> Counter[tuple[str, str]]:
    counts = Counter(events)
    for key, own in OWN[direction].items():
        counts[key] -= own * steps
    return +counts


def as_json(counter: Counter[tuple[str, str]]) -> dict[str, int]:
    return {f"{name} {coll}".strip(): n for (name, coll), n in sorted(counter.items(), key=lambda kv: -kv[1])}


def run_steps(config_path: str, limit: int | None = None) -> dict[str, Any]:
    from runway_tui.engine.app import MigrationApp
    from runway_tui.engine.config import load_config

    opened = time.perf_counter()
    app = MigrationApp(load_config(config_path).app("bench"))
    open_s = time.perf_counter() - opened
    open_events = RECORDER.take()
    result: dict[str, Any] = {"open_s": open_s, "open_commands": len(open_events)}
    try:
        n = len(app.scripts.scan())
        k = min(n, limit) if limit else n
        result["sampled_steps"] = k
        for direction, step in (("up", app.upgrade), ("down", app.downgrade)):
            durations: list[float] = []
            per_step: list[int] = []
            sample: Counter[tuple[str, str]] = Counter()
            total_started = time.perf_counter()
            for i in range(k):
                started = time.perf_counter()
                done = step(steps=1)
                durations.append(time.perf_counter() - started)
                if len(done.completed) != 1:
                    raise SystemExit(f"{direction} step {i + 1}: expected 1 completed step, got {len(done.completed)}")
                extra = overhead(RECORDER.take(), direction, 1)
                per_step.append(sum(extra.values()))
                if i == k // 2:
                    sample = extra
            result[direction] = {
                "total_s": (time.perf_counter() - total_started) * n / k, "steps": n, "measured_steps": k,
                "median_step_ms": statistics.median(durations) * 1000,
                "p95_step_ms": sorted(durations)[int(0.95 * (k - 1))] * 1000,
                "engine_commands_per_step_median": statistics.median(per_step),
                "engine_commands_sample_step": as_json(sample),
            }
    finally:
        app.close()
    return result


def run_cli(config_path: str, argv: list[str]) -> dict[str, Any]:
    from runway_tui.cli.main import main

    started = time.perf_counter()
    code = main(["--config", config_path, *argv])
    elapsed = time.perf_counter() - started
    events = RECORDER.take()
    return {"argv": argv, "exit_code": code, "in_process_s": elapsed, "commands": len(events),
            "by_command": as_json(Counter(events))}


def main() -> None:
    mode, config_path, *rest = sys.argv[1:]
    limit = int(rest[0]) if mode == "steps" and rest else None
    result = run_steps(config_path, limit) if mode == "steps" else run_cli(config_path, rest)
    sys.stdout.flush()
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
