"""`MongoStore`: runway's own shape of the `MigrationStore` (engine/store/protocol.py).

It composes the records (`MigrationRepository`), the audit log (`AuditJournal`), the stored sources
(`SourceStore`) and the lease documents' collection, and writes a step's bookkeeping itself: the lease fence,
the record, the audit entry and the source. On a server with the cross-collection `bulkWrite` command
(MongoDB 8.0, wire version 25) all of it goes in ONE command inside the step's transaction; otherwise one
command per write. A `--group` run writes every step's bookkeeping at its end, inside the run's transaction:
one command with `bulkWrite`, else one bulk write per collection (`write_steps`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from pymongo import InsertOne, MongoClient, ReplaceOne, UpdateOne
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.errors import ClientBulkWriteException

from runway_tui.engine.evidence import EvidenceStore
from runway_tui.engine.repository import AuditJournal, MigrationRepository
from runway_tui.engine.sources import SourceStore
from runway_tui.engine.store import driver_errors
from runway_tui.engine.store.collections import LOCK, OwnCollection, OwnCollections
from runway_tui.engine.store.protocol import StepOutcome, StepWrite


class OpKind(enum.Enum):
    LEASE = "lease"  # the fence: the lease still carries our token (a read, never a conflicting write)
    AUDIT = "audit"  # the step's audit entry (an insert)
    NEW = "new"  # the record of a step that had none (an upsert)
    RECORD = "record"  # the record's new state, matched on the state the step expects
    SOURCE = "source"  # the applied text (an upsert of a document written once per version and checksum)


@dataclass(frozen=True)
class Op:
    """One write of a step's bookkeeping."""

    kind: OpKind
    collection: Collection[dict[str, Any]]
    query: dict[str, Any]  # the filter, or the document to insert (AUDIT, NEW)
    change: dict[str, Any] | None = None

    def model(self) -> Any:
        """The write as a pymongo write model (collection-level, or client-level when `namespace`)."""
        if self.kind is OpKind.AUDIT:
            return InsertOne(self.query)
        if self.kind is OpKind.NEW:
            return ReplaceOne({"_id": self.query["_id"]}, self.query, upsert=True)
        return UpdateOne(self.query, self.change or {}, upsert=self.kind is OpKind.SOURCE)

    def client_model(self) -> Any:
        namespace = self.collection.full_name
        if self.kind is OpKind.AUDIT:
            return InsertOne(self.query, namespace=namespace)
        if self.kind is OpKind.NEW:
            return ReplaceOne({"_id": self.query["_id"]}, self.query, upsert=True, namespace=namespace)
        return UpdateOne(self.query, self.change or {}, upsert=self.kind is OpKind.SOURCE, namespace=namespace)


class MongoStore:
    """Runway's records, audit log, sources and lease documents in one database (see the module docstring)."""

    def __init__(self, client: MongoClient[dict[str, Any]], records: MigrationRepository, audit: AuditJournal,
                 sources: SourceStore, lease: Collection[dict[str, Any]], *, combined: bool) -> None:
        self.client = client
        self.records = records
        self.audit = audit
        self.sources = sources
        self.lease = lease
        self.combined = combined  # the server has the client-level `bulkWrite` (tests turn it off)
        self.evidence: EvidenceStore | None = None  # side data: the audit log's evidence summary (store_for sets it)

    def own_collections(self) -> OwnCollections:
        return own_collections_of(self)

    def ensure_indexes(self) -> None:
        ensure_indexes_of(self)

    # ------------------------------------------------------------------ one step
    def write_step(self, write: StepWrite, session: ClientSession | None, *, lease_filter: dict[str, Any] | None,
                   audit_first: bool) -> StepOutcome:
        """Write the step's record and audit entry (the audit entry first when `audit_first`: without a
        transaction it must never be lost). `lease_filter` fences the write: in a transaction, the lease is
        matched by a no-op update in the same command (a snapshot read, like `find`, that never conflicts
        with the heartbeat); LEASE_LOST or RECORD_CHANGED mean the caller must abort the transaction."""
        ops = self._fence(lease_filter) + self._operations(write, audit_first)
        if self.combined and session is not None:
            if not _transaction_started(session) and ops[0].kind is OpKind.LEASE:
                # The migration sent nothing in its transaction (a no-op, an index build): the first command
                # carries the session's readConcern, which `bulkWrite` does not take on every server. The
                # lease is read first, as a find; the record and the audit entry still go in one command.
                first = self._run_separately(ops[:1], session)
                matched = first + (self._run_combined(ops[1:], session) if first[0] == 1 else [None] * (len(ops) - 1))
            else:
                matched = self._run_combined(ops, session)
        else:  # without a transaction: separate commands, each durable on its own (as the write concern asks)
            matched = self._run_separately(ops, session)
        return _outcome(ops, matched)

    # ------------------------------------------------------------------ a --group run
    def write_steps(self, writes: list[StepWrite], session: ClientSession,
                    *, lease_filter: dict[str, Any] | None) -> StepOutcome:
        """Every step's bookkeeping of a `--group` run, at its end, in the run's transaction: one `bulkWrite`
        where the server has it, else the fence and one bulk write per collection."""
        if not writes:
            return StepOutcome.RECORDED
        ops = self._fence(lease_filter) + [op for write in writes for op in self._operations(write, False)]
        if self.combined and _transaction_started(session):
            return _outcome(ops, self._run_combined(ops, session))
        return self._run_per_collection(ops, session)

    def _run_per_collection(self, ops: list[Op], session: ClientSession) -> StepOutcome:
        if ops[0].kind is OpKind.LEASE:
            if self._run_separately(ops[:1], session) != [1]:
                return StepOutcome.LEASE_LOST
            ops = ops[1:]
        by_collection: dict[str, list[Op]] = {}
        for op in ops:
            by_collection.setdefault(op.collection.name, []).append(op)
        for group in by_collection.values():  # records (new, then state), audit entries, sources
            result = group[0].collection.bulk_write([op.model() for op in group], ordered=True, session=session)
            expected = sum(1 for op in group if op.kind is OpKind.RECORD)
            if expected and result.matched_count - _upserts_matched(group, result) < expected:
                return StepOutcome.RECORD_CHANGED
        return StepOutcome.RECORDED

    # ------------------------------------------------------------------ building and sending the writes
    def _fence(self, lease_filter: dict[str, Any] | None) -> list[Op]:
        if lease_filter is None:
            return []
        return [Op(OpKind.LEASE, self.lease, lease_filter, {"$set": {"token": lease_filter["token"]}})]

    def _operations(self, write: StepWrite, audit_first: bool) -> list[Op]:
        """The step's writes in the order they must be applied."""
        ops: list[Op] = []
        audit = Op(OpKind.AUDIT, self.audit.collection, write.entry.stored_document())
        if audit_first:
            ops.append(audit)
        if write.new_record is not None:
            ops.append(Op(OpKind.NEW, self.records.collection, write.new_record.to_document()))
        ops.append(Op(OpKind.RECORD, self.records.collection,
                      {"_id": write.version, "state": {"$in": write.expect_states}}, {"$set": write.fields}))
        if write.source is not None:
            ops.append(Op(OpKind.SOURCE, self.sources.collection, write.source.filter, write.source.update))
        if not audit_first:
            ops.append(audit)
        return ops

    def _run_combined(self, ops: list[Op], session: ClientSession | None) -> list[int | None]:
        try:
            result = self.client.bulk_write([op.client_model() for op in ops], session=session, ordered=True,
                                            verbose_results=True)
        except ClientBulkWriteException as exc:
            raise driver_errors.unwrapped_bulk_error(exc) from None
        return [result.update_results[i].matched_count if i in result.update_results else None
                for i in range(len(ops))]

    @staticmethod
    def _run_separately(ops: list[Op], session: ClientSession | None) -> list[int | None]:
        matched: list[int | None] = []
        for op in ops:
            if op.kind is OpKind.LEASE:  # a read, as a fence: never a write that could conflict with the heartbeat
                found = op.collection.find_one(op.query, {"_id": 1}, session=session)
                matched.append(1 if found is not None else 0)
            elif op.kind is OpKind.AUDIT:
                op.collection.insert_one(op.query, session=session)
                matched.append(None)
            elif op.kind is OpKind.NEW:
                op.collection.replace_one({"_id": op.query["_id"]}, op.query, upsert=True, session=session)
                matched.append(None)
            elif op.kind is OpKind.SOURCE:
                op.collection.update_one(op.query, op.change or {}, upsert=True, session=session)
                matched.append(None)
            else:
                matched.append(op.collection.update_one(op.query, op.change or {}, session=session).matched_count)
            if matched[-1] == 0:
                break  # the step cannot be recorded: the caller aborts; later writes would be discarded
        return matched + [None] * (len(ops) - len(matched))


def _outcome(ops: list[Op], matched: list[int | None]) -> StepOutcome:
    for op, count in zip(ops, matched, strict=True):
        if op.kind is OpKind.LEASE and count != 1:
            return StepOutcome.LEASE_LOST
        if op.kind is OpKind.RECORD and count != 1:
            return StepOutcome.RECORD_CHANGED
    return StepOutcome.RECORDED


def _upserts_matched(group: list[Op], result: Any) -> int:
    """Matches of the group's upserts (a NEW record that existed, a source kept already): not state matches."""
    upserts = sum(1 for op in group if op.kind in (OpKind.NEW, OpKind.SOURCE))
    return max(0, upserts - result.upserted_count)


_TXN_IN_PROGRESS = 3  # pymongo's _TxnState.IN_PROGRESS: the transaction's first command was sent


def _transaction_started(session: ClientSession) -> bool:
    """Whether a command already ran in the session's transaction (so the next one carries no readConcern)."""
    return getattr(getattr(session, "_transaction", None), "state", None) == _TXN_IN_PROGRESS


def own_collections_of(store: Any) -> OwnCollections:
    """Every collection a store's parts write (records, sources, audit, evidence, lease): each shape composes
    the same parts, so each answers the same way."""
    evidence = store.evidence.own_collections() if store.evidence is not None else []
    return OwnCollections.of(store.records.own_collections(), store.sources.own_collections(),
                             store.audit.own_collections(), evidence, [OwnCollection(store.lease.name, "lock", LOCK)])


def ensure_indexes_of(store: Any) -> None:
    """The indexes of a store's parts (records, audit, sources)."""
    store.records.ensure_indexes()
    store.audit.ensure_indexes()
    store.sources.ensure_indexes()
