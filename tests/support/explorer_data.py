"""Seeded collections for the explorer's tests: mixed types, nested documents, arrays, secrets, 100k for paging.

Everything is deterministic (fixed ids, dates and values), so the TUI's snapshots of these views are stable.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bson import Binary, Decimal128, Int64, ObjectId
from pymongo import ASCENDING, MongoClient

SEED_DB = "runway_explorer"
BIG_DB = "runway_explorer_big"  # apart, so that opening the TUI on the small one reads no 100k statistics
BIG = "events"
BIG_COUNT = 100_000
SECRET_EMAIL = "ada@secret.example"
SECRET_SSN = "078-05-1120"
SECRET_PASSWORD = "hunter2-not-for-eyes"


def person(n: int) -> dict:
    """Mixed on purpose: `age` is an int, a string or missing; `status` is missing from every fourth one."""
    doc: dict = {
        "_id": ObjectId(f"{n:024x}"),
        "name": f"person {n:02d}",
        "email": SECRET_EMAIL if n == 1 else f"p{n}@example.com",
        "password": SECRET_PASSWORD,
        "age": n + 20 if n % 3 else str(n + 20),
        "address": {"city": ["Lyon", "Oslo", "Lima"][n % 3], "zip": f"{n:05d}"},
        "profile": {"ssn": SECRET_SSN, "since": dt.datetime(2024, 1, 1) + dt.timedelta(days=n)},
        "tags": ["a", "b"][: n % 3],
        "orders": [{"sku": f"S{n}-{i}", "qty": i, "price": Decimal128(Decimal(f"{n}.{i}5"))} for i in range(n % 2 + 1)],
        "blob": Binary(bytes([n % 256]) * 4),
    }
    if n % 4:
        doc["status"] = "active" if n % 2 else "invited"
    if n % 5 == 0:
        doc["age"] = None
    return doc


LOGINS = "logins"
LOGIN_COUNT = 60


def login(n: int) -> dict:
    """A realistic mixed-type collection: `phone` is a string, a long, an int or missing; `mfa` is true, false,
    "yes" or 1 (they must not look alike); `status` has three values; `legacy_id` repeats for ten documents;
    `city` holds wide characters."""
    doc: dict = {
        "_id": n,
        "user": f"user{n % 12:02d}",
        "at": dt.datetime(2026, 3, 1) + dt.timedelta(minutes=37 * n),
        "status": ["ok", "ok", "ok", "denied", "locked"][n % 5],
        "mfa": [True, False, "yes", 1][n % 4],
        "device": {"os": ["ios", "android", "web"][n % 3], "version": f"{17 + n % 3}.{n % 4}"},
        "city": ["東京都", "Zürich", "Oslo"][n % 3],
        "legacy_id": f"L{n % 50:03d}",
        "email": f"user{n % 12:02d}@example.com",
    }
    phone = n % 4
    if phone == 0:
        doc["phone"] = Int64(33600000000 + n)
    elif phone == 1:
        doc["phone"] = f"+33 6 00 00 00 {n:02d}"
    elif phone == 2:
        doc["phone"] = 600000000 + n
    return doc


def seed_big(client: MongoClient, name: str = BIG_DB, count: int = BIG_COUNT) -> None:
    """(Re)create `events`: `count` small documents with ids 0.. for paging, inserted in bulk."""
    client.drop_database(name)
    batch = 10_000
    for start in range(0, count, batch):
        client[name][BIG].insert_many([{"_id": i, "n": i, "group": i % 10}
                                       for i in range(start, min(count, start + batch))], ordered=False)


def seed(client: MongoClient, name: str = SEED_DB) -> None:
    """(Re)create the database: people (40), rules (validator), ring (capped), counters (300, sorting), logins
    (60, mixed types)."""
    client.drop_database(name)
    db = client[name]
    db.people.insert_many([person(n) for n in range(1, 41)])
    db.people.create_index([("email", ASCENDING)], name="email_1", unique=True)
    # a TTL index on a field no document has: the server's TTL monitor must not delete the seeded data
    db.people.create_index([("expires_at", ASCENDING)], name="expires_ttl", expireAfterSeconds=86400)
    db.people.create_index([("status", ASCENDING)], name="status_partial",
                           partialFilterExpression={"status": {"$exists": True}})
    db.people.create_index([("address.city", ASCENDING)], name="city_sparse", sparse=True)
    db.create_collection("rules", validator={"$jsonSchema": {"bsonType": "object", "required": ["email"],
                                                             "properties": {"email": {"bsonType": "string"}}}},
                         validationLevel="moderate", validationAction="warn")
    db.rules.insert_one({"_id": 1, "email": SECRET_EMAIL})
    db.create_collection("ring", capped=True, size=65536, max=100)
    db.counters.insert_many([{"_id": i, "group": i % 10} for i in range(300)])
    db[LOGINS].insert_many([login(n) for n in range(LOGIN_COUNT)])
    db[LOGINS].create_index([("legacy_id", ASCENDING)], name="legacy_id_1")
