"""Backfill throughput side by side on one SecantusDB daemon (issue 26).

    .venv/bin/python bench/backfill_bench.py [--docs 1000000] [--batch 1000] [--rate-s 10]

Each variant `$inc`s a counter on every document of its own copy of the collection, in this order:
(a) the engine: a migration calling `ctx.backfill(...)` run by `MigrationApp.upgrade()` (checkpoint, events,
    throttle, lease checks), with a fixed `batch_size` so both walks do the same batches;
(b) a hand-written pymongo loop doing the same walk: one `_id`-sorted cursor, one bulk write of UpdateOne by
    `_id` and one transaction per batch, no checkpoint;
(c) one raw `update_many` (no batches, no transaction: what a crash at 85 % cannot resume).
Prints documents/s, the engine against the loop (target <= 1.15x) and against `update_many` (a figure), the
engine's resident memory growth during its walk (flat: it holds one batch of `_id`s), and the rate cap held
over `--rate-s` seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

from pymongo import MongoClient, UpdateOne

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import secantus_daemon  # noqa: E402

import runway_tui  # noqa: E402

MIGRATION = '''"""Count every document"""
version = 1
transactional = False


def upgrade(ctx):
    ctx.backfill("{collection}", {{}}, {{"$inc": {{"n": 1}}}}{args})


def downgrade(ctx):
    pass
'''


def seed(client: MongoClient, database: str, collection: str, docs: int) -> None:
    for start in range(0, docs, 20_000):
        client[database][collection].insert_many([{"_id": i, "n": 0, "pad": "x" * 40}
                                                  for i in range(start, min(start + 20_000, docs))])


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def engine_run(work: Path, uri: str, database: str, collection: str, args: str) -> tuple[float, float]:
    """Seconds of `upgrade()`, and the resident memory growth (MB) seen while it ran."""
    project = work / collection
    (project / "migrations").mkdir(parents=True)
    (project / "migrations" / "001_count.py").write_text(MIGRATION.format(collection=collection, args=args))
    (project / "runway.yaml").write_text(f"scripts_dir: migrations\napplications:\n  bench:\n    uri: \"{uri}\"\n"
                                         f"    database: {database}\n    migrations_collection: m_{collection}\n"
                                         f"    auditlog_collection: a_{collection}\n"
                                         f"    lock_collection: l_{collection}\n")
    peak, stop = [rss_mb()], threading.Event()

    def sample() -> None:
        while not stop.wait(0.2):
            peak.append(rss_mb())

    with runway_tui.create_app(config=project / "runway.yaml") as app:
        start_rss = rss_mb()
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        app.upgrade()
        seconds = time.perf_counter() - started
        stop.set()
        sampler.join()
    return seconds, max(peak) - start_rss


def loop_run(client: MongoClient, database: str, collection: str, batch: int) -> float:
    coll = client[database][collection]
    started = time.perf_counter()
    cursor = coll.find({}, {"_id": 1}, sort=[("_id", 1)], batch_size=10_000)
    with client.start_session() as session:
        while True:
            ids = [doc["_id"] for _, doc in zip(range(batch), cursor, strict=False)]
            if not ids:
                break
            session.start_transaction()
            coll.bulk_write([UpdateOne({"_id": i}, {"$inc": {"n": 1}}) for i in ids], session=session)
            session.commit_transaction()
    return time.perf_counter() - started


def update_many_run(client: MongoClient, database: str, collection: str) -> float:
    started = time.perf_counter()
    client[database][collection].update_many({}, {"$inc": {"n": 1}})
    return time.perf_counter() - started


def check(client: MongoClient, database: str, collection: str, docs: int) -> None:
    counted = client[database][collection].count_documents({"n": 1})
    if counted != docs:
        raise SystemExit(f"{collection}: {counted} of {docs} documents counted once")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=2000, help="documents/s for the rate-cap run")
    parser.add_argument("--rate-s", type=float, default=10.0, help="seconds the rate-cap run lasts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="backfill-bench-") as tmp, secantus_daemon(Path(tmp)) as daemon:
        work, client, database = Path(tmp), MongoClient(daemon.uri), "bench"
        started = time.perf_counter()
        for name in ("engine", "loop", "many"):
            seed(client, database, name, args.docs)
        print(f"seeded 3 collections of {args.docs:,} documents in {time.perf_counter() - started:.1f} s")
        engine_s, grown = engine_run(work, daemon.uri, database, "engine", f", batch_size={args.batch}")
        check(client, database, "engine", args.docs)
        loop_s = loop_run(client, database, "loop", args.batch)
        check(client, database, "loop", args.docs)
        many_s = update_many_run(client, database, "many")
        check(client, database, "many", args.docs)
        rate = args.docs
        print(f"(a) engine ctx.backfill   {engine_s:7.1f} s  {rate / engine_s:8,.0f} docs/s  (batch {args.batch})")
        print(f"    hand-written loop     {loop_s:7.1f} s  {rate / loop_s:8,.0f} docs/s  "
              f"engine/loop = {engine_s / loop_s:.2f}x (target <= 1.15x)")
        print(f"(b) one raw update_many   {many_s:7.1f} s  {rate / many_s:8,.0f} docs/s  "
              f"engine/update_many = {engine_s / many_s:.2f}x (a figure; SecantusDB, not mongod)")
        print(f"    engine memory growth during the walk: {grown:.1f} MB (one batch of _ids at a time)")
        capped = int(args.rate * args.rate_s)
        seed(client, database, "capped", capped)
        capped_s, _ = engine_run(work, daemon.uri, database, "capped", f", max_docs_per_s={args.rate}")
        print(f"    rate cap {args.rate:,} docs/s over {capped:,} documents: {capped / capped_s:,.0f} docs/s held "
              f"({capped_s:.1f} s; within 10 %: {abs(capped / capped_s - args.rate) <= args.rate * 0.1})")
        client.close()


if __name__ == "__main__":
    main()
