"""The floor: the workload's writes issued directly with pymongo in one process, no migration tool.

    python bench/floor.py URI DATABASE N {up,down} [--txn]

`up` runs migrations 1..N, `down` reverts N..1. With `--txn` each migration runs in its own
transaction (what runway-tui does), to separate the transaction's cost from the tool's. Prints one
JSON line with the in-process seconds (the harness times the whole process).
"""

from __future__ import annotations

import argparse
import json
import time

from pymongo import MongoClient


def ids(v: int) -> list[str]:
    return [f"m{v}_{k}" for k in range(3)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("uri")
    parser.add_argument("database")
    parser.add_argument("n", type=int)
    parser.add_argument("direction", choices=["up", "down"])
    parser.add_argument("--txn", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    client: MongoClient[dict[str, object]] = MongoClient(args.uri)
    db = client[args.database]
    items, meta = db["items"], db["meta"]

    def up(v: int, s: object) -> None:
        batch = ids(v)
        items.insert_many([{"_id": i, "v": v, "k": k} for k, i in enumerate(batch)], session=s)
        items.update_many({"_id": {"$in": batch}}, {"$set": {"touched": True}}, session=s)
        meta.update_one({"_id": "version"}, {"$set": {"version": v}}, upsert=True, session=s)

    def down(v: int, s: object) -> None:
        items.delete_many({"_id": {"$in": ids(v)}}, session=s)
        meta.update_one({"_id": "version"}, {"$set": {"version": v - 1}}, upsert=True, session=s)

    work = up if args.direction == "up" else down
    order = range(1, args.n + 1) if args.direction == "up" else range(args.n, 0, -1)
    for v in order:
        if args.txn:
            with client.start_session() as session, session.start_transaction():
                work(v, session)
        else:
            work(v, None)
    in_process = time.perf_counter() - started
    client.close()
    print(json.dumps({"in_process_s": in_process}))


if __name__ == "__main__":
    main()
