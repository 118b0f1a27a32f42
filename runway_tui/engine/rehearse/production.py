"""The production side of a rehearsal: one client that only reads, and counts what it sends.

Every read carries `maxTimeMS` and the configured read preference (the explorer's: `tui.inspect_*`). The
client carries a command listener that counts every write command it would send (`production_writes`,
which must stay 0) and every read with its time (what the benchmark prints). Read-only holds by
construction: this module exposes reads only, and `ReadOnlyDatabase` is what a migration's `check(ctx)`
gets: anything else than a read raises.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pymongo import MongoClient, monitoring
from pymongo.database import Database

from runway_tui.engine.catalog_reads import list_collections, list_indexes
from runway_tui.engine.config import AppConfig
from runway_tui.engine.connection import make_client, probe_server
from runway_tui.engine.embedded import EmbeddedServer
from runway_tui.engine.errors import ReadOnlyError
from runway_tui.engine.inspect import PREFERENCES
from runway_tui.engine.uri import mask_uri

# Commands that change data or the catalog: none of them may ever reach production.
WRITE_COMMANDS = frozenset({
    "insert", "update", "delete", "findAndModify", "findandmodify", "create", "createIndexes", "drop",
    "dropDatabase", "dropIndexes", "deleteIndexes", "collMod", "renameCollection", "convertToCapped",
    "emptycapped", "compact", "bulkWrite", "applyOps", "cloneCollectionAsCapped", "createView",
    "commitTransaction", "createUser", "dropUser", "updateUser", "createRole", "dropRole",
})


def is_write(command_name: str, command: dict[str, Any]) -> bool:
    """A write command, or an aggregation that writes (`$out`, `$merge`)."""
    if command_name in WRITE_COMMANDS:
        return True
    if command_name == "aggregate":
        return any(isinstance(stage, dict) and ("$out" in stage or "$merge" in stage)
                   for stage in command.get("pipeline", []) or [])
    return False


class CommandCounter(monitoring.CommandListener):
    """Counts the writes and the reads sent by the client it is attached to, with the reads' time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.writes: list[str] = []
        self.reads = 0
        self.read_ms = 0.0
        self._started: dict[int, bool] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        write = is_write(event.command_name, event.command)
        with self._lock:
            if write:
                self.writes.append(event.command_name)
            self._started[event.request_id] = write

    def _ended(self, event: Any) -> None:
        with self._lock:
            write = self._started.pop(event.request_id, True)
            if not write and event.command_name not in ("endSessions", "killCursors", "hello", "isMaster", "ping"):
                self.reads += 1
                self.read_ms += event.duration_micros / 1000.0

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._ended(event)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._ended(event)


@dataclass(frozen=True)
class CollectionShape:
    """What a collection is besides its documents: its options (validator included) and indexes."""

    name: str
    kind: str  # "collection", "timeseries" or "view"
    options: dict[str, Any]
    indexes: list[dict[str, Any]]
    total: int


class ProductionReader:
    """Reads of production for a rehearsal; `close` when done."""

    def __init__(self, config: AppConfig, *, read_preference: str, max_time_ms: int) -> None:
        self.config = config
        self.max_time_ms = max_time_ms
        self.counter = CommandCounter()
        self._embedded: EmbeddedServer | None = None
        uri, shown, extra = config.uri, mask_uri(config.uri), {}
        if config.is_embedded:
            self._embedded = EmbeddedServer(config.embedded_dir, config.timeouts.embedded_start_s,
                                            grace_s=config.timeouts.embedded_grace_s)
            uri = self._embedded.start()
            shown, extra = f"embedded ({uri.split('?')[0]})", {"directConnection": True}
        self.shown_address = shown
        self.client: MongoClient[dict[str, Any]] = make_client(uri, config, event_listeners=[self.counter],
                                                               **extra)
        try:
            self.server_info = probe_server(self.client, config, shown)
        except Exception:
            self.close()
            raise
        self.database: Database[dict[str, Any]] = self.client.get_database(
            config.database, read_preference=PREFERENCES.get(read_preference, PREFERENCES["primaryPreferred"]))

    def close(self) -> None:
        self.client.close()
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None

    @contextmanager
    def timed(self) -> Iterator[dict[str, float]]:
        """The wall time of a block of reads (what the benchmark prints)."""
        box = {"ms": 0.0}
        started = time.perf_counter()
        try:
            yield box
        finally:
            box["ms"] = (time.perf_counter() - started) * 1000

    # ------------------------------------------------------------------ reads
    def collection_names(self) -> list[str]:
        return sorted(info["name"] for info in self._catalog())

    def _catalog(self, filter: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return list_collections(self.database, read_preference=self.database.read_preference,
                                max_time_ms=self.max_time_ms, filter=filter)

    def shape(self, name: str) -> CollectionShape | None:
        """The collection's options and indexes and its (estimated) count; None when it does not exist."""
        infos = self._catalog({"name": name})
        if not infos:
            return None
        info = infos[0]
        kind = info.get("type", "collection")
        options = dict(info.get("options", {}))
        indexes: list[dict[str, Any]] = []
        total = 0
        if kind != "view":
            indexes = list_indexes(self.database, name, read_preference=self.database.read_preference,
                                   max_time_ms=self.max_time_ms)
            total = self.database[name].estimated_document_count(maxTimeMS=self.max_time_ms)
        return CollectionShape(name, kind, options, indexes, total)

    def sample(self, name: str, size: int, total: int) -> list[dict[str, Any]]:
        """Up to `size` documents: all of them when the collection holds no more (in `_id` order), else a
        `$sample`."""
        collection = self.database[name]
        if total <= size:
            docs = list(collection.find({}, max_time_ms=self.max_time_ms).sort("_id", 1).limit(size + 1))
            if len(docs) <= size:
                return docs
        return list(collection.aggregate([{"$sample": {"size": size}}], maxTimeMS=self.max_time_ms))

    def all_documents(self, name: str) -> list[dict[str, Any]]:
        """Every document of one of runway's own collections (its state: records, audit log, sources)."""
        return list(self.database[name].find({}, max_time_ms=self.max_time_ms))

    def aggregate(self, name: str, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if any("$out" in stage or "$merge" in stage for stage in pipeline):
            raise ReadOnlyError("a rehearsal never writes to production ($out and $merge are refused)")
        return list(self.database[name].aggregate(pipeline, maxTimeMS=self.max_time_ms, allowDiskUse=False))

    def count(self, name: str, condition: dict[str, Any]) -> int:
        return self.database[name].count_documents(condition, maxTimeMS=self.max_time_ms)

    def read_only_view(self) -> ReadOnlyDatabase:
        return ReadOnlyDatabase(self.database, self.max_time_ms)


# ---------------------------------------------------------------------- what check(ctx) gets
_COLLECTION_READS = frozenset({"find", "find_one", "aggregate", "count_documents", "estimated_document_count",
                               "distinct", "list_indexes", "index_information", "options", "name", "full_name"})
_DATABASE_READS = frozenset({"list_collection_names", "list_collections", "name"})


class ReadOnlyCollection:
    """A collection of production through which only reads pass (`check(ctx)`)."""

    def __init__(self, collection: Any, max_time_ms: int) -> None:
        self._collection = collection
        self._max_time_ms = max_time_ms

    def __getattr__(self, attribute: str) -> Any:
        if attribute not in _COLLECTION_READS:
            raise ReadOnlyError(f"check(ctx) runs against production read-only: {attribute}() is refused")
        if attribute in ("list_indexes", "index_information"):
            return self._indexes if attribute == "list_indexes" else self._index_information
        value = getattr(self._collection, attribute)
        if attribute == "aggregate":
            def aggregate(pipeline: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
                if any(isinstance(s, dict) and ("$out" in s or "$merge" in s) for s in pipeline):
                    raise ReadOnlyError("check(ctx) runs against production read-only: $out and $merge are refused")
                kwargs.setdefault("maxTimeMS", self._max_time_ms)
                return value(pipeline, *args, **kwargs)
            return aggregate
        if attribute in ("find", "find_one"):
            def bounded_find(*args: Any, **kwargs: Any) -> Any:
                kwargs.setdefault("max_time_ms", self._max_time_ms)
                return value(*args, **kwargs)
            return bounded_find
        if attribute in ("count_documents", "distinct", "estimated_document_count"):
            def bounded(*args: Any, **kwargs: Any) -> Any:
                kwargs.setdefault("maxTimeMS", self._max_time_ms)
                return value(*args, **kwargs)
            return bounded
        return value


    def _indexes(self, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        collection = self._collection
        return iter(list_indexes(collection.database, collection.name, read_preference=collection.read_preference,
                                 max_time_ms=self._max_time_ms))

    def _index_information(self) -> dict[str, dict[str, Any]]:
        """As pymongo's: name -> the specification, its key as (field, direction) pairs."""
        return {spec.pop("name"): {**spec, "key": list(spec["key"].items())} for spec in self._indexes()}


class ReadOnlyDatabase:
    """`ctx.db` of a `check(ctx)`: `db["orders"]` and `db.orders` give read-only collections."""

    def __init__(self, database: Database[dict[str, Any]], max_time_ms: int) -> None:
        self._database = database
        self._max_time_ms = max_time_ms

    def __getitem__(self, name: str) -> ReadOnlyCollection:
        return ReadOnlyCollection(self._database[name], self._max_time_ms)

    def get_collection(self, name: str, *args: Any, **kwargs: Any) -> ReadOnlyCollection:
        return self[name]

    def list_collections(self, *args: Any, filter: dict[str, Any] | None = None, **kwargs: Any) -> Iterator[Any]:
        return iter(list_collections(self._database, read_preference=self._database.read_preference,
                                     max_time_ms=self._max_time_ms, filter=filter))

    def list_collection_names(self, *args: Any, filter: dict[str, Any] | None = None, **kwargs: Any) -> list[str]:
        return [info["name"] for info in self.list_collections(filter=filter)]

    def __getattr__(self, attribute: str) -> Any:
        if attribute in _DATABASE_READS:
            return getattr(self._database, attribute)
        if attribute.startswith("_") or attribute in ("command", "drop_collection", "create_collection",
                                                      "client", "rename_collection"):
            raise ReadOnlyError(f"check(ctx) runs against production read-only: {attribute} is refused")
        return self[attribute]
