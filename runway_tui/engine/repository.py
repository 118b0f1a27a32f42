"""Runway's shape of the records and the audit log (the parts `engine/store/mongo.py` `MongoStore` composes).

`StepWrite` and `StepOutcome` now live in `engine/store/protocol.py`; they are re-exported here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from pymongo import ASCENDING, DESCENDING, DeleteOne, IndexModel, UpdateOne
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.database import Database

from runway_tui.engine import audit_pages, state_at
from runway_tui.engine.audit_filter import AuditFilter, narrowed
from runway_tui.engine.models import AuditEvidence, MigrationAuditlogEntry, MigrationRecord, State
from runway_tui.engine.store.collections import AUDIT, RECORDS, OwnCollection
from runway_tui.engine.store.protocol import StepOutcome, StepWrite

__all__ = ["STATE_CHANGES", "AuditJournal", "MigrationRepository", "StepOutcome", "StepWrite"]


class MigrationRepository:
    """One document per known migration, `_id` = version (Mongorunway's schema, extended)."""

    def __init__(self, database: Database[dict[str, Any]], name: str) -> None:
        self.collection: Collection[dict[str, Any]] = database[name]

    def own_collections(self) -> list[OwnCollection]:
        return [OwnCollection(self.collection.name, "migrations", RECORDS)]

    def ensure_indexes(self) -> None:
        self.collection.create_indexes([IndexModel([("is_applied", ASCENDING), ("_id", DESCENDING)],
                                                   name="is_applied_1__id_-1"),
                                        IndexModel([("state", ASCENDING)], name="state_1")])

    def all(self) -> list[MigrationRecord]:
        cursor = self.collection.find({}).sort("_id", ASCENDING).batch_size(100_000)  # one round trip
        return [MigrationRecord.from_document(d) for d in cursor]

    def some(self, versions: list[int]) -> list[MigrationRecord]:
        """The records of these versions (one query by `_id`)."""
        cursor = self.collection.find({"_id": {"$in": versions}}).batch_size(100_000)
        return [MigrationRecord.from_document(d) for d in cursor]

    def get(self, version: int, session: ClientSession | None = None) -> MigrationRecord | None:
        doc = self.collection.find_one({"_id": version}, session=session)
        return MigrationRecord.from_document(doc) if doc else None

    def current_version(self) -> int | None:
        doc = self.collection.find_one({"is_applied": True}, {"_id": 1}, sort=[("_id", DESCENDING)])
        return int(doc["_id"]) if doc else None

    def sync(self, upserts: list[MigrationRecord], updates: dict[int, dict[str, Any]], removals: list[int]) -> None:
        """Apply a refresh in one bulk write (one round trip)."""
        ops: list[Any] = []
        for record in upserts:
            ops.append(UpdateOne({"_id": record.version}, {"$setOnInsert": record.to_document()}, upsert=True))
        for version, fields in updates.items():
            # Only a record that is still pending may be rewritten: never an applied one.
            # (a record written by Mongorunway has no `state` at all: None matches it)
            ops.append(UpdateOne({"_id": version, "is_applied": False, "state": {"$in": [State.PENDING.value, None]}},
                                 {"$set": fields}))
        for version in removals:
            ops.append(DeleteOne({"_id": version, "is_applied": False, "state": {"$in": [State.PENDING.value, None]}}))
        if ops:
            self.collection.bulk_write(ops, ordered=False)

    def update(self, version: int, fields: dict[str, Any], session: ClientSession | None = None,
               expect: dict[str, Any] | None = None) -> bool:
        result = self.collection.update_one({"_id": version, **(expect or {})}, {"$set": fields}, session=session)
        return result.matched_count == 1

    def run_id(self, version: int, session: ClientSession | None = None) -> Any:
        """The run that last wrote the record's state (to tell whether an unknown commit went through)."""
        doc = self.collection.find_one({"_id": version}, {"run_id": 1}, session=session)
        return doc.get("run_id") if doc else None

    def remove(self, version: int, session: ClientSession | None = None) -> bool:
        """Delete one record (`forget`: an orphan, explicitly and audited; refresh never calls this)."""
        return self.collection.delete_one({"_id": version}, session=session).deleted_count == 1

    def upsert(self, record: MigrationRecord, session: ClientSession | None = None) -> None:
        self.collection.replace_one({"_id": record.version}, record.to_document(), upsert=True, session=session)


def _evidence(doc: dict[str, Any]) -> AuditEvidence | None:
    """One aggregated row (`_id` = version) as evidence; None for an entry about no usable version."""
    version, name = doc.get("_id"), str(doc.get("transaction_name", ""))
    if not isinstance(version, int) or isinstance(version, bool) or name not in STATE_CHANGES:
        return None
    date = doc.get("date") if isinstance(doc.get("date"), dt.datetime) else None
    return AuditEvidence(version, STATE_CHANGES[name], name, date, doc.get("user"), doc.get("host"),
                         doc.get("entry_id"))


# What each successful audit entry says about the state of its migration afterwards.
STATE_CHANGES = {"UpgradeTransaction": State.APPLIED.value, "MarkAppliedTransaction": State.APPLIED.value,
                 "BaselineTransaction": State.APPLIED.value,
                 "DowngradeTransaction": State.PENDING.value, "MarkPendingTransaction": State.PENDING.value}


class AuditJournal:
    """Append-only history: one entry per attempt, never deleted by a down step."""

    def __init__(self, database: Database[dict[str, Any]], name: str, limit: int | None) -> None:
        self.collection: Collection[dict[str, Any]] = database[name]
        self.limit = limit

    def own_collections(self) -> list[OwnCollection]:
        return [OwnCollection(self.collection.name, "audit log", AUDIT)]

    def ensure_indexes(self) -> None:
        self.collection.create_indexes([IndexModel([("date", DESCENDING)], name="date_-1"),
                                        IndexModel([("migration_read_model.version", ASCENDING),
                                                    ("date", DESCENDING)], name="version_1_date_-1")])

    def append(self, entry: MigrationAuditlogEntry, session: ClientSession | None = None) -> None:
        self.collection.insert_one(entry.stored_document(), session=session)

    def record(self, entry: MigrationAuditlogEntry) -> None:
        """Write a step's failed attempt under the attempt's id: it replaces the success entry written first by a
        step without a transaction whose record could then not be written (one attempt, one entry)."""
        if entry.id is None:
            self.append(entry)
            return
        self.collection.replace_one({"_id": entry.id}, entry.stored_document(), upsert=True)

    def state_changes(self, since: dt.datetime | None = None) -> dict[int, AuditEvidence]:
        """For each version, its newest successful state-changing entry (up, down, mark, baseline): the evidence
        of what happened to it, whatever the migrations collection says now.

        `since` None reads the whole log in one aggregation (no `$in` over versions: SecantusDB answers a long
        `$in` by one scan per value). With `since`, only the entries dated from then on, by a bare range on the
        `date` index (the one shape every server answers from it), reduced here."""
        if since is None:
            pipeline = [{"$match": {"transaction_name": {"$in": list(STATE_CHANGES)}, "exc_name": None}},
                        {"$sort": {"date": -1, "_id": -1}},
                        {"$group": {"_id": "$migration_read_model.version", "entry_id": {"$first": "$_id"},
                                    "transaction_name": {"$first": "$transaction_name"}, "date": {"$first": "$date"},
                                    "user": {"$first": "$user"}, "host": {"$first": "$host"}}}]
            return {e.version: e for e in map(_evidence, self.collection.aggregate(pipeline)) if e is not None}
        newest: dict[int, AuditEvidence] = {}
        fields = {"transaction_name": 1, "exc_name": 1, "date": 1, "user": 1, "host": 1,
                  "migration_read_model.version": 1}
        for doc in self.collection.find({"date": {"$gte": since}}, fields).batch_size(10_000):
            if doc.get("exc_name") is not None or doc.get("transaction_name") not in STATE_CHANGES:
                continue
            version = (doc.get("migration_read_model") or {}).get("version")
            found = _evidence({**doc, "_id": version, "entry_id": doc.get("_id")})
            if found is not None and found.is_newer_than(newest.get(found.version)):
                newest[found.version] = found
        return newest

    def trim(self, protected: Iterable[Any] = ()) -> int:
        """Keep the newest `limit` entries by their date (the server's clock; an `_id` is the runner's), and,
        older than those, each version's newest state-changing entry: the evidence of its state, which trimming
        never removes. The collection's O(1) count tells the surplus and only the oldest entries are read (an
        index walk of the surplus). `protected` (the evidence as last read) spares re-checking those; any
        other state change among the oldest is deleted only once the log shows a newer one for its version."""
        if not self.limit:
            return 0
        surplus = self.collection.estimated_document_count() - self.limit
        if surplus <= 0:
            return 0
        fields = {"transaction_name": 1, "exc_name": 1, "migration_read_model.version": 1}
        # by `date` alone: the `date` index walked from its oldest end (a tie-break on `_id` would sort it all)
        oldest = list(self.collection.find({}, fields).sort("date", ASCENDING).limit(surplus))
        kept = set(protected)
        doomed = [d for d in oldest if d["_id"] not in kept]
        if any(d.get("transaction_name") in STATE_CHANGES and d.get("exc_name") is None for d in doomed):
            newest = {e.entry_id for e in self.state_changes().values()}  # the log itself decides
            doomed = [d for d in doomed if d["_id"] not in newest]
        ids = [d["_id"] for d in doomed]
        return self.collection.delete_many({"_id": {"$in": ids}}).deleted_count if ids else 0

    def history(self, limit: int | None = 10, skip: int = 0, ascending: bool = False, version: int | None = None,
                text: str | None = None, start: Any = None, end: Any = None,
                before: MigrationAuditlogEntry | None = None,
                now: dt.datetime | None = None, where: AuditFilter | None = None) -> list[MigrationAuditlogEntry]:
        """A window of entries, newest first unless `ascending`, optionally filtered (`where`: a time window,
        a user, actions; `start`/`end` are Mongorunway's names for the window).

        Newest-first pages (`now` given; `before` = the last entry shown) are read by key through
        `audit_pages`, whose queries every server answers from the `date` index; other shapes
        (ascending, by version, skip) use one plain sorted query.
        """
        where = narrowed(where or AuditFilter(), start, end)
        if limit and now is not None and not ascending and not skip and version is None:
            return audit_pages.read_page(self.collection, limit, now, before, text or "", where)
        query = self._query(version, text, None, None)
        query.update(where.query())
        direction = ASCENDING if ascending else DESCENDING
        cursor = self.collection.find(query).sort([("date", direction), ("_id", direction)]).skip(skip)
        if limit:
            cursor = cursor.limit(limit)
        return [MigrationAuditlogEntry.from_document(d) for d in cursor]

    def states_at(self, at: dt.datetime) -> dict[int, dict[str, Any]]:
        """Each version's newest successful state change dated at or before `at` (see `state_at`)."""
        return state_at.read_states(self.collection, at)

    def newer_than(self, shown: list[MigrationAuditlogEntry], limit: int) -> list[MigrationAuditlogEntry] | None:
        """Entries written since the newest of `shown` (None: too many to merge, read the page instead)."""
        return audit_pages.read_newer(self.collection, shown, limit)

    def count_dated(self, start: dt.datetime, end: dt.datetime) -> int:
        """Entries dated from `start` to `end` (the evidence summary's window, engine/evidence.py)."""
        return self.collection.count_documents({"date": {"$gte": start, "$lte": end}})

    def count(self, version: int | None = None, text: str | None = None) -> int:
        """Exact count of a filtered view; the estimate (no scan) when unfiltered."""
        query = self._query(version, text, None, None)
        if not query:
            return self.collection.estimated_document_count()
        return self.collection.count_documents(query)

    @staticmethod
    def _query(version: int | None, text: str | None, start: Any, end: Any) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if version is not None:
            query["migration_read_model.version"] = version
        if text:
            query.update(audit_pages.text_query(text))
        if start is not None or end is not None:
            query["date"] = {k: v for k, v in (("$gte", start), ("$lte", end)) if v is not None}
        return query
