"""The TUI at scale: N=1000 no-op migrations (500 applied) and 100k audit entries, opened headless with
`run_test`.

    .venv/bin/python bench/tui_bench.py [--n 1000] [--applied 500] [--audit 100000] [--steps 10] [--repeat 3]

The audit log is written as a real one would be: one entry every ~3 minutes (random gaps) up to a few
minutes ago, so 100k entries span about seven months, with the engine's own indexes.

Reports, against the issue's targets:
- first complete paint: from constructing the app until all four panes are filled: every migration row,
  a page of the audit log, the database's collections (their statistics may still be coming: reported
  apart as `database_stats_complete_s`), live log lines (<= 0.5 s)
- resident memory after the first paint and after the steps (<= 150 MB)
- the worst stall of the UI event loop while steps run: a 10 ms timer measures its own lateness (<= 50 ms);
  the worst stall while opening is reported too
- a step: pressing `u`, confirming with `y`, until the header and the migrations pane show the new version,
  for a no-op migration (<= 100 ms from `y`); reported in total and minus the engine's own time for the
  migration, with the engine's whole `plan` and `upgrade` calls timed apart so that the UI's share shows;
  and until the audit pane shows the step's entry
- repaints per step: the screen's layout refreshes (each one arranges and paints every widget again; their
  mean cost too) and the header's content updates, from `u` until the step's audit entry is shown (the
  dialog's opening and closing included), and from `y` until the new version is painted

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


def prepare(root: Path, uri: str, n: int, audit: int, spacing_s: float, applied: int = 0) -> Path:
    """N no-op migration files and an audit log of `audit` entries written as a real log would be: one
    entry every `spacing_s` seconds on average (random gaps, seeded), the newest a few minutes ago, so
    100k entries span months. Inserted directly for speed, with the indexes and the evidence summary the
    engine creates when it writes its log (a real log written by the engine has them). Then the engine itself
    applies the first `applied` migrations (their records and audit entries as a real run writes them)."""
    import random
    import uuid

    import workload
    from bson.binary import Binary, UuidRepresentation
    from pymongo import MongoClient

    from runway_tui.engine.repository import AuditJournal, MigrationRepository

    scripts = root / "migrations"
    scripts.mkdir(parents=True, exist_ok=True)
    for v in range(1, n + 1):
        (scripts / f"{v:04d}_noop.py").write_text(NOOP.format(v=v))
    config = root / "runway.yaml"
    config.write_text(workload.RUNWAY_CONFIG.format(uri=uri, database="bench_tui"))
    client: MongoClient[dict[str, object]] = MongoClient(uri)
    database = client["bench_tui"]
    MigrationRepository(database, "migrations").ensure_indexes()
    AuditJournal(database, "auditlog", None).ensure_indexes()
    rng = random.Random(42)
    gaps = [rng.uniform(0.2, 1.8) * spacing_s for _ in range(audit)]
    newest = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=5)
    date = newest - dt.timedelta(seconds=sum(gaps))
    users = [("alice", "ops-1"), ("bob", "ops-2"), ("ci", "runner-7")]
    batch = []
    for i in range(audit):
        date += dt.timedelta(seconds=gaps[i])
        v = i % n + 1
        session = Binary.from_uuid(uuid.UUID(int=rng.getrandbits(128)), UuidRepresentation.STANDARD)
        # Each migration went up and down in turns, its newest entry a down: the log agrees with the
        # records (all pending). (An up last would be evidence that it is applied, and the engine refuses to
        # run a step that the audit log shows done.)
        up = ((audit - 1 - i) // n) % 2 == 1
        # a failure in the last round would leave the migration's newest *successful* entry an up: evidence
        # that it is applied, against its pending record (the engine then refuses every run until settled)
        failed = rng.random() < 0.01 and i < audit - n
        user, host = users[i % 3]
        batch.append({"session_id": session, "transaction_name": "UpgradeTransaction" if up else
                      "DowngradeTransaction", "migration_read_model": {
                          "name": f"{v:04d}_noop", "version": v, "checksum": "0" * 32, "description": "No-op",
                          "is_applied": up and not failed},
                      "date_fmt": "%Y-%m-%d %H:%M:%S", "date": date,
                      "exc_name": "RuntimeError" if failed else None,
                      "exc_message": "boom" if failed else None, "duration_ms": rng.randint(2, 400), "user": user,
                      "host": host, "engine_version": "0"})
        if len(batch) == 5000:
            database["auditlog"].insert_many(batch)
            batch = []
    if batch:
        database["auditlog"].insert_many(batch)
    # and the summary of its evidence that the engine keeps beside a log it writes (engine/evidence.py)
    from runway_tui.engine.evidence import EvidenceStore

    evidence = EvidenceStore(database, "auditlog", AuditJournal(database, "auditlog", None))
    evidence.seal(evidence.read(), client.admin.command("hello")["localTime"].replace(tzinfo=None))
    client.close()
    if applied:
        from runway_tui.engine.app import MigrationApp
        from runway_tui.engine.config import load_config

        with MigrationApp(load_config(config).app("bench")) as engine:
            engine.upgrade(to=applied)
    return config


async def measure(config_path: Path, steps: int, timeout: float) -> dict[str, float]:
    from textual import events

    from runway_tui.engine.config import load_config
    from runway_tui.engine.events import StepAppliedEvent
    from runway_tui.tui.app import RunwayApp
    from runway_tui.tui.components.audit_pane import AuditTable
    from runway_tui.tui.components.database_pane import CollectionsTable
    from runway_tui.tui.components.header_bar import HeaderBar
    from runway_tui.tui.components.live_log import LiveLog
    from runway_tui.tui.components.migrations_table import MigrationsTable

    config = load_config(config_path)
    app_config = config.app("bench")
    n_files = len(list((config_path.parent / "migrations").glob("*.py")))
    started = time.perf_counter()
    app = RunwayApp(app_config, config.tui, read_only=False)
    app.cursor_blink = False
    result: dict[str, float] = {}

    # a 10 ms timer that measures its own lateness: the event loop's stalls (first paint, then the steps)
    lateness: list[float] = []
    expected = [0.0]

    def tick() -> None:
        now = time.perf_counter()
        lateness.append(now - expected[0])
        expected[0] = now + 0.01

    counts = count_repaints(HeaderBar)
    async with app.run_test(size=(160, 50)) as pilot:
        expected[0] = time.perf_counter() + 0.01
        app.set_interval(0.01, tick, name="stall-probe")
        main = app.main
        # first complete paint: all four panes filled (every migration row, a page of the audit log, the
        # database's collections, live log lines) and the header showing the version
        deadline = time.perf_counter() + timeout
        migrations_at = audit_at = database_at = log_at = stats_at = None
        while True:
            now = time.perf_counter()
            table = main.query_one(MigrationsTable)
            if migrations_at is None and app.snapshot is not None and table.row_count >= n_files and getattr(
                    table, "complete", True):
                migrations_at = now
            if audit_at is None and main.query_one(AuditTable).row_count > 0:
                audit_at = now
            if database_at is None and main.query_one(CollectionsTable).row_count > 0:
                database_at = now
            if log_at is None and main.query_one(LiveLog).history:
                log_at = now
            if stats_at is None and database_at is not None and overview_complete(app):
                stats_at = now
            if None not in (migrations_at, audit_at, database_at, log_at):
                break
            if now > deadline:
                raise SystemExit(f"no complete first paint after {timeout}s (rows {table.row_count}/{n_files}, "
                                 f"audit {audit_at}, database {database_at})")
            await asyncio.sleep(0.005)
        result["first_paint_s"] = max(migrations_at, audit_at, database_at, log_at) - started  # type: ignore[type-var]
        result["first_paint_migrations_s"] = migrations_at - started  # type: ignore[operator]
        result["first_paint_audit_s"] = audit_at - started  # type: ignore[operator]
        result["first_paint_database_s"] = database_at - started  # type: ignore[operator]
        while stats_at is None and time.perf_counter() < deadline:
            if overview_complete(app) and main.query_one(CollectionsTable).row_count > 0:
                stats_at = time.perf_counter()
            await asyncio.sleep(0.005)
        result["database_stats_complete_s"] = (stats_at or float("nan")) - started
        await pilot.pause()
        result["worst_stall_opening_ms"] = max(lateness) * 1000 if lateness else float("nan")
        result["rss_after_paint_mb"] = rss_mb()
        lateness.clear()

        engine_ms: list[float] = []
        assert app.engine is not None
        engine = app.engine
        app.engine.subscribe(lambda e: engine_ms.append(e.duration_ms), StepAppliedEvent)
        calls: dict[str, list[float]] = {"upgrade": [], "plan": []}

        def timed(name: str):  # the engine's whole call (lock, sync, step, audit), to separate it from the UI's
            real = getattr(engine, name)

            def call(*args, **kwargs):
                t0 = time.perf_counter()
                try:
                    return real(*args, **kwargs)
                finally:
                    calls[name].append((time.perf_counter() - t0) * 1000)
            setattr(engine, name, call)

        timed("upgrade")
        timed("plan")

        def press(key: str) -> None:
            """The key as the terminal driver delivers it. Not `pilot.press`: it also waits until the process
            looks idle (CPU time not advancing, up to 1 s per wait, twice per key), which with worker threads
            and this probe running measures the harness, not the app."""
            app.post_message(events.Key(key, key))

        counts.update(layouts=0.0, layout_s=0.0, headers=0.0)  # the steps alone
        after_y = {"layouts": 0.0, "headers": 0.0}  # from `y` until the new version is painted
        totals: list[float] = []
        to_confirm: list[float] = []
        after_confirm: list[float] = []
        audit_after: list[float] = []
        for _ in range(steps):
            assert app.snapshot is not None
            before = app.snapshot.status.current_version or 0
            newest = main.query_one(AuditTable).entries[:1]
            pressed = time.perf_counter()
            press("u")
            deadline = time.perf_counter() + timeout
            while type(app.screen).__name__ != "ConfirmScreen":
                if time.perf_counter() > deadline:
                    raise SystemExit("the confirmation dialog did not open")
                await asyncio.sleep(0.001)
            confirmed = time.perf_counter()
            to_confirm.append(confirmed - pressed)
            layouts_at_y, headers_at_y = counts["layouts"], counts["headers"]
            press("y")
            while (app.snapshot.status.current_version or 0) != before + 1 or app.busy:
                if time.perf_counter() > deadline:
                    raise SystemExit("the panes did not show the new version")
                await asyncio.sleep(0.001)
            totals.append(time.perf_counter() - pressed)
            after_confirm.append(time.perf_counter() - confirmed)
            await pilot.pause()  # the repaint that shows it, counted with the step
            after_y["layouts"] += counts["layouts"] - layouts_at_y
            after_y["headers"] += counts["headers"] - headers_at_y
            while main.query_one(AuditTable).entries[:1] == newest:  # the step's audit entry is shown
                if time.perf_counter() > deadline:
                    raise SystemExit("the audit pane did not show the step's entry")
                await asyncio.sleep(0.001)
            audit_after.append(time.perf_counter() - confirmed)
            await pilot.pause(0.05)
        result["step_total_ms_median"] = statistics.median(totals) * 1000
        result["press_u_to_dialog_ms_median"] = statistics.median(to_confirm) * 1000
        result["press_y_to_new_version_ms_median"] = statistics.median(after_confirm) * 1000
        result["press_y_to_audit_entry_ms_median"] = statistics.median(audit_after) * 1000
        result["step_engine_migration_ms_median"] = statistics.median(engine_ms) if engine_ms else float("nan")
        result["engine_upgrade_call_ms_median"] = statistics.median(calls["upgrade"])
        result["engine_plan_call_ms_median"] = statistics.median(calls["plan"])
        result["step_overhead_ms_median"] = result["step_total_ms_median"] - result["step_engine_migration_ms_median"]
        result["ui_overhead_ms_median"] = (result["step_total_ms_median"] - result["engine_upgrade_call_ms_median"]
                                           - result["engine_plan_call_ms_median"])
        result["worst_stall_ms"] = max(lateness) * 1000 if lateness else float("nan")
        result["layout_refreshes_per_step"] = counts["layouts"] / steps
        result["layout_refresh_ms_mean"] = counts["layout_s"] * 1000 / max(counts["layouts"], 1)
        result["header_renders_per_step"] = counts["headers"] / steps
        result["layout_refreshes_after_y_per_step"] = after_y["layouts"] / steps
        result["header_renders_after_y_per_step"] = after_y["headers"] / steps
        result["rss_after_steps_mb"] = rss_mb()
        result.update(await other_operator(app, app_config, steps, timeout))
        await pilot.press("q")
    app.shutdown_engine()
    return result


def overview_complete(app) -> bool:
    """Pane 2 has every collection's statistics (the pane's own state; the app's before issue 19)."""
    from runway_tui.tui.components.database_pane import DatabasePane

    if hasattr(app, "overview_complete"):
        return bool(app.overview_complete)
    return bool(app.main.query_one(DatabasePane).overview_complete)


def count_repaints(header_class: type) -> dict[str, float]:
    """Counters of what a user feels as repaints: the screen's layout refreshes (each one re-arranges and
    repaints every widget; their total time too) and the header's content updates. Counted by wrapping the
    two methods for this process (the bench's app is the only one)."""
    from textual.screen import Screen

    counts = {"layouts": 0.0, "layout_s": 0.0, "headers": 0.0}
    layout, update = Screen._refresh_layout, header_class.update

    def counted_layout(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return layout(self, *args, **kwargs)
        finally:
            counts["layouts"] += 1
            counts["layout_s"] += time.perf_counter() - t0

    def counted_update(self, *args, **kwargs):
        counts["headers"] += 1
        return update(self, *args, **kwargs)

    Screen._refresh_layout = counted_layout  # type: ignore[method-assign]
    header_class.update = counted_update
    return counts


async def other_operator(app, app_config, steps: int, timeout: float) -> dict[str, float]:
    """Another operator's step, down then up again (a second engine, in a thread of this process): from the
    step's commit (its StepAppliedEvent) until the TUI's panes show the new version, through the change
    stream on a replica set (a poll is 1 s away on average at 2 s); the header's mode is printed with it."""
    from runway_tui.engine.app import MigrationApp
    from runway_tui.engine.events import StepAppliedEvent

    delays: list[float] = []
    committed: list[float] = []
    with MigrationApp(app_config) as other:
        other.subscribe(lambda _e: committed.append(time.perf_counter()), StepAppliedEvent)
        for index in range(steps):  # down and up again: the bench's made-up audit log blocks new versions
            before = app.snapshot.status.current_version or 0
            down = index % 2 == 0
            committed.clear()
            call = (lambda: other.downgrade(steps=1)) if down else (lambda: other.upgrade(steps=1))
            running = asyncio.get_running_loop().run_in_executor(None, call)
            deadline = time.perf_counter() + timeout
            while (app.snapshot.status.current_version or 0) == before or not committed:
                if running.done() and not committed:
                    raise SystemExit(f"the other operator's step did not run: {running.exception()}")
                if time.perf_counter() > deadline:
                    raise SystemExit(f"the TUI did not show the other operator's step (shown "
                                     f"{app.snapshot.status.current_version}, before {before}, {app.refresh_mode})")
                await asyncio.sleep(0.001)
            delays.append(max(0.0, time.perf_counter() - committed[0]))
            await running
            await asyncio.sleep(0.2)  # the next one is a separate change, not part of a burst
    print(f"  other operators' changes reach the TUI by: {app.refresh_mode}", flush=True)
    return {"other_operator_ms_median": statistics.median(delays) * 1000, "other_operator_ms_worst": max(delays) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--audit", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--applied", type=int, default=None, help="migrations applied before the TUI opens "
                        "(default: half of --n)")
    parser.add_argument("--spacing", type=float, default=180.0,
                        help="mean seconds between two audit entries (default 180: 100k entries span ~7 months)")
    parser.add_argument("--repeat", type=int, default=1, help="runs (fresh daemon each); medians are printed")
    args = parser.parse_args()
    try:
        import runway_tui.tui.app  # noqa: F401
    except ImportError as exc:
        raise SystemExit(f"the TUI is missing ({exc}); nothing to measure") from None
    runs: list[dict[str, float]] = []
    for run in range(args.repeat):
        CACHE.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix="tui-", dir=CACHE))
        with secantus_daemon(workdir) as daemon:
            prepared = time.perf_counter()
            applied = args.n // 2 if args.applied is None else args.applied
            config = prepare(workdir / "project", daemon.uri, args.n, args.audit, args.spacing, applied)
            print(f"run {run + 1}/{args.repeat}: prepared {args.n} no-op migrations ({applied} applied) and "
                  f"{args.audit} audit entries in {time.perf_counter() - prepared:.1f}s", flush=True)
            runs.append(asyncio.run(measure(config, args.steps, args.timeout)))
        print("  " + ", ".join(f"{k}={v:.3f}" if k.endswith("_s") else f"{k}={v:.1f}" for k, v in runs[-1].items()),
              flush=True)
    res = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    targets = [("first complete paint", res["first_paint_s"], 0.5, "s"),
               ("layout refreshes from y to the new version, per step", res["layout_refreshes_after_y_per_step"],
                1, ""),
               ("memory (RSS after steps)", max(res["rss_after_paint_mb"], res["rss_after_steps_mb"]), 150, "MB"),
               ("worst event-loop stall during steps", res["worst_stall_ms"], 50, "ms"),
               ("y -> panes show the new version (median)", res["press_y_to_new_version_ms_median"], 100, "ms"),
               ("another operator's step -> panes show it (worst)", res["other_operator_ms_worst"], 300, "ms")]
    print(f"\nTUI at scale: N={args.n} migrations, {args.audit} audit entries, {args.steps} up steps with "
          f"confirmation; median of {len(runs)} run(s)")
    for key, value in res.items():
        print(f"  {key:<36} {value:10.1f}" if not key.endswith("_s") else f"  {key:<36} {value:10.3f}")
    for label, value, limit, unit in targets:
        print(f"  [{'PASS' if value <= limit else 'FAIL'}] {label}: {value:.1f} {unit} (target <= {limit} {unit})")

if __name__ == "__main__":
    main()
