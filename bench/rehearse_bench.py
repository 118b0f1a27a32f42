"""Rehearsal at scale: 5 migrations over 3 collections of 100k documents, `--sample 1000` (issue 20).

    .venv/bin/python bench/rehearse_bench.py [--docs 100000] [--sample 1000]

Production and the scratch are two databases on one SecantusDB daemon (a child process, as bench/run.py
starts it). The rehearsal runs as a user runs it (`runway-tui rehearse --json`, a subprocess); prints its
wall time against the target (<= 10 s), the time it reports for itself, and the production reads with
their count and time (and the writes: 0).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pymongo import MongoClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RUNWAY_CLI, secantus_daemon  # noqa: E402

TARGET_S = 10.0
MIGRATIONS = {
    "001_backfill_status.py": ('users', '''
def upgrade(ctx):
    ctx.db["users"].update_many({"status": {"$exists": False}}, {"$set": {"status": "active"}}, session=ctx.session)


def downgrade(ctx):
    ctx.db["users"].update_many({}, {"$unset": {"status": ""}}, session=ctx.session)
'''),
    "002_orders_by_user.py": ('orders', '''transactional = False


def upgrade(ctx):
    ctx.db["orders"].create_index([("user", 1), ("at", -1)], name="by_user_at")


def downgrade(ctx):
    ctx.db["orders"].drop_index("by_user_at")
'''),
    "003_rename_fullname.py": ('users', '''
def upgrade(ctx):
    ctx.db.users.update_many({}, {"$rename": {"fullname": "name"}}, session=ctx.session)


def downgrade(ctx):
    ctx.db.users.update_many({}, {"$rename": {"name": "fullname"}}, session=ctx.session)
'''),
    "004_events_kind_lower.py": ('events', '''
def upgrade(ctx):
    ctx.db["events"].update_many({}, [{"$set": {"kind": {"$toLower": "$kind"}}}], session=ctx.session)


def downgrade(ctx):
    ctx.db["events"].update_many({}, [{"$set": {"kind": {"$toUpper": "$kind"}}}], session=ctx.session)
'''),
    "005_orders_total_cents.py": ('orders', '''
def upgrade(ctx):
    ctx.db["orders"].update_many({}, [{"$set": {"cents": {"$multiply": ["$total", 100]}}}], session=ctx.session)


def downgrade(ctx):
    ctx.db["orders"].update_many({}, {"$unset": {"cents": ""}}, session=ctx.session)
'''),
}


def seed(client: MongoClient, database: str, docs: int) -> None:
    db = client[database]
    batch = 10_000
    for start in range(0, docs, batch):
        ids = range(start, min(start + batch, docs))
        db["users"].insert_many([{"_id": i, "fullname": f"User {i}", "email": f"u{i}@example.com"} for i in ids])
        db["orders"].insert_many([{"_id": i, "user": i % 5000, "at": i, "total": i % 97} for i in ids])
        db["events"].insert_many([{"_id": i, "kind": "CLICK" if i % 2 else "VIEW", "user": i % 5000} for i in ids])
    db["users"].create_index("email", unique=True, name="email_unique")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rehearse-bench-") as tmp, secantus_daemon(Path(tmp)) as daemon:
        work = Path(tmp)
        client: MongoClient = MongoClient(daemon.uri)
        started = time.perf_counter()
        seed(client, "shop", args.docs)
        print(f"seeded 3 collections of {args.docs} documents in {time.perf_counter() - started:.1f} s")
        migrations = work / "migrations"
        migrations.mkdir()
        for number, (name, (_collection, body)) in enumerate(MIGRATIONS.items(), start=1):
            (migrations / name).write_text(f'"""{name[4:-3]}."""\nversion = {number}\n{body}')
        (work / "runway.yaml").write_text(f"""scripts_dir: migrations
applications:
  shop:
    uri: "{daemon.uri}"
    database: shop
    rehearsal:
      uri: "{daemon.uri}"
""")
        started = time.perf_counter()
        result = subprocess.run([str(RUNWAY_CLI), "--config", str(work / "runway.yaml"), "rehearse", "--json",
                                 "--sample", str(args.sample)], capture_output=True, text=True, timeout=300)
        wall = time.perf_counter() - started
        if result.returncode not in (0, 4):
            raise SystemExit(f"rehearse failed (exit {result.returncode}): {result.stderr.strip()[-500:]}")
        report = json.loads(result.stdout)
        print(f"rehearse --sample {args.sample}: 5 migrations, 3 collections of {args.docs}: "
              f"{wall:.2f} s wall (target <= {TARGET_S:.0f} s: {'ok' if wall <= TARGET_S else 'MISSED'}), "
              f"exit {result.returncode}")
        reads = report["production_reads"]
        print(f"production: {reads['count']} reads in {reads['ms']:.0f} ms, {report['production_writes']} writes")
        timings = report["timings"]
        print(f"in the process: {timings['total_ms'] / 1000:.2f} s, of which copying the samples and the state "
              f"{timings['copy_ms'] / 1000:.2f} s; the rest is the five steps up, down and up with their snapshots")
        for migration in report["migrations"]:
            print(f"  {migration['name']}: {migration['result']}, {migration['duration_ms']} ms on the sample, "
                  f"estimate {migration['estimated_full_ms']} ms for the whole collection, "
                  f"reversible {migration['reversible']}")
        client.close()


if __name__ == "__main__":
    main()
