"""A production database with users and orders, pending migrations, and `rehearsal:` pointing at a scratch
server: the session's test server (a different database name), or another server where a test says so."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pymongo import MongoClient

from runway_tui.cli.main import main
from tests.support.project import Project

BACKFILL = '''"""Backfill users.status."""
version = 1


def upgrade(ctx):
    ctx.db["users"].update_many({"status": {"$exists": False}}, {"$set": {"status": "active"}},
                                session=ctx.session)


def downgrade(ctx):
    ctx.db["users"].update_many({}, {"$unset": {"status": ""}}, session=ctx.session)
'''

EMAIL_UNIQUE = '''"""A unique index on users.email."""
version = 2
transactional = False


def upgrade(ctx):
    ctx.db["users"].create_index("email", unique=True, name="email_unique")


def downgrade(ctx):
    ctx.db["users"].drop_index("email_unique")
'''

RENAME = '''"""Rename users.fullname to name."""
version = 3


def upgrade(ctx):
    ctx.db.users.update_many({"fullname": {"$exists": True}}, {"$rename": {"fullname": "name"}},
                             session=ctx.session)


def downgrade(ctx):
    ctx.db.users.update_many({"name": {"$exists": True}}, {"$rename": {"name": "fullname"}}, session=ctx.session)
'''

DROP_CANCELLED = '''"""Delete cancelled orders (no way back)."""
version = 4


def upgrade(ctx):
    ctx.db["orders"].delete_many({"state": "cancelled"}, session=ctx.session)


def downgrade(ctx):
    pass
'''


def seed(client: MongoClient, database: str, users: int = 40, orders: int = 30, duplicate_emails: int = 0) -> None:
    db = client[database]
    docs = [{"_id": i, "fullname": f"User {i}", "email": f"u{i}@example.com", "ssn": f"000-00-{i:04d}"}
            for i in range(users)]
    for i in range(duplicate_emails):  # two documents each with the same e-mail as user i
        docs.append({"_id": 10_000 + i, "fullname": f"Twin {i}", "email": f"u{i}@example.com", "ssn": "x"})
    db["users"].insert_many(docs)
    db["users"].create_index([("fullname", 1)], name="by_fullname", collation={"locale": "en", "strength": 2})
    db.create_collection("orders", validator={"state": {"$exists": True}}, validationAction="warn")
    db["orders"].insert_many([{"_id": i, "user": i % users, "state": "cancelled" if i % 3 == 0 else "paid"}
                              for i in range(orders)])
    db["orders"].create_index("user", name="by_user", sparse=True)


def snapshot(client: MongoClient, database: str) -> dict[str, Any]:
    """Everything a database holds, runway's own collections included: documents, indexes, options."""
    db = client[database]
    out: dict[str, Any] = {}
    for info in db.list_collections():
        name = info["name"]
        options = dict(info.get("options", {}))
        out[name] = {"options": options, "docs": list(db[name].find().sort("_id", 1)),
                     "indexes": sorted((dict(i) for i in db[name].list_indexes()), key=lambda i: i["name"])}
    return out


def write_rehearsal_key(project: Project, uri: str, database: str | None = None, extra_app: str = "",
                        tui: str = "") -> None:
    text = project.config_path.read_text()
    block = f'    rehearsal:\n      uri: "{uri}"\n' + (f"      database: {database}\n" if database else "")
    text = text.replace("    production: false\n", "    production: false\n" + block + extra_app)
    if tui:
        text = text.replace("tui:\n", "tui:\n" + tui)
    project.config_path.write_text(text)


@pytest.fixture
def rehearsal_project(project: Project, mongo_client: MongoClient, mongo_uri: str) -> Project:
    """Production: the project's database, seeded; scratch: a new database on the same test server."""
    seed(mongo_client, project.db_name)
    write_rehearsal_key(project, mongo_uri)
    return project


@pytest.fixture
def rehearse_cli(capsys) -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    """`rehearse_cli(project, "--json")`: `main(["--config", ..., "rehearse", ...])` in-process."""
    previous = signal.getsignal(signal.SIGTERM)

    def run(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
        capsys.readouterr()
        try:
            code = main(["--config", str(project.config_path), "rehearse", *args])
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["runway-tui", "rehearse", *args], code, out, err)

    yield run
    signal.signal(signal.SIGTERM, previous)


def as_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    return json.loads(result.stdout)
