"""`MigrationStore`: everything runway keeps in MongoDB for one application, as one seam.

Like golang-migrate's `database.Driver`, the engine talks to a store through this protocol only: records,
the audit log (append, pages, evidence), the lease documents' collection, the stored sources, the side data
a shape keeps, "our collections" and a step's write. Two shapes implement it by composition:

- runway's own (`engine/store/mongo.py` `MongoStore`): one extended document per record and per entry; a
  step's bookkeeping in one `bulkWrite` where the server has it;
- Mongorunway's (`compat/mongorunway/storage.py` `MongorunwayStore`): its exact documents, our fields in
  `<collection>_runway` beside them, a step's write through its own methods.

Both pass the checks of `engine/store/conformance.py` on the real server (tests/engine/test_store_conformance.py).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pymongo.client_session import ClientSession
from pymongo.collection import Collection

from runway_tui.engine.audit_filter import AuditFilter
from runway_tui.engine.models import AuditEvidence, MigrationAuditlogEntry, MigrationRecord, State
from runway_tui.engine.sources import SourceStore, SourceWrite
from runway_tui.engine.store.collections import OwnCollection, OwnCollections

if TYPE_CHECKING:
    from runway_tui.engine.evidence import EvidenceStore


class StepOutcome(enum.Enum):
    RECORDED = "recorded"
    LEASE_LOST = "lease lost"  # the lease no longer carries our token: nothing may be committed
    RECORD_CHANGED = "record changed"  # the record is not in the state the step expects (another runner?)


@dataclass(frozen=True)
class RecordChange:
    """A record's new state, as written: `applied` and `pending` are the only places the state fields
    (`is_applied`, `state`, `applied_at`, `applied_by`, `checksum`, `error`, `runner`) are built, for a step,
    a mark and a baseline alike. `extra`: what a step adds (its duration, run id, name)."""

    fields: dict[str, Any]

    @classmethod
    def applied(cls, at: dt.datetime, by: str, checksum: str | None, **extra: Any) -> RecordChange:
        fields: dict[str, Any] = {"is_applied": True, "state": State.APPLIED.value, "applied_at": at,
                                  "applied_by": by, "error": None, "runner": None}
        if checksum:
            fields["checksum"] = checksum
        return cls({**fields, **extra})

    @classmethod
    def pending(cls, **extra: Any) -> RecordChange:
        return cls({"is_applied": False, "state": State.PENDING.value, "applied_at": None, "applied_by": None,
                    "error": None, "runner": None, **extra})

    @property
    def state(self) -> State:
        return State(self.fields["state"])


@dataclass(frozen=True)
class StepWrite:
    """Everything a step records about itself: its record's new fields and its audit entry."""

    version: int
    fields: dict[str, Any]
    expect_states: list[str | None]  # the record must be in one of these (None: a Mongorunway record)
    entry: MigrationAuditlogEntry
    new_record: MigrationRecord | None = None  # written first when the step has no record yet
    source: SourceWrite | None = None  # the applied text, kept beside the record (engine/sources.py)


@runtime_checkable
class RecordStore(Protocol):
    """One record per known migration, keyed by version."""

    def own_collections(self) -> list[OwnCollection]: ...
    def ensure_indexes(self) -> None: ...
    def all(self) -> list[MigrationRecord]: ...
    def some(self, versions: list[int]) -> list[MigrationRecord]: ...
    def get(self, version: int, session: ClientSession | None = None) -> MigrationRecord | None: ...
    def current_version(self) -> int | None: ...
    def sync(self, upserts: list[MigrationRecord], updates: dict[int, dict[str, Any]],
             removals: list[int]) -> None: ...  # a refresh: only pending records change
    def update(self, version: int, fields: dict[str, Any], session: ClientSession | None = None,
               expect: dict[str, Any] | None = None) -> bool: ...
    def run_id(self, version: int, session: ClientSession | None = None) -> Any: ...
    def remove(self, version: int, session: ClientSession | None = None) -> bool: ...
    def upsert(self, record: MigrationRecord, session: ClientSession | None = None) -> None: ...


@runtime_checkable
class AuditStore(Protocol):
    """The append-only audit log, read newest first by key, and the evidence of each version's state."""

    limit: int | None

    def own_collections(self) -> list[OwnCollection]: ...
    def ensure_indexes(self) -> None: ...
    def append(self, entry: MigrationAuditlogEntry, session: ClientSession | None = None) -> None: ...
    def record(self, entry: MigrationAuditlogEntry) -> None: ...  # a failed attempt, under the attempt's id
    def state_changes(self, since: dt.datetime | None = None) -> dict[int, AuditEvidence]: ...
    def trim(self, protected: Iterable[Any] = ()) -> int: ...
    def history(self, limit: int | None = 10, skip: int = 0, ascending: bool = False, version: int | None = None,
                text: str | None = None, start: Any = None, end: Any = None,
                before: MigrationAuditlogEntry | None = None, now: dt.datetime | None = None,
                where: AuditFilter | None = None) -> list[MigrationAuditlogEntry]: ...
    def states_at(self, at: dt.datetime) -> dict[int, dict[str, Any]]: ...
    def newer_than(self, shown: list[MigrationAuditlogEntry], limit: int) -> list[MigrationAuditlogEntry] | None: ...
    def count(self, version: int | None = None, text: str | None = None) -> int: ...
    def count_dated(self, start: dt.datetime, end: dt.datetime) -> int: ...  # entries dated in [start, end]


@runtime_checkable
class MigrationStore(Protocol):
    """Everything runway keeps in MongoDB for one application (see the module docstring)."""

    records: RecordStore
    audit: AuditStore
    sources: SourceStore
    lease: Collection[dict[str, Any]]  # the lease documents (engine/lock.py MigrationLock writes them)
    evidence: EvidenceStore | None  # side data: each version's newest state change, summarised

    def own_collections(self) -> OwnCollections: ...  # the watch, pane 2, the explorer and the guard ask here
    def ensure_indexes(self) -> None: ...
    def write_step(self, write: StepWrite, session: ClientSession | None, *, lease_filter: dict[str, Any] | None,
                   audit_first: bool) -> StepOutcome:
        """The step's record, audit entry and source, fenced by the lease (`lease_filter`); LEASE_LOST or
        RECORD_CHANGED mean the caller must abort the transaction."""
        ...

    def write_steps(self, writes: list[StepWrite], session: ClientSession,
                    *, lease_filter: dict[str, Any] | None) -> StepOutcome:
        """A `--group` run's bookkeeping, every step of it, inside the run's transaction at its end."""
        ...
