"""A backfill project for the tests: `items` documents with a counter, and migrations that walk them.

Every check reads the database with pymongo, as a person inspecting it would.
"""

from __future__ import annotations

from typing import Any

from pymongo import MongoClient

from tests.support.project import Project

# $inc is not idempotent: a batch applied twice shows as a counter at 2, a document missed as 0.
INC = '''"""Count every item once"""
version = {v}
transactional = False


def upgrade(ctx):
    result = ctx.backfill({target}, {{}}, {{"$inc": {{"n": 1}}}}{args})
    ctx.log(f"walked {{result.done}}, modified {{result.modified}}")


def downgrade(ctx):
    ctx.backfill("items", {{}}, {{"$inc": {{"n": -1}}}}{args})
'''

# A Python-side transform: each batch read, a field computed, written back with ctx.write_batch.
TRANSFORM = '''"""Split each name into first and last"""
from pymongo import UpdateOne

version = {v}
transactional = False


def upgrade(ctx):
    for batch in ctx.batches(ctx.db.items, {{"first": {{"$exists": False}}}}, projection={{"name": 1}}, batch_size=300):
        ctx.write_batch("items", [UpdateOne({{"_id": d["_id"]}}, {{"$set": {{"first": d["name"].split()[0]}},
                                             "$inc": {{"n": 1}}}}) for d in batch])


def downgrade(ctx):
    ctx.db.items.update_many({{}}, {{"$unset": {{"first": ""}}, "$inc": {{"n": -1}}}})
'''


def seed_items(client: MongoClient, database: str, count: int) -> None:
    docs = [{"_id": i, "n": 0, "name": f"Ada{i} Lovelace"} for i in range(count)]
    for start in range(0, count, 50_000):
        client[database].items.insert_many(docs[start:start + 50_000], ordered=False)


def write_inc(project: Project, v: int = 1, *, target: str = '"items"', args: str = "") -> None:
    project.write_migration(v, "count_items", INC.format(v=v, target=target, args=args))


def counters(client: MongoClient, database: str) -> dict[int, int]:
    """How many documents have each counter value: {1: 20000} after one clean pass."""
    rows = client[database].items.aggregate([{"$group": {"_id": "$n", "count": {"$sum": 1}}}])
    return {row["_id"]: row["count"] for row in rows}


def record(client: MongoClient, database: str, version: int = 1) -> dict[str, Any]:
    return client[database].migrations.find_one({"_id": version}) or {}


def done(client: MongoClient, database: str, version: int = 1) -> int:
    """Documents done by the checkpoint (0 before the first batch commits)."""
    backfill = record(client, database, version).get("backfill") or {}
    return sum(call.get("done", 0) for call in backfill.get("calls") or [] if isinstance(call, dict))


def audit_actions(client: MongoClient, database: str) -> list[str]:
    return [e["transaction_name"] for e in client[database].auditlog.find({}, sort=[("date", 1), ("_id", 1)])]
