"""What a command would run (a plan of steps), what a run did, and what `refresh` synchronised: plain data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runway_tui.engine.models import Direction


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
