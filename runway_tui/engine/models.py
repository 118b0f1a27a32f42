"""Plain data the engine hands to its front ends: records, audit entries, status rows, plans."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from bson.binary import Binary

from runway_tui.engine.backfill.checkpoint import Checkpoint
from runway_tui.engine.lock_holder import LeaseStep, LockInfo, _fmt_time, _iso
from runway_tui.engine.run_plans import Plan, RefreshReport, RunResult, Step, StepResult
from runway_tui.engine.scripts import ScriptFile
from runway_tui.engine.vocabulary import action_label

# Re-exported: plans and run results live in run_plans.py, the lock's holder in lock_holder.py.
__all__ = ["AuditEvidence", "Direction", "LeaseStep", "LockInfo", "MigrationAuditlogEntry", "MigrationReadModel",
           "MigrationRecord", "Plan", "Problem", "RefreshReport", "RunResult", "Runner", "State", "StatusReport",
           "StatusRow", "Step", "StepActivity", "StepResult", "_fmt_time", "_iso"]


class State(StrEnum):
    """Lifecycle of one migration in the migrations collection."""

    PENDING = "pending"
    APPLYING = "applying"
    APPLIED = "applied"
    REVERTING = "reverting"
    FAILED = "failed"
    PAUSED = "paused"  # a backfill stopped between batches (signal, cancel, lost runner): `up` resumes it


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"


class Problem(StrEnum):
    """Why a row needs attention; several may apply at once."""

    DRIFT = "drift"  # applied file changed since it was applied
    ORPHAN = "orphan"  # recorded in the database, file missing
    BROKEN = "broken"  # file cannot be used (see ScriptFile.problem)
    OUT_OF_ORDER = "out_of_order"  # pending, older than the newest applied migration
    FAILED = "failed"  # state failed, or applying/reverting with its runner gone (interrupted): needs `mark`
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
    # who runs the step that set `applying`/`reverting` (engine/runners.py): tells running from interrupted
    runner: dict[str, Any] | None = field(default=None, compare=False)
    # a backfill's checkpoint (engine/backfill/checkpoint.py): set while one is under way or paused
    backfill: Checkpoint | None = field(default=None, compare=False)

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
                   error_traceback=doc.get("error_traceback") if doc.get("error") else None,
                   runner=doc.get("runner") if isinstance(doc.get("runner"), dict) else None,
                   backfill=Checkpoint.from_document(doc.get("backfill")))

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
    # for an incident review: which front end (cli, tui, api; "mongorunway" for its own entries), its process,
    # the overrides in force ("drift ignored", "out of order allowed", "group"), and what an entry without a
    # migration is about (a lease taken over, an abandoned attempt found)
    client: str | None = field(default=None, repr=False)
    pid: int | None = field(default=None, repr=False)
    overrides: tuple[str, ...] = field(default=(), repr=False)
    detail: str | None = field(default=None, repr=False)
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
                "host": self.host, "engine_version": self.engine_version, "client": self.client, "pid": self.pid,
                "overrides": list(self.overrides), "detail": self.detail}

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
                   engine_version=doc.get("engine_version"), client=doc.get("client"),
                   pid=doc.get("pid") if isinstance(doc.get("pid"), int) else None,
                   overrides=tuple(str(o) for o in doc.get("overrides") or () if isinstance(o, str)),
                   detail=doc.get("detail") if isinstance(doc.get("detail"), str) else None, id=doc.get("_id"))


@dataclass(frozen=True)
class Runner:
    """Who runs (or ran) a step: user, host, pid, client (`cli`, `tui`, `api`) and since when."""

    user: str
    host: str
    pid: int | None
    client: str | None
    since: dt.datetime | None
    owner: str | None = None  # the lease owner (one per lock acquisition) the runner held

    @classmethod
    def from_document(cls, doc: Any) -> Runner | None:
        if not isinstance(doc, dict) or not doc.get("user"):
            return None
        pid = doc.get("pid")
        return cls(user=str(doc["user"]), host=str(doc.get("host", "?")), pid=pid if isinstance(pid, int) else None,
                   client=doc.get("client"), since=doc.get("since"), owner=doc.get("owner"))

    @property
    def label(self) -> str:
        """`alice@ops-1 (pid 4242, cli)`."""
        details = ", ".join(x for x in (f"pid {self.pid}" if self.pid is not None else "", self.client or "") if x)
        return f"{self.user}@{self.host}" + (f" ({details})" if details else "")

    def to_json(self) -> dict[str, Any]:
        return {"user": self.user, "host": self.host, "pid": self.pid, "client": self.client,
                "since": _iso(self.since)}


@dataclass(frozen=True)
class StepActivity:
    """A step in progress somewhere, or one whose runner is gone before it finished (engine/runners.py)."""

    direction: Direction
    runner: Runner | None
    live: bool  # its runner holds the lease: running; otherwise interrupted
    gone: str = ""  # why its runner is taken to be gone
    done: int | None = None
    total: int | None = None
    paused_by: str | None = None  # a running backfill paused in place by this operator (lease held)

    @property
    def progress(self) -> str:
        return f"{self.done}/{self.total}" if self.done is not None and self.total else ""


@dataclass(frozen=True)
class StatusRow:
    """A migration as seen by comparing its file with its record."""

    version: int | None
    name: str
    description: str
    script: ScriptFile | None
    record: MigrationRecord | None
    problems: tuple[Problem, ...] = ()
    activity: StepActivity | None = None  # a step of this version in progress, or interrupted
    audit: AuditEvidence | None = field(default=None, compare=False)  # set when it contradicts the record

    @property
    def is_applied(self) -> bool:
        return bool(self.record and self.record.is_applied)

    @property
    def is_recorded(self) -> bool:
        return self.record is not None

    @property
    def state(self) -> str:
        """`applied`, `pending`, `failed`, `running` (its runner holds the lease), `interrupted` (its runner is
        gone before it finished), `paused` (a backfill stopped at its checkpoint: `up` resumes it), or `broken`; a
        file the database does not know yet is `pending`."""
        if self.activity is not None:
            if not self.activity.live and self.record is not None and self.record.backfill is not None:
                return "paused"  # its runner died mid-walk: the checkpoint says exactly what is done
            return "running" if self.activity.live else "interrupted"
        if self.record is None:
            return "pending" if self.script and not self.script.is_broken else "broken"
        return self.record.state.value

    @property
    def is_stale_record(self) -> bool:
        """A pending record whose file was deleted: the next sync (up, refresh) removes it; not a problem."""
        return (self.record is not None and self.script is None and not self.record.is_applied
                and self.record.state is State.PENDING)

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
        activity = self.activity
        return {
            "version": self.version, "name": self.name, "description": self.description, "state": self.state,
            "recorded": self.is_recorded,
            "problems": [p.value for p in self.problems if p is not Problem.UNRECORDED],  # a state, not a problem
            "file": str(self.script.path) if self.script else None,
            "broken_reason": self.script.problem if self.script else None,
            "transactional": self.script.transactional if self.script else None,
            "format": self.script.format if self.script else None,
            "checksum": self.current_checksum, "stored_checksum": self.stored_checksum,
            "applied_at": record.applied_at.isoformat() + "Z" if record and record.applied_at else None,
            "applied_by": record.applied_by if record else None,
            "duration_ms": record.duration_ms if record else None,
            "error": record.error if record else None,
            "runner": activity.runner.to_json() if activity and activity.runner else None,
            "direction": activity.direction.value if activity else None,
            "progress": _progress_json(self),
            "runner_gone": activity.gone or None if activity and not activity.live else None,
            "paused": _paused_json(record.backfill) if record and record.backfill and self.state == "paused" else None,
            "audit": self.audit.to_json() if self.audit is not None else None,
        }


def _progress_json(row: StatusRow) -> dict[str, Any] | None:
    """A running step's progress (from its runner's lease), or a paused backfill's checkpoint."""
    activity, record = row.activity, row.record
    if activity is not None and activity.live and activity.progress:
        return {"done": activity.done, "total": activity.total}
    checkpoint = record.backfill if record is not None else None
    if checkpoint is None or row.state not in ("paused", "running"):
        return None
    last = checkpoint.last_id
    return {"done": checkpoint.done, "total": checkpoint.total,
            "last_id": None if last is None else last if isinstance(last, int | float | str) else str(last)}


def _paused_json(checkpoint: Checkpoint) -> dict[str, Any]:
    return {"reason": checkpoint.reason, "by": checkpoint.paused_by, "at": _iso(checkpoint.paused_at),
            "replica_set": checkpoint.replica_set}


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
    def paused(self) -> list[StatusRow]:
        """Backfills stopped at their checkpoint: `up` resumes an upgrade, `down` reverts what it did."""
        return [r for r in self.rows if r.state == "paused" and r.version is not None]

    @property
    def is_clean(self) -> bool:
        """Nothing needs attention. A running step does not (it is in progress), nor a pending record whose file
        was deleted (the next sync removes it): both are shown, neither fails `check`."""
        return not any(self.needs_attention(r) for r in self.rows)

    @staticmethod
    def needs_attention(row: StatusRow) -> set[Problem]:
        blocking = {Problem.DRIFT, Problem.ORPHAN, Problem.BROKEN, Problem.FAILED, Problem.OUT_OF_ORDER,
                    Problem.AUDIT_MISMATCH}
        found = blocking & set(row.problems)
        if row.is_stale_record:
            found.discard(Problem.ORPHAN)
        return found

    @property
    def running(self) -> list[StatusRow]:
        return [r for r in self.rows if r.state == "running"]

    def counts(self) -> dict[str, int]:
        """Rows per state and per problem; `failed` counts failed steps, `interrupted` those whose runner is
        gone before they finished (both need `mark`), `running` those in progress."""
        states = [r.state for r in self.rows]
        return {
            "total": len(self.rows), "applied": len(self.applied), "pending": len(self.pending),
            **{p.value: len(self.with_problem(p)) for p in Problem},
            "failed": states.count("failed"), "interrupted": states.count("interrupted"),
            "running": states.count("running"), "paused": states.count("paused"),
        }
