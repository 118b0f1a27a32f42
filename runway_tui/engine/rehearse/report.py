"""What a rehearsal found: per migration its result, counts, diffs and reversal; the pre-checks; the exit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runway_tui.engine.errors import ExitCode
from runway_tui.engine.rehearse.diff import CollectionDiff

PRECHECK_KINDS = ("unique_index", "validator", "index_in_use", "field_in_use", "check")


@dataclass
class Precheck:
    """One read-only check on production (the whole collection, not the sample)."""

    version: int
    kind: str
    collection: str
    ok: bool
    violations: int
    examples: list[Any] = field(default_factory=list)
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "kind": self.kind, "collection": self.collection, "ok": self.ok,
                "violations": self.violations, "examples": self.examples, "detail": self.detail}


@dataclass
class MigrationRehearsal:
    version: int
    name: str
    result: str = "ok"  # "ok", "failed" or "not run" (after an earlier failure)
    error: str | None = None
    duration_ms: int = 0
    estimated_full_ms: int | None = None
    reversible: bool | None = None  # None: not judged (--no-reverse, or the up failed)
    reversal: list[str] = field(default_factory=list)  # what the down did not put back
    collections: dict[str, CollectionDiff] = field(default_factory=dict)
    named: list[str] = field(default_factory=list)  # the collections the file names (ast, `touches`)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "name": self.name, "result": self.result, "error": self.error,
                "duration_ms": self.duration_ms, "estimated_full_ms": self.estimated_full_ms,
                "reversible": self.reversible, "reversal": self.reversal,
                "collections": {name: diff.to_json() for name, diff in self.collections.items()},
                "named": self.named, "notes": self.notes}


@dataclass
class RehearsalReport:
    application: str
    database: str
    sample_size: int
    scratch: str  # where the scratch database is (masked address and name)
    kept: bool
    migrations: list[MigrationRehearsal] = field(default_factory=list)
    prechecks: list[Precheck] = field(default_factory=list)
    production_writes: int = 0
    production_reads: int = 0
    production_read_ms: float = 0.0
    copy_ms: float = 0.0
    total_ms: float = 0.0
    notes: list[str] = field(default_factory=list)
    nothing_pending: bool = False

    @property
    def failed(self) -> bool:
        return any(m.result == "failed" for m in self.migrations)

    @property
    def problems(self) -> bool:
        return any(not p.ok for p in self.prechecks) or any(m.reversible is False for m in self.migrations)

    @property
    def exit_code(self) -> ExitCode:
        if self.failed:
            return ExitCode.STEP_FAILED
        return ExitCode.VALIDATION_FAILED if self.problems else ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.exit_code == ExitCode.OK, "exit_code": int(self.exit_code),
                "application": self.application, "database": self.database, "sample_size": self.sample_size,
                "scratch": self.scratch, "kept": self.kept, "production_writes": self.production_writes,
                "production_reads": {"count": self.production_reads, "ms": round(self.production_read_ms, 1)},
                "migrations": [m.to_json() for m in self.migrations],
                "prechecks": [p.to_json() for p in self.prechecks], "notes": self.notes,
                "timings": {"copy_ms": round(self.copy_ms), "total_ms": round(self.total_ms)}}
