"""The generated workload, written once per tool in that tool's own migration format.

Migration v (1..N): insert 3 documents with fixed `_id`s into `items`, `updateMany` them by `_id`,
upsert `meta {_id: "version"}` to v. Its downgrade deletes the 3 documents by `_id` and sets the
version doc back to v - 1. Every write is keyed by `_id`, so the server's scan cost does not
dominate and the numbers measure the tools.
"""

from __future__ import annotations

import json
from pathlib import Path


def ids(v: int) -> list[str]:
    return [f"m{v}_{k}" for k in range(3)]


def width(n: int) -> int:
    return max(4, len(str(n)))


# ------------------------------------------------------------------------------------------ runway-tui
RUNWAY_CONFIG = """\
scripts_dir: migrations
default_app: bench
applications:
  bench:
    uri: "{uri}"
    database: {database}
    migrations_collection: migrations
    auditlog_collection: auditlog
    lock_collection: migrations_lock
    auditlog_limit: null
    read_only: false
    production: false
    timeouts:
      server_selection_ms: 5000
      connect_ms: 5000
      socket_ms: 0
      lock_wait_s: 30
      lock_ttl_s: 60
      embedded_start_s: 30
"""

RUNWAY_MIGRATION = '''"""Bench migration {v}: insert 3 docs, update them by _id, upsert the version doc."""

version = {v}
IDS = {ids}


def upgrade(ctx):
    s = ctx.session
    ctx.db["items"].insert_many([{{"_id": i, "v": {v}, "k": k}} for k, i in enumerate(IDS)], session=s)
    ctx.db["items"].update_many({{"_id": {{"$in": IDS}}}}, {{"$set": {{"touched": True}}}}, session=s)
    ctx.db["meta"].update_one({{"_id": "version"}}, {{"$set": {{"version": {v}}}}}, upsert=True, session=s)


def downgrade(ctx):
    s = ctx.session
    ctx.db["items"].delete_many({{"_id": {{"$in": IDS}}}}, session=s)
    ctx.db["meta"].update_one({{"_id": "version"}}, {{"$set": {{"version": {prev}}}}}, upsert=True, session=s)
'''


def write_runway(root: Path, n: int, uri: str, database: str) -> Path:
    """A runway-tui project; returns the config path."""
    scripts = root / "migrations"
    scripts.mkdir(parents=True, exist_ok=True)
    w = width(n)
    for v in range(1, n + 1):
        (scripts / f"{v:0{w}d}_bench_migration.py").write_text(
            RUNWAY_MIGRATION.format(v=v, prev=v - 1, ids=json.dumps(ids(v))))
    config = root / "runway.yaml"
    config.write_text(RUNWAY_CONFIG.format(uri=uri, database=database))
    return config


# ------------------------------------------------------------------------------------------ Mongorunway
MONGORUNWAY_CONFIG = """\
mongorunway:
  filesystem:
    scripts_dir: migrations
  applications:
    bench:
      app_client:
        host: localhost
        port: {port}
      app_database: {database}
      app_repository:
        collection: migrations
      app_auditlog_journal:
        collection: auditlog
      use_auditlog: true
"""

MONGORUNWAY_MIGRATION = '''"""Bench migration {v}: insert 3 docs, update them by _id, upsert the version doc."""
import mongorunway

version = {v}
IDS = {ids}


@mongorunway.migration
def upgrade():
    return [
        mongorunway.insert_many("items", [{{"_id": i, "v": {v}, "k": k}} for k, i in enumerate(IDS)]),
        mongorunway.update_many("items", {{"_id": {{"$in": IDS}}}}, {{"$set": {{"touched": True}}}}),
        mongorunway.update_one("meta", {{"_id": "version"}}, {{"$set": {{"version": {v}}}}}, upsert=True),
    ]


@mongorunway.migration
def downgrade():
    return [
        mongorunway.delete_many("items", {{"_id": {{"$in": IDS}}}}),
        mongorunway.update_one("meta", {{"_id": "version"}}, {{"$set": {{"version": {prev}}}}}, upsert=True),
    ]
'''


def write_mongorunway(root: Path, n: int, port: int, database: str) -> None:
    """A Mongorunway project. Its config must be found by os.walk(cwd), so run it with cwd=root. The
    file names end in 'n' on purpose: Mongorunway's `rstrip(".py")` eats trailing p/y characters."""
    scripts = root / "migrations"
    scripts.mkdir(parents=True, exist_ok=True)
    w = width(n)
    for v in range(1, n + 1):
        (scripts / f"{v:0{w}d}_bench_migration.py").write_text(
            MONGORUNWAY_MIGRATION.format(v=v, prev=v - 1, ids=json.dumps(ids(v))))
    (root / "mongorunway.yaml").write_text(MONGORUNWAY_CONFIG.format(port=port, database=database))


# ------------------------------------------------------------------------------------------ migrate-mongo
MIGRATE_MONGO_CONFIG = """\
module.exports = {{
  mongodb: {{ url: {url}, databaseName: {database}, options: {{}} }},
  migrationsDir: "migrations",
  changelogCollectionName: "changelog",
  lockCollectionName: "changelog_lock",
  lockTtl: 60,
  migrationFileExtension: ".js",
  useFileHash: false,
  moduleSystem: "commonjs",
}};
"""

MIGRATE_MONGO_MIGRATION = """// Bench migration {v}: insert 3 docs, update them by _id, upsert the version doc.
const IDS = {ids};
module.exports = {{
  async up(db) {{
    await db.collection("items").insertMany(IDS.map((id, k) => ({{ _id: id, v: {v}, k }})));
    await db.collection("items").updateMany({{ _id: {{ $in: IDS }} }}, {{ $set: {{ touched: true }} }});
    await db.collection("meta").updateOne({{ _id: "version" }}, {{ $set: {{ version: {v} }} }}, {{ upsert: true }});
  }},
  async down(db) {{
    await db.collection("items").deleteMany({{ _id: {{ $in: IDS }} }});
    await db.collection("meta").updateOne({{ _id: "version" }}, {{ $set: {{ version: {prev} }} }}, {{ upsert: true }});
  }},
}};
"""


def write_migrate_mongo(root: Path, n: int, uri: str, database: str) -> None:
    """A migrate-mongo project (config found in cwd), lock on (lockTtl 60) as in the research runs."""
    scripts = root / "migrations"
    scripts.mkdir(parents=True, exist_ok=True)
    w = width(n)
    for v in range(1, n + 1):
        (scripts / f"{v:0{w}d}-bench_migration.js").write_text(
            MIGRATE_MONGO_MIGRATION.format(v=v, prev=v - 1, ids=json.dumps(ids(v))))
    (root / "migrate-mongo-config.js").write_text(
        MIGRATE_MONGO_CONFIG.format(url=json.dumps(uri), database=json.dumps(database)))
