"""Every read a rehearsal sends to production is bounded and goes where the operator asked: each carries
`maxTimeMS` (a slow production never holds a rehearsal forever) and the configured read preference (a
rehearsal on a busy primary can be sent to a secondary), whatever the read: catalog, indexes, counts, samples,
runway's own state and a migration's `check(ctx)`."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pymongo import MongoClient, monitoring

from runway_tui.engine.rehearse import ReadSettings, RehearsalRequest, rehearse
from tests.engine.helpers import app_config
from tests.rehearse.conftest import BACKFILL, EMAIL_UNIQUE, RENAME, seed, write_rehearsal_key
from tests.support.project import Project

CHECKED = '''"""Backfill with a pre-check on production."""
version = 4


def check(ctx):
    ctx.db.orders.count_documents({"status": "cancelled"})
    list(ctx.db.orders.find({}, {"_id": 1}).limit(3))
    ctx.db.orders.index_information()
    list(ctx.db.orders.list_indexes())
    ctx.db.list_collection_names()
    list(ctx.db.list_collections())


def upgrade(ctx):
    ctx.db.orders.update_many({}, {"$set": {"seen": True}}, session=ctx.session)


def downgrade(ctx):
    ctx.db.orders.update_many({}, {"$unset": {"seen": ""}}, session=ctx.session)
'''

# what a client sends besides reads: handshakes, heartbeats, cursor and session housekeeping
HOUSEKEEPING = {"hello", "isMaster", "ismaster", "ping", "endSessions", "killCursors", "buildInfo", "buildinfo",
                "getMore", "saslStart", "saslContinue", "serverStatus", "replSetGetStatus", "getParameter",
                "hostInfo", "connectionStatus"}


class ToProduction(monitoring.CommandListener):
    """Every command sent to one server address (production's), from any client of this process."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address
        self.commands: list[tuple[str, dict]] = []
        self._lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.connection_id[:2] == self.address:
            with self._lock:
                self.commands.append((event.command_name, dict(event.command)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
def listening():
    """Register a process-wide command listener for the clients the rehearsal creates, and remove it after."""
    registered: list[ToProduction] = []

    def listen(address: tuple[str, int]) -> ToProduction:
        listener = ToProduction(address)
        monitoring.register(listener)
        registered.append(listener)
        return listener

    yield listen
    listeners = monitoring._LISTENERS  # pymongo offers no unregister; leave later clients of the suite unobserved
    for listener in registered:
        listeners.command_listeners.remove(listener)


@pytest.mark.parametrize("preference", ["secondaryPreferred", "nearest"])
def test_every_read_of_production_carries_max_time_ms_and_the_read_preference(
        tmp_path: Path, server_factory, mongo_uri: str, listening, preference: str) -> None:
    server = server_factory.start()
    # as a replica set, not one direct server: a driver sends a direct connection's reads as primaryPreferred
    # whatever was asked (server selection spec), so only a set's topology shows the preference
    uri = f"mongodb://127.0.0.1:{server.port}/?replicaSet=secantus"
    client: MongoClient = MongoClient(uri, serverSelectionTimeoutMS=5000)
    try:
        seed(client, "shop")
        project = Project.create(tmp_path / "p", uri=uri, db_name="shop")
        write_rehearsal_key(project, mongo_uri)
        for version, slug, body in [(1, "backfill", BACKFILL), (2, "email_unique", EMAIL_UNIQUE),
                                    (3, "rename", RENAME), (4, "checked", CHECKED)]:
            project.write_migration(version, slug, body)
        host, port = client.address
        heard = listening((host, port))

        report = rehearse(app_config(project), RehearsalRequest(sample_size=5),
                          ReadSettings(max_time_ms=4321, read_preference=preference))
    finally:
        client.close()

    assert report.production_writes == 0 and len(report.migrations) == 4 and not report.failed
    reads = [(name, command) for name, command in heard.commands if name not in HOUSEKEEPING]
    names = {name for name, _ in reads}
    assert {"listCollections", "listIndexes", "find", "aggregate"} <= names, names  # catalog, indexes, samples
    unbounded = [name for name, command in reads if not 0 < command.get("maxTimeMS", 0) <= 4321]
    assert unbounded == []
    elsewhere = [(name, command.get("$readPreference")) for name, command in reads
                 if (command.get("$readPreference") or {}).get("mode") != preference]
    assert elsewhere == [], elsewhere
