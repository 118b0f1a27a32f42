"""Plain data the engine hands to its front ends: records, audit entries, status rows, plans."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from bson.binary import Binary

from runway_tui.engine.scripts import ScriptFile
from runway_tui.engine.vocabulary import action_label


class State(StrEnum):
    """Lifecycle of one migration in the migrations collection."""

    PENDING = "pending"
    APPLYING = "applying"
    APPLIED = "applied"
    REVERTING = "reverting"
    FAILED = "failed"


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"


class Problem(StrEnum):
    """Why a row needs attention; several may apply at once."""

    DRIFT = "drift"  # applied file changed since it was applied
    ORPHAN = "orphan"  # recorded in the database, file missing
    BROKEN = "broken"  # file cannot be used (see ScriptFile.problem)
    OUT_OF_ORDER = "out_of_order"  # pending, older than the newest applied migration
    FAILED = "failed"  # state failed/applying/reverting: interrupted or failed without a transaction
    UNRECORDED = "unrecorded"  # file not yet synced to the database (refresh)
    AUDIT_MISMATCH = "audit_mismatch"  # the audit log's last state change says otherwise: record lost or rewritten


@dataclass(frozen=True)
class AuditEvidence:
    """What the audit log says last happened to a version: its newest successful state-changing entry (up,
    down, mark, baseline). Records can be dropped or rewritten behind the engine's back; this cannot be
    outvoted by them (see engine/evidence.py)."""

    version: int
    state: str  # "applied" or "pending": the state that entry left the migration in
    transaction_name: str
    date: dt.datetime | None
    user: str | None = None
    host: str | None = None
    entry_id: Any = field(default=None, compare=False)

    def is_newer_than(self, other: AuditEvidence | None) -> bool:
        """Entries about one version are dated in the order they happened (see MigrationApp.audit_entry)."""
        if other is None:
            return True
        mine, theirs = self.date or dt.datetime.min, other.date or dt.datetime.min
        return mine > theirs or (mine == theirs and str(self.entry_id) > str(other.entry_id))

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "action": action_label(self.transaction_name),
                "date": self.date.isoformat() + "Z" if self.date else None, "by": f"{self.user}@{self.host}"}


@dataclass(frozen=True)
class MigrationReadModel:
    """The Mongorunway-compatible core of a migration record."""

    name: str
    version: int
    checksum: str
    description: str
    is_applied: bool

    def to_document(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict (a recursive deep copy): this runs for every step's audit entry.
        return {"name": self.name, "version": self.version, "checksum": self.checksum,
                "description": self.description, "is_applied": self.is_applied}

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> MigrationReadModel:
        return cls(name=doc.get("name", ""), version=int(doc.get("version", doc.get("_id", 0))),
                   checksum=doc.get("checksum", ""), description=doc.get("description", ""),
                   is_applied=bool(doc.get("is_applied", False)))


@dataclass(frozen=True)
class MigrationRecord:
    """One document of the migrations collection (`_id` = version)."""

    version: int
    name: str
    checksum: str
    description: str
    is_applied: bool
    state: State = State.PENDING
    applied_at: dt.datetime | None = None
    applied_by: str | None = None
    duration_ms: int | None = None
    error: str | None = None
    # the failed step's traceback (scrubbed); written with `error`, meaningful only while `error` is set
    error_traceback: str | None = field(default=None, compare=False)

    @property
    def read_model(self) -> MigrationReadModel:
        return MigrationReadModel(self.name, self.version, self.checksum, self.description, self.is_applied)

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> MigrationRecord:
        is_applied = bool(doc.get("is_applied", False))
        raw_state = doc.get("state") or (State.APPLIED.value if is_applied else State.PENDING.value)
        try:
            state = State(raw_state)
        except ValueError:
            state = State.FAILED
        return cls(version=int(doc["_id"]), name=doc.get("name", ""), checksum=doc.get("checksum", ""),
                   description=doc.get("description", ""), is_applied=is_applied, state=state,
                   applied_at=doc.get("applied_at"), applied_by=doc.get("applied_by"),
                   duration_ms=doc.get("duration_ms"), error=doc.get("error"),
                   error_traceback=doc.get("error_traceback") if doc.get("error") else None)

    def to_document(self) -> dict[str, Any]:
        return {"_id": self.version, "name": self.name, "version": self.version, "checksum": self.checksum,
                "description": self.description, "is_applied": self.is_applied, "state": self.state.value,
                "applied_at": self.applied_at, "applied_by": self.applied_by, "duration_ms": self.duration_ms,
                "error": self.error}


@dataclass(frozen=True)
class MigrationAuditlogEntry:
    """One append-only audit document: an attempt (or a mark/accept/unlock action) and its outcome."""

    session_id: Binary
    transaction_name: str
    migration_read_model: MigrationReadModel | None
    date_fmt: str
    date: dt.datetime
    exc_name: str | None = None
    exc_message: str | None = None
    # ours, beyond Mongorunway's seven fields: not in the repr, so `pprint(entry)` shows Mongorunway's shape
    duration_ms: int | None = field(default=None, repr=False)
    user: str | None = field(default=None, repr=False)
    host: str | None = field(default=None, repr=False)
    engine_version: str | None = field(default=None, repr=False)
    id: Any = field(default=None, compare=False, repr=False)

    @property
    def succeeded(self) -> bool:
        return self.exc_name is None

    def to_document(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict (a recursive deep copy): one per step, on the hot path.
        model = self.migration_read_model
        return {"session_id": self.session_id, "transaction_name": self.transaction_name,
                "migration_read_model": model.to_document() if model is not None else None,
                "date_fmt": self.date_fmt, "date": self.date, "exc_name": self.exc_name,
                "exc_message": self.exc_message, "duration_ms": self.duration_ms, "user": self.user,
                "host": self.host, "engine_version": self.engine_version}

    def stored_document(self) -> dict[str, Any]:
        """The document as written: with its `_id` when the entry has one (a step's attempt has one id, so its
        failure replaces a success written before the step could be recorded: one attempt, one entry)."""
        doc = self.to_document()
        return {"_id": self.id, **doc} if self.id is not None else doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> MigrationAuditlogEntry:
        model = doc.get("migration_read_model")
        return cls(session_id=doc.get("session_id"), transaction_name=doc.get("transaction_name", ""),
                   migration_read_model=MigrationReadModel.from_document(model) if model else None,
                   date_fmt=doc.get("date_fmt", "%Y-%m-%d %H:%M:%S"), date=doc.get("date"),
                   exc_name=doc.get("exc_name"), exc_message=doc.get("exc_message"),
                   duration_ms=doc.get("duration_ms"), user=doc.get("user"), host=doc.get("host"),
                   engine_version=doc.get("engine_version"), id=doc.get("_id"))


@dataclass(frozen=True)
class StatusRow:
    """A migration as seen by comparing its file with its record."""

    version: int | None
    name: str
    description: str
    script: ScriptFile | None
    record: MigrationRecord | None
    problems: tuple[Problem, ...] = ()
    audit: AuditEvidence | None = field(default=None, compare=False)  # set when it contradicts the record

    @property
    def is_applied(self) -> bool:
        return bool(self.record and self.record.is_applied)

    @property
    def state(self) -> str:
        """`applied`, `pending`, `failed`... or `unrecorded` for a file the database does not know yet."""
        if self.record is None:
            return "pending" if self.script and not self.script.is_broken else "broken"
        return self.record.state.value

    @property
    def path(self) -> Path | None:
        return self.script.path if self.script else None

    @property
    def current_checksum(self) -> str | None:
        return self.script.checksum if self.script else None

    @property
    def stored_checksum(self) -> str | None:
        return self.record.checksum if self.record else None

    def to_json(self) -> dict[str, Any]:
        record = self.record
        return {
            "version": self.version, "name": self.name, "description": self.description, "state": self.state,
            "problems": [p.value for p in self.problems],
            "file": str(self.script.path) if self.script else None,
            "broken_reason": self.script.problem if self.script else None,
            "transactional": self.script.transactional if self.script else None,
            "format": self.script.format if self.script else None,
            "checksum": self.current_checksum, "stored_checksum": self.stored_checksum,
            "applied_at": record.applied_at.isoformat() + "Z" if record and record.applied_at else None,
            "applied_by": record.applied_by if record else None,
            "duration_ms": record.duration_ms if record else None,
            "error": record.error if record else None,
            "audit": self.audit.to_json() if self.audit is not None else None,
        }


@dataclass(frozen=True)
class StatusReport:
    """Files and database compared, without writing anything."""

    rows: list[StatusRow]
    current_version: int | None

    def with_problem(self, problem: Problem) -> list[StatusRow]:
        return [r for r in self.rows if problem in r.problems]

    @property
    def pending(self) -> list[StatusRow]:
        return [r for r in self.rows if r.version is not None and not r.is_applied and r.script
                and not r.script.is_broken and r.state == "pending"]

    @property
    def applied(self) -> list[StatusRow]:
        return [r for r in self.rows if r.is_applied]

    @property
    def is_clean(self) -> bool:
        blocking = {Problem.DRIFT, Problem.ORPHAN, Problem.BROKEN, Problem.FAILED, Problem.OUT_OF_ORDER,
                    Problem.AUDIT_MISMATCH}
        return not any(blocking & set(r.problems) for r in self.rows)

    def counts(self) -> dict[str, int]:
        return {
            "total": len(self.rows), "applied": len(self.applied), "pending": len(self.pending),
            **{p.value: len(self.with_problem(p)) for p in Problem},
        }


@dataclass(frozen=True)
class Step:
    """One migration to run in one direction."""

    direction: Direction
    version: int
    name: str
    description: str
    transactional: bool
    from_version: int | None
    to_version: int | None

    def to_json(self) -> dict[str, Any]:
        return {"direction": self.direction.value, "version": self.version, "name": self.name,
                "description": self.description, "transactional": self.transactional,
                "from_version": self.from_version, "to_version": self.to_version}


@dataclass(frozen=True)
class Plan:
    """The exact steps a command would run, in order; computing it writes nothing."""

    direction: Direction
    steps: list[Step]
    current_version: int | None
    target_version: int | None
    blockers: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    uses_transactions: bool = False
    group: bool = False  # the whole run in one transaction (`--group`): every step commits or none does

    def to_json(self) -> dict[str, Any]:
        return {"direction": self.direction.value, "current_version": self.current_version,
                "target_version": self.target_version, "steps": [s.to_json() for s in self.steps],
                "blockers": self.blockers, "warnings": self.warnings,
                "server_transactions": self.uses_transactions, "group": self.group}


@dataclass(frozen=True)
class StepResult:
    step: Step
    duration_ms: int
    in_transaction: bool


@dataclass(frozen=True)
class RunResult:
    """What a run did; `completed` lists the steps that succeeded before any failure."""

    plan: Plan
    completed: list[StepResult]
    current_version: int | None

    def to_json(self) -> dict[str, Any]:
        return {"direction": self.plan.direction.value, "current_version": self.current_version,
                "completed": [{**r.step.to_json(), "duration_ms": r.duration_ms, "in_transaction": r.in_transaction}
                              for r in self.completed]}


@dataclass(frozen=True)
class RefreshReport:
    """What `refresh` found and synchronised."""

    new: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)  # pending records whose file changed
    drift: list[int] = field(default_factory=list)  # applied records whose file changed
    orphans: list[int] = field(default_factory=list)  # applied/failed records whose file is gone
    removed: list[int] = field(default_factory=list)  # pending records whose file is gone
    kept: list[int] = field(default_factory=list)  # pending records kept: a file that may be theirs exists
    out_of_order: list[int] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)  # "file: reason"

    @property
    def changed_anything(self) -> bool:
        return bool(self.new or self.updated or self.removed)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LockInfo:
    """The current holder of the migration lock, if any."""

    owner: str
    user: str
    host: str
    pid: int
    acquired_at: dt.datetime | None
    expires_at: dt.datetime | None
    operation: str
    expired: bool

    @property
    def holder(self) -> str:
        return f"{self.user}@{self.host} (pid {self.pid})"

    def to_json(self) -> dict[str, Any]:
        return {"owner": self.owner, "user": self.user, "host": self.host, "pid": self.pid,
                "acquired_at": self.acquired_at.isoformat() + "Z" if self.acquired_at else None,
                "expires_at": self.expires_at.isoformat() + "Z" if self.expires_at else None,
                "operation": self.operation, "expired": self.expired}
