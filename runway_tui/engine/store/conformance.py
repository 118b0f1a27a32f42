"""The checks every `MigrationStore` shape must pass (golang-migrate's `database/testing`), on a real server.

Each check receives a fresh store on an empty database and its client, uses only the protocol
(engine/store/protocol.py), and raises `ConformanceError` saying what a user would see go wrong.
tests/engine/test_store_conformance.py runs every check on runway's shape and on Mongorunway's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from bson import ObjectId
from bson.binary import Binary, UuidRepresentation
from pymongo import MongoClient

from runway_tui.engine.models import MigrationAuditlogEntry, MigrationReadModel, MigrationRecord, State
from runway_tui.engine.store.protocol import MigrationStore, StepOutcome, StepWrite

Check = Callable[[MigrationStore, MongoClient[dict[str, Any]]], None]
T0 = dt.datetime(2026, 1, 1, 12, 0, 0)  # BSON dates are milliseconds, naive UTC (tz_aware=False)
LEASE_ID = "lock"


class ConformanceError(AssertionError):
    """A store shape does not do what the protocol promises."""


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise ConformanceError(what)


def _pending(version: int) -> MigrationRecord:
    return MigrationRecord(version, f"m{version}", f"sum{version}", f"Migration {version}.", False)


def _applied(version: int) -> MigrationRecord:
    return MigrationRecord(version, f"m{version}", f"sum{version}", f"Migration {version}.", True, State.APPLIED,
                           applied_at=T0, applied_by="alice@ops-1", duration_ms=12)


def _entry(version: int | None, name: str, minutes: int, failed: bool = False) -> MigrationAuditlogEntry:
    model = MigrationReadModel(f"m{version}", version, f"sum{version}", "", name != "DowngradeTransaction") \
        if version is not None else None
    return MigrationAuditlogEntry(Binary.from_uuid(uuid.uuid4(), UuidRepresentation.STANDARD), name, model,
                                  "%Y-%m-%d %H:%M:%S", T0 + dt.timedelta(minutes=minutes),
                                  exc_name="ValueError" if failed else None, exc_message="no" if failed else None,
                                  user="alice", host="ops-1", id=ObjectId())


def _step_write(version: int, minutes: int, *, expect: list[str | None] | None = None) -> StepWrite:
    fields = {"is_applied": True, "state": State.APPLIED.value, "checksum": f"sum{version}",
              "applied_at": T0 + dt.timedelta(minutes=minutes), "applied_by": "alice@ops-1", "duration_ms": 3,
              "error": None, "run_id": "run-1", "runner": None}
    return StepWrite(version, fields, expect or [State.PENDING.value, None], _entry(version, "UpgradeTransaction",
                                                                                       minutes))


def _lease(store: MigrationStore) -> dict[str, Any]:
    store.lease.replace_one({"_id": LEASE_ID}, {"_id": LEASE_ID, "owner": "me", "token": "t1"}, upsert=True)
    return {"_id": LEASE_ID, "owner": "me", "token": "t1"}


# ------------------------------------------------------------------ the checks
def check_own_collections(store: MigrationStore, client: MongoClient[dict[str, Any]]) -> None:
    """Every collection the shape writes is named, with a label for pane 2."""
    store.ensure_indexes()
    store.records.upsert(_applied(1))
    store.audit.append(_entry(1, "UpgradeTransaction", 0))
    _lease(store)
    own = store.own_collections()
    written = {name for name in store.lease.database.list_collection_names()}
    _expect(written <= own.names, f"collections written but not named as runway's own: {sorted(written - own.names)}")
    _expect(store.lease.name in own and all(own.label(name) for name in own.names), "a collection without a label")


def check_refresh_changes_only_pending_records(store: MigrationStore, client: MongoClient[dict[str, Any]]) -> None:
    store.records.sync([_pending(1), _pending(2), _pending(3)], {}, [])
    store.records.upsert(_applied(3))
    store.records.sync([_pending(3)], {1: {"description": "renamed", "name": "m1b"}, 3: {"name": "never"}}, [2, 3])
    records = {r.version: r for r in store.records.all()}
    _expect(sorted(records) == [1, 3], f"a refresh removed an applied record or kept a removed one: {sorted(records)}")
    _expect(records[1].description == "renamed" and records[1].name == "m1b", "a pending record was not rewritten")
    _expect(records[3] == _applied(3), f"a refresh changed an applied record: {records[3]}")


def check_records_keep_every_field(store: MigrationStore, client: MongoClient[dict[str, Any]]) -> None:
    store.records.upsert(_applied(1))
    store.records.upsert(_pending(2))
    _expect(store.records.get(1) == _applied(1), f"get: {store.records.get(1)}")
    _expect(store.records.some([1, 2]) == [_applied(1), _pending(2)], f"some: {store.records.some([1, 2])}")
    _expect(store.records.all() == [_applied(1), _pending(2)], "all: not in version order or fields lost")
    _expect(store.records.current_version() == 1, f"current version {store.records.current_version()}")
    _expect(store.records.get(9) is None, "a record that does not exist was found")


def check_update_is_conditional(store: MigrationStore, client: MongoClient[dict[str, Any]]) -> None:
    store.records.upsert(_pending(1))
    _expect(not store.records.update(1, {"state": State.APPLYING.value}, expect={"state": {"$in": ["applied"]}}),
            "an update whose expectation fails changed the record")
    _expect(store.records.get(1).state is State.PENDING, "the refused update left a change")  # type: ignore[union-attr]
    _expect(store.records.update(1, {"state": State.APPLYING.value, "run_id": "r"},
                                 expect={"state": {"$in": ["pending", None]}}), "an expected update was refused")
    _expect(store.records.get(1).state is State.APPLYING, "the update was not kept")  # type: ignore[union-attr]
    _expect(store.records.run_id(1) == "r", f"run id {store.records.run_id(1)!r}")
    _expect(not store.records.update(7, {"state": "applied"}), "an update of a missing record said it matched")
    _expect(store.records.remove(1) and store.records.get(1) is None, "forget left the record")
    _expect(not store.records.remove(1), "a second forget said it removed something")


def check_audit_log_reads_back_in_order(store: MigrationStore, client: MongoClient[dict[str, Any]]) -> None:
    entries = [_entry(1, "UpgradeTransaction", 0), _entry(2, "UpgradeTransaction", 1),
               _entry(2, "DowngradeTransaction", 2), _entry(3, "UpgradeTransaction", 3, failed=True),
               _entry(None, "UnlockTransaction", 4)]
    for entry in entries:
        store.audit.append(entry)
    newest = [e.id for e in reversed(entries)]
    _expect([e.id for e in store.audit.history(limit=None)] == newest, "history is not newest first")
    page = store.audit.history(limit=2, now=T0 + dt.timedelta(hours=1))
    _expect([e.id for e in page] == newest[:2], "the first page is not the newest two")
    after = store.audit.history(limit=10, now=T0 + dt.timedelta(hours=1), before=page[-1])
    _expect([e.id for e in after] == newest[2:], "the next page does not follow the first")
    _expect(store.audit.count() == 5 and store.audit.count(version=2) == 2, "counts")
    _expect(store.audit.count_dated(T0, T0 + dt.timedelta(minutes=1)) >= 2, "entries dated in a window")
    changes = store.audit.state_changes()
    _expect({v: c.state for v, c in changes.items()} == {1: "applied", 2: "pending"},
            f"evidence: {changes} (a failure or an entry about no migration counted)")
    newer = store.audit.newer_than(page, 10)
    _expect(newer == [], f"entries newer than the newest: {newer}")


def check_a_failed_attempt_replaces_its_entry(store: MigrationStore, client: MongoClient[dict[str, Any]]) -> None:
    entry = _entry(1, "UpgradeTransaction", 0)
    store.audit.append(entry)
    failed = dataclasses.replace(entry, exc_name="ValueError", exc_message="late")
    store.audit.record(failed)
    history = store.audit.history(limit=None)
    _expect(len(history) == 1 and history[0].exc_name == "ValueError", f"one attempt, one entry: {history}")


def check_a_step_write_commits_everything_or_nothing(store: MigrationStore,
                                                     client: MongoClient[dict[str, Any]]) -> None:
    store.ensure_indexes()
    store.records.upsert(_pending(1))
    fence = _lease(store)
    source = store.sources.write(1, "sum1", "m1", "print('one')", T0)
    write = dataclasses.replace(_step_write(1, 5), source=source)
    with client.start_session() as session:
        session.start_transaction()
        outcome = store.write_step(write, session, lease_filter=fence, audit_first=False)
        session.commit_transaction()
    _expect(outcome is StepOutcome.RECORDED, f"outcome {outcome}")
    record = store.records.get(1)
    _expect(record is not None and record.state is State.APPLIED and record.applied_by == "alice@ops-1",
            f"the record after the step: {record}")
    _expect([e.id for e in store.audit.history(limit=None)] == [write.entry.id], "the step's audit entry")
    _expect(store.sources.find(1, "sum1") == "print('one')", "the applied source was not kept")
    _expect(store.records.run_id(1) == "run-1", "the run id")


def check_a_step_write_is_fenced(store: MigrationStore, client: MongoClient[dict[str, Any]]) -> None:
    store.ensure_indexes()
    store.records.upsert(_pending(1))
    _lease(store)
    with client.start_session() as session:
        session.start_transaction()
        outcome = store.write_step(_step_write(1, 5), session, lease_filter={"_id": LEASE_ID, "token": "stolen"},
                                   audit_first=False)
        session.abort_transaction()
    _expect(outcome is StepOutcome.LEASE_LOST, f"a write without the lease: {outcome}")
    with client.start_session() as session:
        session.start_transaction()
        outcome = store.write_step(_step_write(1, 5, expect=[State.APPLIED.value]), session,
                                   lease_filter=_lease(store), audit_first=False)
        session.abort_transaction()
    _expect(outcome is StepOutcome.RECORD_CHANGED, f"a write whose record moved: {outcome}")
    _expect(store.records.get(1) == _pending(1) and store.audit.count() == 0, "an aborted step left a trace")


def check_a_step_without_transaction_writes_its_entry_first(store: MigrationStore,
                                                            client: MongoClient[dict[str, Any]]) -> None:
    store.records.upsert(_pending(1))
    outcome = store.write_step(_step_write(1, 5, expect=[State.APPLIED.value]), None, lease_filter=None,
                               audit_first=True)
    _expect(outcome is StepOutcome.RECORD_CHANGED, f"outcome {outcome}")
    _expect(store.audit.count() == 1, "without a transaction the audit entry is written before the record")


def check_a_group_run_writes_every_step_at_once(store: MigrationStore, client: MongoClient[dict[str, Any]]) -> None:
    store.ensure_indexes()
    store.records.sync([_pending(1), _pending(2)], {}, [])
    writes = [_step_write(1, 5), _step_write(2, 6)]
    with client.start_session() as session:
        session.start_transaction()
        outcome = store.write_steps(writes, session, lease_filter=_lease(store))
        session.commit_transaction()
    _expect(outcome is StepOutcome.RECORDED, f"outcome {outcome}")
    _expect([r.state for r in store.records.all()] == [State.APPLIED, State.APPLIED], "both records applied")
    _expect(store.audit.count() == 2, "both audit entries")
    new = dataclasses.replace(_step_write(3, 7), new_record=_pending(3))
    with client.start_session() as session:
        session.start_transaction()
        outcome = store.write_steps([new, _step_write(1, 8)], session, lease_filter=_lease(store))
        session.abort_transaction()
    _expect(outcome is StepOutcome.RECORD_CHANGED, f"a group whose record moved: {outcome}")
    _expect(store.records.get(3) is None and store.audit.count() == 2, "an aborted group left a trace")


CHECKS: tuple[Check, ...] = (
    check_own_collections,
    check_refresh_changes_only_pending_records,
    check_records_keep_every_field,
    check_update_is_conditional,
    check_audit_log_reads_back_in_order,
    check_a_failed_attempt_replaces_its_entry,
    check_a_step_write_commits_everything_or_nothing,
    check_a_step_write_is_fenced,
    check_a_step_without_transaction_writes_its_entry_first,
    check_a_group_run_writes_every_step_at_once,
)
