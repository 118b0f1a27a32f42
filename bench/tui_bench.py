"""The TUI at scale: N=1000 no-op migrations and 100k audit entries, opened headless with `run_test`.

    .venv/bin/python bench/tui_bench.py [--n 1000] [--audit 100000] [--steps 10]

Reports, against the issue's targets:
- first paint: from constructing the app to the migrations table showing every row (<= 1.5 s)
- resident memory after the first paint and after the steps (<= 250 MB)
- the worst stall of the UI event loop while steps run: a 10 ms timer measures its own lateness (<= 100 ms)
- a step: pressing `u`, confirming with `y`, until the panes show the new version, for a no-op migration;
  reported in total and minus the engine's own time for the migration (<= 20 ms of overhead)

Same SecantusDB daemon setup as bench/run.py (a child process on a free port).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CACHE, secantus_daemon  # noqa: E402

NOOP = '''"""No-op migration {v} for the TUI benchmark."""

version = {v}


def upgrade(ctx):
    pass


def downgrade(ctx):
    pass
'''


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def prepare(root: Path, uri: str, n: int, audit: int) -> Path:
    import workload
    from bson.binary import Binary, UuidRepresentation
    from pymongo import MongoClient

    scripts = root / "migrations"
    scripts.mkdir(parents=True, exist_ok=True)
    for v in range(1, n + 1):
        (scripts / f"{v:04d}_noop.py").write_text(NOOP.format(v=v))
    config = root / "runway.yaml"
    config.write_text(workload.RUNWAY_CONFIG.format(uri=uri, database="bench_tui"))
    client: MongoClient[dict[str, object]] = MongoClient(uri)
    import uuid

    session = Binary.from_uuid(uuid.uuid4(), UuidRepresentation.STANDARD)
    base = dt.datetime(2026, 1, 1)
    batch = []
    for i in range(audit):
        v = i % n + 1
        batch.append({"session_id": session, "transaction_name": "UpgradeTransaction" if i % 2 == 0 else
                      "DowngradeTransaction", "migration_read_model": {
                          "name": f"{v:04d}_noop", "version": v, "checksum": "0" * 32, "description": "No-op",
                          "is_applied": i % 2 == 1},
                      "date_fmt": "%Y-%m-%d %H:%M:%S", "date": base + dt.timedelta(seconds=i), "exc_name": None,
                      "exc_message": None, "duration_ms": 3, "user": "bench", "host": "bench", "engine_version": "0"})
        if len(batch) == 5000:
            client["bench_tui"]["auditlog"].insert_many(batch)
            batch = []
    if batch:
        client["bench_tui"]["auditlog"].insert_many(batch)
    client.close()
    return config


async def measure(config_path: Path, steps: int, timeout: float) -> dict[str, float]:
    from runway_tui.engine.config import load_config
    from runway_tui.engine.events import StepAppliedEvent
    from runway_tui.tui.app import RunwayApp
    from runway_tui.tui.components.migrations_table import MigrationsTable

    config = load_config(config_path)
    app_config = config.app("bench")
    n_files = len(list((config_path.parent / "migrations").glob("*.py")))
    started = time.perf_counter()
    app = RunwayApp(app_config, config.tui, read_only=False)
    app.cursor_blink = False
    result: dict[str, float] = {}
    async with app.run_test(size=(160, 50)) as pilot:
        # first complete paint: the table holds every row
        deadline = time.perf_counter() + timeout
        while True:
            table = app.main.query_one(MigrationsTable)
            rows = getattr(table, "row_count", 0)
            if app.snapshot is not None and rows >= n_files:
                break
            if time.perf_counter() > deadline:
                raise SystemExit(f"no complete first paint after {timeout}s (rows {rows}/{n_files})")
            await asyncio.sleep(0.005)
        await pilot.pause()
        result["first_paint_s"] = time.perf_counter() - started
        result["rss_after_paint_mb"] = rss_mb()

        # a 10 ms timer that measures its own lateness while steps run
        lateness: list[float] = []
        expected = [time.perf_counter() + 0.01]

        def tick() -> None:
            now = time.perf_counter()
            lateness.append(now - expected[0])
            expected[0] = now + 0.01

        engine_ms: list[float] = []
        assert app.engine is not None
        app.engine.subscribe(lambda e: engine_ms.append(e.duration_ms), StepAppliedEvent)
        app.set_interval(0.01, tick, name="stall-probe")
        totals: list[float] = []
        to_confirm: list[float] = []
        after_confirm: list[float] = []
        for _ in range(steps):
            assert app.snapshot is not None
            before = app.snapshot.status.current_version or 0
            pressed = time.perf_counter()
            await pilot.press("u")
            deadline = time.perf_counter() + timeout
            while type(app.screen).__name__ != "ConfirmScreen":
                if time.perf_counter() > deadline:
                    raise SystemExit("the confirmation dialog did not open")
                await asyncio.sleep(0.001)
            confirmed = time.perf_counter()
            to_confirm.append(confirmed - pressed)
            await pilot.press("y")
            while (app.snapshot.status.current_version or 0) != before + 1 or app.busy:
                if time.perf_counter() > deadline:
                    raise SystemExit("the panes did not show the new version")
                await asyncio.sleep(0.001)
            totals.append(time.perf_counter() - pressed)
            after_confirm.append(time.perf_counter() - confirmed)
            await pilot.pause(0.05)
        result["step_total_ms_median"] = statistics.median(totals) * 1000
        result["press_u_to_dialog_ms_median"] = statistics.median(to_confirm) * 1000
        result["press_y_to_new_version_ms_median"] = statistics.median(after_confirm) * 1000
        result["step_engine_migration_ms_median"] = statistics.median(engine_ms) if engine_ms else float("nan")
        result["step_overhead_ms_median"] = result["step_total_ms_median"] - result["step_engine_migration_ms_median"]
        result["worst_stall_ms"] = max(lateness) * 1000 if lateness else float("nan")
        result["rss_after_steps_mb"] = rss_mb()
        await pilot.press("q")
    app.shutdown_engine()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--audit", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    try:
        import runway_tui.tui.app  # noqa: F401
    except ImportError as exc:
        raise SystemExit(f"the TUI is missing ({exc}); nothing to measure") from None
    CACHE.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="tui-", dir=CACHE))
    with secantus_daemon(workdir) as daemon:
        prepared = time.perf_counter()
        config = prepare(workdir / "project", daemon.uri, args.n, args.audit)
        print(f"prepared {args.n} no-op migrations and {args.audit} audit entries "
              f"in {time.perf_counter() - prepared:.1f}s")
        res = asyncio.run(measure(config, args.steps, args.timeout))
    targets = [("first paint", res["first_paint_s"], 1.5, "s"),
               ("memory (RSS after steps)", max(res["rss_after_paint_mb"], res["rss_after_steps_mb"]), 250, "MB"),
               ("worst event-loop stall during steps", res["worst_stall_ms"], 100, "ms"),
               ("step overhead beyond the migration (median)", res["step_overhead_ms_median"], 20, "ms")]
    print(f"\nTUI at scale: N={args.n} migrations, {args.audit} audit entries, {args.steps} up steps with confirmation")
    for key, value in res.items():
        print(f"  {key:<34} {value:10.1f}" if not key.endswith("_s") else f"  {key:<34} {value:10.3f}")
    for label, value, limit, unit in targets:
        print(f"  [{'PASS' if value <= limit else 'FAIL'}] {label}: {value:.1f} {unit} (target <= {limit} {unit})")


if __name__ == "__main__":
    main()
