"""A migration never changes runway's own collections: the records, the audit log and its evidence, the
stored sources, the side collections of the compatible shape, the lock. Only the engine writes there.

Two checks, both cheap enough for every step:

- **On the wire, at no cost**: the engine's client carries this command listener. While a migration's code
  runs (from its import to the end of `upgrade`/`downgrade`) every write command it sends through `ctx`
  (any thread but the lock's heartbeat) is looked at: a write, a drop, a rename, an index change, a `$out`
  or `$merge`, a `bulkWrite` or `dropDatabase` that reaches one of runway's collections is a change. One
  sent in the step's own transaction can be undone (the step is rolled back); any other cannot.
- **On the server, one `listCollections`**: each collection's UUID after the migration's code against
  the last look. A drop, a rename or a drop-and-create is seen whoever did it (a client of the migration's
  own, another process): it cannot be undone. The runner takes this look beside the step's own next round
  trip, before anything of the step is kept, after every step once 0.1 s have passed since the last look
  and always after a run's last step: each step of real work has its own, a run of many no-op steps one
  every 0.1 s (a change then names the steps since the last look).

What neither sees: documents changed through another client than the engine's (no catalog change). A
rewrite of the records that way is still refused at the next plan (the audit log's evidence).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pymongo import monitoring
from pymongo.database import Database

# Write commands whose first value names the collection they change.
_ON_COLLECTION = {"insert": "inserted into", "update": "updated", "delete": "deleted from",
                  "findAndModify": "modified", "findandmodify": "modified", "drop": "dropped", "create": "created",
                  "createIndexes": "created indexes on", "dropIndexes": "dropped indexes of",
                  "deleteIndexes": "dropped indexes of", "collMod": "changed the options of",
                  "convertToCapped": "capped", "emptycapped": "emptied", "compact": "compacted"}
# Every command that may change data or the catalog (the migration wrote something: see `migration_wrote`).
_WRITES = {*_ON_COLLECTION, "bulkWrite", "renameCollection", "dropDatabase", "commitTransaction"}
# Those a transaction can hold (and so roll back) when sent in the step's own.
_TRANSACTIONAL = {"insert", "update", "delete", "findAndModify", "findandmodify", "create", "createIndexes"}


@dataclass(frozen=True)
class Change:
    """One change to runway's collections that the engine did not make."""

    collection: str  # or "" for the whole database
    text: str
    undoable: bool  # sent in the step's own transaction: gone when it is aborted


class OwnCollectionsGuard(monitoring.CommandListener):
    """The listener (see the module docstring); `arm` before a migration's code, `disarm` after it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._database = ""
        self._names: frozenset[str] = frozenset()
        self._armed = False
        self._ignored: frozenset[int] = frozenset()
        self._transaction: tuple[Any, Any] | None = None  # (lsid, txnNumber) of the step's transaction
        self._sent: dict[int, Change] = {}  # by request id, until the server answers
        self._changes: list[Change] = []
        self._engine: set[int] = set()  # threads writing for the engine inside a migration's call (a backfill)
        self._writes: set[int] = set()  # request ids of the migration's own writes, until answered
        self.migration_wrote = False  # since `new_step`: a write of the migration's reached the server

    def configure(self, database: str, names: Iterable[str]) -> None:
        self._database, self._names = database, frozenset(names)

    @property
    def names(self) -> frozenset[str]:
        return self._names

    def arm(self, ignore_threads: Iterable[int | None] = ()) -> None:
        with self._lock:
            self._armed, self._transaction, self._sent, self._changes = True, None, {}, []
            self._ignored = frozenset(t for t in ignore_threads if t is not None)

    def new_step(self) -> None:
        """A new attempt: nothing written by its migration yet."""
        with self._lock:
            self._writes, self.migration_wrote = set(), False

    @contextlib.contextmanager
    def engine_writing(self) -> Iterator[None]:
        """Within the block, this thread's commands are the engine's (a backfill's batch and checkpoint, sent from
        inside the migration's call): they are neither a change to runway's collections nor the migration's."""
        ident = threading.get_ident()
        self._engine.add(ident)
        try:
            yield
        finally:
            self._engine.discard(ident)

    def in_transaction(self, lsid: Any, txn_number: Any) -> None:
        """The step's transaction: writes sent in it are undone with it."""
        self._transaction = (lsid, txn_number)

    def disarm(self) -> list[Change]:
        with self._lock:
            self._armed = False
            changes, self._changes, self._sent = self._changes, [], {}
        return changes

    # ------------------------------------------------------------------ the listener
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        ident = threading.get_ident()
        if not self._armed or ident in self._ignored or ident in self._engine:
            return
        if event.command_name in _WRITES or (event.command_name == "aggregate" and any(
                isinstance(stage, dict) and ("$out" in stage or "$merge" in stage)
                for stage in event.command.get("pipeline") or [])):
            with self._lock:
                self._writes.add(event.request_id)
        change = self._change(event.command_name, event.command, event.database_name)
        if change is not None:
            with self._lock:
                self._sent[event.request_id] = change

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        with self._lock:
            if event.request_id in self._writes:
                self._writes.discard(event.request_id)
                self.migration_wrote = True
            change = self._sent.pop(event.request_id, None)
            if change is not None and self._armed and _changed_anything(event.command_name, event.reply):
                self._changes.append(change)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        with self._lock:
            self._writes.discard(event.request_id)
            self._sent.pop(event.request_id, None)

    def _change(self, name: str, command: dict[str, Any], database: str) -> Change | None:
        if name == "dropDatabase":
            return Change("", f"dropped the database {database}", False) if database == self._database else None
        if name in _ON_COLLECTION:
            target = command.get(name)
            if database == self._database and target in self._names:
                undoable = name in _TRANSACTIONAL and self._in_step_transaction(command)
                return Change(str(target), f"{_ON_COLLECTION[name]} {target}", undoable)
            return None
        if name == "renameCollection":
            source, target = str(command.get(name, "")), str(command.get("to", ""))
            ours = [n for n in (source, target) if self._ours(n)]
            if ours:
                return Change(ours[0].split(".", 1)[1], f"renamed {source.split('.', 1)[-1]} to "
                                                        f"{target.split('.', 1)[-1]}", False)
            return None
        if name == "aggregate":
            stages = command.get("pipeline") or []
            last = stages[-1] if stages and isinstance(stages[-1], dict) else {}
            into = _output_of(last, database)
            if into is not None and self._ours(into):
                return Change(into.split(".", 1)[1], f"wrote ({next(iter(last))}) into {into.split('.', 1)[1]}",
                              False)
            return None
        if name == "bulkWrite":  # the client-level command: one namespace list for every operation
            spaces = [str(info.get("ns", "")) for info in command.get("nsInfo") or [] if isinstance(info, dict)]
            ours = [ns for ns in spaces if self._ours(ns)]
            if ours:
                collection = ours[0].split(".", 1)[1]
                return Change(collection, f"wrote to {collection}", self._in_step_transaction(command))
        return None

    def _ours(self, namespace: str) -> bool:
        database, _, collection = namespace.partition(".")
        return database == self._database and collection in self._names

    def _in_step_transaction(self, command: dict[str, Any]) -> bool:
        step = self._transaction
        return (step is not None and command.get("autocommit") is False and command.get("lsid") == step[0]
                and command.get("txnNumber") == step[1])


def _output_of(stage: dict[str, Any], database: str) -> str | None:
    """`db.collection` an `$out`/`$merge` stage writes into."""
    for key in ("$out", "$merge"):
        if key not in stage:
            continue
        target = stage[key]
        if isinstance(target, dict):
            into = target.get("into", target) if key == "$merge" else target
            if isinstance(into, str):
                return f"{database}.{into}"
            if isinstance(into, dict):
                return f"{into.get('db', database)}.{into.get('coll', '')}"
            return None
        return f"{database}.{target}"
    return None


def _changed_anything(name: str, reply: dict[str, Any]) -> bool:
    """A write that matched nothing changed nothing (a `delete_many` that found no entry)."""
    if name == "update":
        return bool(reply.get("nModified") or reply.get("upserted"))
    if name in ("insert", "delete"):
        return bool(reply.get("n"))
    if name in ("findAndModify", "findandmodify"):
        return bool((reply.get("lastErrorObject") or {}).get("n"))
    if name == "bulkWrite":
        return any(reply.get(k) for k in ("nInserted", "nModified", "nDeleted", "nUpserted"))
    return True


def catalog(database: Database[dict[str, Any]], names: Iterable[str]) -> dict[str, Any]:
    """Each of `names` that exists, with its UUID: one `listCollections`, sent as a plain command (a handful
    of collections fit its first batch; no cursor object to build, a third less client time per step)."""
    reply = database.command({"listCollections": 1, "filter": {"name": {"$in": sorted(names)}}, "cursor": {}})
    found = reply.get("cursor", {}).get("firstBatch", [])
    return {c["name"]: (c.get("info") or {}).get("uuid") for c in found}


def catalog_changes(before: dict[str, Any], after: dict[str, Any], seen: Iterable[str] = ()) -> list[Change]:
    """Collections gone or replaced between two catalogs (new ones are the engine's own first writes);
    `seen`: collections the listener already named."""
    named = set(seen)
    changes = []
    for name, uuid in sorted(before.items()):
        if name in named:
            continue
        if name not in after:
            changes.append(Change(name, f"{name} was dropped or renamed (by a client of its own?)", False))
        elif after[name] != uuid:
            changes.append(Change(name, f"{name} was dropped and created again", False))
    return changes
