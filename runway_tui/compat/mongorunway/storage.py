"""Records and audit entries in Mongorunway's exact shape, with everything runway-tui adds kept beside them.

With `compat: mongorunway` both tools share one database. Mongorunway 1.0.7a0 builds its models from the
stored documents with no room for another field (`MigrationReadModel.__init__() got an unexpected keyword
argument 'state'`), so:

- its migrations collection holds exactly `_id, name, version, checksum, description, is_applied`;
  our `state`, `applied_at/by`, `duration_ms`, `error`, `run_id` live in `<collection>_runway`, keyed by
  version, with the `is_applied` they were written with. When Mongorunway has moved the record since (its
  own upgrade or downgrade), that snapshot no longer matches and the extras are ignored: its record is
  the truth.
- its audit collection receives only its own seven fields, and only for up and down (the two transaction
  kinds it knows). Every entry we write, with our fields (duration, user, host, engine version, client, pid,
  overrides, detail), and every mark/accept/unlock/forget entry, is in `<collection>_runway`, under the same
  `_id` for the shared ones. Reading merges both: Mongorunway's own entries appear (client `mongorunway`),
  ours appear once.

The engine sees the same `MigrationStore` protocol either way (engine/store/protocol.py); both shapes pass
engine/store/conformance.py. Runway's record and journal classes are composed here, never subclassed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, DeleteOne, IndexModel, UpdateOne
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.database import Database

from runway_tui.engine.audit_filter import AuditFilter
from runway_tui.engine.evidence import EvidenceStore
from runway_tui.engine.models import AuditEvidence, MigrationAuditlogEntry, MigrationRecord
from runway_tui.engine.repository import AuditJournal, MigrationRepository
from runway_tui.engine.sources import SourceStore
from runway_tui.engine.state_at import newest
from runway_tui.engine.store.collections import AUDIT, RECORDS, OwnCollection, OwnCollections
from runway_tui.engine.store.mongo import ensure_indexes_of, own_collections_of
from runway_tui.engine.store.protocol import StepOutcome, StepWrite

CORE_FIELDS = ("name", "version", "checksum", "description", "is_applied")  # Mongorunway's record, besides _id
AUDIT_FIELDS = ("session_id", "transaction_name", "migration_read_model", "date_fmt", "date", "exc_name",
                "exc_message")
MONGORUNWAY_TRANSACTIONS = ("UpgradeTransaction", "DowngradeTransaction")
SIDE_SUFFIX = "_runway"


def _split(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    core = {k: v for k, v in fields.items() if k in CORE_FIELDS}
    extra = {k: v for k, v in fields.items() if k not in CORE_FIELDS and k != "_id"}
    return core, extra


def _merged(doc: dict[str, Any], side: dict[str, Any] | None) -> dict[str, Any]:
    """Our extras count only while Mongorunway's `is_applied` is the one they were written with."""
    if side is None or side.get("is_applied") != doc.get("is_applied"):
        return doc
    return {**doc, **{k: v for k, v in side.items() if k not in ("_id", "is_applied")}}


def _matches(doc: dict[str, Any], expect: dict[str, Any]) -> bool:
    """The engine's few optimistic conditions (`{"state": {"$in": [...]}}`), checked on the merged record."""
    for key, condition in expect.items():
        value: Any = doc
        for part in key.split("."):  # "runner.owner": a field of a sub-document
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(condition, dict) and "$in" in condition:
            if value not in condition["$in"]:
                return False
        elif value != condition:
            return False
    return True


class MongorunwayRecords:
    """Mongorunway's migrations collection, our extras in `<name>_runway` (see the module docstring). Composes
    runway's `MigrationRepository` for the reads the two shapes share."""

    def __init__(self, database: Database[dict[str, Any]], name: str) -> None:
        self.plain = MigrationRepository(database, name)
        self.collection = self.plain.collection
        self.side = database[name + SIDE_SUFFIX]

    def own_collections(self) -> list[OwnCollection]:
        return [*self.plain.own_collections(), OwnCollection(self.side.name, "runway's record fields", RECORDS)]

    def ensure_indexes(self) -> None:
        # Mongorunway's own index (`init --indexes` makes the same), nothing it does not know
        self.collection.create_indexes([IndexModel([("is_applied", ASCENDING), ("_id", DESCENDING)],
                                                   name="is_applied_1__id_-1")])

    def _doc(self, version: int, session: ClientSession | None) -> dict[str, Any] | None:
        doc = self.collection.find_one({"_id": version}, session=session)
        if doc is None:
            return None
        return _merged(doc, self.side.find_one({"_id": version}, session=session))

    def _records(self, query: dict[str, Any]) -> list[MigrationRecord]:
        docs = list(self.collection.find(query).sort("_id", ASCENDING).batch_size(100_000))
        sides = {d["_id"]: d for d in self.side.find(query).batch_size(100_000)}
        return [MigrationRecord.from_document(_merged(d, sides.get(d["_id"]))) for d in docs]

    def all(self) -> list[MigrationRecord]:
        return self._records({})

    def some(self, versions: list[int]) -> list[MigrationRecord]:
        return self._records({"_id": {"$in": versions}})

    def get(self, version: int, session: ClientSession | None = None) -> MigrationRecord | None:
        doc = self._doc(version, session)
        return MigrationRecord.from_document(doc) if doc else None

    def current_version(self) -> int | None:
        return self.plain.current_version()  # `is_applied` is Mongorunway's own field

    def run_id(self, version: int, session: ClientSession | None = None) -> Any:
        doc = self._doc(version, session)
        return doc.get("run_id") if doc else None

    def sync(self, upserts: list[MigrationRecord], updates: dict[int, dict[str, Any]], removals: list[int]) -> None:
        """A refresh: new records (pending: no extras to keep), pending records rewritten, removals."""
        ops: list[Any] = []
        for record in upserts:
            core, _extra = _split(record.to_document())
            ops.append(UpdateOne({"_id": record.version}, {"$setOnInsert": core}, upsert=True))
        for version, fields in updates.items():
            core, _extra = _split(fields)
            ops.append(UpdateOne({"_id": version, "is_applied": False}, {"$set": core}))
        for version in removals:
            ops.append(DeleteOne({"_id": version, "is_applied": False}))
        if not ops:
            return
        result = self.collection.bulk_write(ops, ordered=False)
        # a new record starts clean: extras left by a record Mongorunway removed (safe-remove) are not its own;
        # a record that was there already (another runner's, an applied one) keeps its extras
        kept = {d["_id"] for d in self.collection.find({"_id": {"$in": removals}}, {"_id": 1})} if removals else set()
        stale = [v for v in removals if v not in kept] + [upserts[i].version for i in result.upserted_ids
                                                          if i < len(upserts)]
        if stale:
            self.side.delete_many({"_id": {"$in": stale}})

    def update(self, version: int, fields: dict[str, Any], session: ClientSession | None = None,
               expect: dict[str, Any] | None = None) -> bool:
        current = self.collection.find_one({"_id": version}, session=session)
        if current is None:
            return False
        side = self.side.find_one({"_id": version}, session=session)
        if expect and not _matches(_merged(current, side), expect):
            return False
        core, extra = _split(fields)
        if core:
            self.collection.update_one({"_id": version}, {"$set": core}, session=session)
        is_applied = core.get("is_applied", current.get("is_applied"))
        valid = side is not None and side.get("is_applied") == current.get("is_applied")
        if extra or (valid and "is_applied" in core):
            if valid:  # still ours: keep what this write does not change
                self.side.update_one({"_id": version}, {"$set": {**extra, "is_applied": is_applied}},
                                     session=session)
            else:  # none yet, or Mongorunway moved the record since: start afresh
                self.side.replace_one({"_id": version}, {**extra, "is_applied": is_applied}, upsert=True,
                                      session=session)
        return True

    def upsert(self, record: MigrationRecord, session: ClientSession | None = None) -> None:
        doc = record.to_document()
        core, extra = _split(doc)
        self.collection.replace_one({"_id": record.version}, {"_id": record.version, **core}, upsert=True,
                                    session=session)
        self.side.replace_one({"_id": record.version}, {**extra, "is_applied": record.is_applied}, upsert=True,
                              session=session)

    def remove(self, version: int, session: ClientSession | None = None) -> bool:
        self.side.delete_one({"_id": version}, session=session)
        return self.plain.remove(version, session=session)


class MongorunwayAudit:
    """Mongorunway's audit collection (its seven fields, up and down only) and ours, read as one log: two
    runway `AuditJournal`s composed, `ours` in `<name>_runway` and `theirs` in Mongorunway's collection."""

    def __init__(self, database: Database[dict[str, Any]], name: str, limit: int | None) -> None:
        self.ours = AuditJournal(database, name + SIDE_SUFFIX, limit)  # every entry we write, in full
        self.theirs = AuditJournal(database, name, limit)
        self.collection = self.ours.collection
        self.limit = limit

    def own_collections(self) -> list[OwnCollection]:
        return [OwnCollection(self.theirs.collection.name, "audit log", AUDIT),
                OwnCollection(self.ours.collection.name, "runway's audit entries", AUDIT)]

    def ensure_indexes(self) -> None:
        self.ours.ensure_indexes()
        self.theirs.ensure_indexes()

    def append(self, entry: MigrationAuditlogEntry, session: ClientSession | None = None) -> None:
        doc = {"_id": entry.id if entry.id is not None else ObjectId(), **entry.to_document()}
        if self._shared(entry):
            self.theirs.collection.insert_one({k: doc[k] for k in ("_id", *AUDIT_FIELDS)}, session=session)
        self.ours.collection.insert_one(doc, session=session)

    def record(self, entry: MigrationAuditlogEntry) -> None:
        """A failed attempt under the attempt's id, in both logs (see AuditJournal.record)."""
        if entry.id is None:
            self.append(entry)
            return
        doc = {"_id": entry.id, **entry.to_document()}
        if self._shared(entry):
            self.theirs.collection.replace_one({"_id": entry.id}, {k: doc[k] for k in ("_id", *AUDIT_FIELDS)},
                                               upsert=True)
        self.ours.collection.replace_one({"_id": entry.id}, doc, upsert=True)

    @staticmethod
    def _shared(entry: MigrationAuditlogEntry) -> bool:
        """Mongorunway's log receives the two transaction kinds it knows, about a migration."""
        return entry.transaction_name in MONGORUNWAY_TRANSACTIONS and entry.migration_read_model is not None

    def trim(self, protected: Iterable[Any] = ()) -> int:
        """Each log is trimmed on its own, keeping its own evidence (AuditJournal.trim)."""
        kept = set(protected)
        return self.ours.trim(kept) + self.theirs.trim(kept)

    def state_changes(self, since: dt.datetime | None = None) -> dict[int, AuditEvidence]:
        """Ours (from `since`) and Mongorunway's (all of it: its dates are its runners' local time, so no
        window on them can be trusted), the newest of either for each version."""
        result = self.ours.state_changes(since)
        for version, change in self.theirs.state_changes().items():
            if change.is_newer_than(result.get(version)):
                result[version] = change
        return result

    def history(self, limit: int | None = 10, skip: int = 0, ascending: bool = False, version: int | None = None,
                text: str | None = None, start: Any = None, end: Any = None,
                before: MigrationAuditlogEntry | None = None,
                now: dt.datetime | None = None, where: AuditFilter | None = None) -> list[MigrationAuditlogEntry]:
        """Both logs read with the same filter (Mongorunway's entries have no user: a user filter leaves them
        out), merged in date order."""
        window = (limit + skip) if limit else None
        args = {"limit": window, "ascending": ascending, "version": version, "text": text, "start": start,
                "end": end, "before": before, "now": now, "where": where}
        merged = self._merge(self.ours.history(**args), self.theirs.history(**args), ascending)
        merged = merged[skip:]
        return merged[:limit] if limit else merged

    def states_at(self, at: dt.datetime) -> dict[int, dict[str, Any]]:
        return newest(self.ours.states_at(at), self.theirs.states_at(at))

    def newer_than(self, shown: list[MigrationAuditlogEntry], limit: int) -> list[MigrationAuditlogEntry] | None:
        ours = self.ours.newer_than(shown, limit)
        theirs = self.theirs.newer_than(shown, limit)
        if ours is None or theirs is None:
            return None
        merged = self._merge(ours, theirs, ascending=False)
        return None if len(merged) >= limit else merged

    def count_dated(self, start: dt.datetime, end: dt.datetime) -> int:
        return self.ours.count_dated(start, end)  # the evidence summary reads ours from a date

    def count(self, version: int | None = None, text: str | None = None) -> int:
        ours = self.ours.count(version=version, text=text)
        theirs = self.theirs.count(version=version, text=text)
        shared = self.ours.collection.count_documents({**AuditJournal._query(version, text, None, None),
                                                       "transaction_name": {"$in": list(MONGORUNWAY_TRANSACTIONS)}})
        return ours + max(theirs - shared, 0)

    @staticmethod
    def _merge(ours: list[MigrationAuditlogEntry], theirs: list[MigrationAuditlogEntry],
               ascending: bool) -> list[MigrationAuditlogEntry]:
        """One log: Mongorunway's own entries and ours (ours win for the shared `_id`), in date order. An entry
        only Mongorunway's collection holds was written by Mongorunway itself: its client says so."""
        known = {e.id for e in ours}
        entries = ours + [dataclasses.replace(e, client="mongorunway") for e in theirs if e.id not in known]
        entries.sort(key=lambda e: (e.date or dt.datetime.min, str(e.id)), reverse=not ascending)
        return entries


class MongorunwayStore:
    """The `MigrationStore` (engine/store/protocol.py) in Mongorunway's shape: its records and audit log with
    ours beside them, our sources and lease. A step writes through the records' and the log's own methods,
    one command each, in the step's transaction (the documents are reshaped, so no raw write models)."""

    def __init__(self, records: MongorunwayRecords, audit: MongorunwayAudit | AuditJournal, sources: SourceStore,
                 lease: Collection[dict[str, Any]]) -> None:
        self.records, self.audit, self.sources, self.lease = records, audit, sources, lease
        self.evidence: EvidenceStore | None = None  # side data: the audit log's evidence summary (store_for sets it)

    def own_collections(self) -> OwnCollections:
        return own_collections_of(self)

    def ensure_indexes(self) -> None:
        ensure_indexes_of(self)

    def write_step(self, write: StepWrite, session: ClientSession | None, *, lease_filter: dict[str, Any] | None,
                   audit_first: bool) -> StepOutcome:
        if lease_filter is not None and self.lease.find_one(lease_filter, {"_id": 1}, session=session) is None:
            return StepOutcome.LEASE_LOST
        if audit_first:
            self.audit.append(write.entry, session=session)
        if write.new_record is not None:
            self.records.upsert(write.new_record, session=session)
        if not self.records.update(write.version, write.fields, session=session,
                                   expect={"state": {"$in": write.expect_states}}):
            return StepOutcome.RECORD_CHANGED
        if write.source is not None:
            self.sources.collection.update_one(write.source.filter, write.source.update, upsert=True,
                                               session=session)
        if not audit_first:
            self.audit.append(write.entry, session=session)
        return StepOutcome.RECORDED

    def write_steps(self, writes: list[StepWrite], session: ClientSession,
                    *, lease_filter: dict[str, Any] | None) -> StepOutcome:
        """A `--group` run's bookkeeping at its end: the fence once, then each step through the methods."""
        for index, write in enumerate(writes):
            outcome = self.write_step(write, session, lease_filter=lease_filter if index == 0 else None,
                                      audit_first=False)
            if outcome is not StepOutcome.RECORDED:
                return outcome
        return StepOutcome.RECORDED


def mongorunway_store(config: Any, database: Database[dict[str, Any]], sources: SourceStore,
                      lease: Collection[dict[str, Any]]) -> MongorunwayStore:
    """Mongorunway's migrations collection (our extras beside it) and its audit log merged with ours."""
    records = MongorunwayRecords(database, config.migrations_collection)
    if not config.mongorunway_auditlog:  # its audit log is off: ours is a collection it never reads
        return MongorunwayStore(records, AuditJournal(database, config.auditlog_collection, config.auditlog_limit),
                                sources, lease)
    return MongorunwayStore(records, MongorunwayAudit(database, config.auditlog_collection, config.auditlog_limit),
                            sources, lease)
