"""Every read the explorer sends is bounded by `tui.inspect_max_time_ms` and goes with
`tui.inspect_read_preference`, whatever the view: documents, counts, explain, aggregation, schema, indexes,
validation and the server. Seen on a replica-set topology: on a direct connection a driver sends every read
as primaryPreferred whatever was asked, so only a set shows the preference."""

from __future__ import annotations

import threading

import pytest
from pymongo import MongoClient, monitoring

from runway_tui.engine.inspect import DocumentQuery, Inspector, InspectSettings

HOUSEKEEPING = {"hello", "isMaster", "ismaster", "ping", "endSessions", "killCursors", "getMore", "saslStart",
                "saslContinue"}


class Heard(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: list[tuple[str, dict]] = []
        self._lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        with self._lock:
            self.commands.append((event.command_name, dict(event.command)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.mark.parametrize("preference", ["secondaryPreferred", "nearest"])
def test_every_explorer_read_carries_max_time_ms_and_the_read_preference(
        mongo_client: MongoClient, explorer_db: str, preference: str) -> None:
    host, port = mongo_client.address
    heard = Heard()
    client: MongoClient = MongoClient(f"mongodb://{host}:{port}/?replicaSet=secantus", event_listeners=[heard],
                                      serverSelectionTimeoutMS=5000)
    try:
        inspector = Inspector(client[explorer_db], InspectSettings(max_time_ms=4321, read_preference=preference))
        query = DocumentQuery(filter='{"status": "active"}', sort='{"name": 1}')
        inspector.documents("people", query)
        inspector.count("people", '{"status": "active"}', exact=True)
        inspector.count("people")
        inspector.explain("people", query)
        inspector.aggregate("people", '[{"$group": {"_id": "$status", "n": {"$sum": 1}}}]')
        inspector.schema("people", sample_size=20)
        inspector.indexes("people")
        inspector.validation("rules")
        inspector.server("8.2", "replica set", "secantus")
    finally:
        client.close()

    reads = [(name, command) for name, command in heard.commands if name not in HOUSEKEEPING]
    assert {"find", "aggregate", "explain", "listIndexes", "listCollections"} <= {name for name, _ in reads}
    unbounded = [name for name, command in reads if not 0 < command.get("maxTimeMS", 0) <= 4321]
    assert unbounded == []
    elsewhere = [(name, command.get("$readPreference")) for name, command in reads
                 if (command.get("$readPreference") or {}).get("mode") != preference]
    assert elsewhere == []
