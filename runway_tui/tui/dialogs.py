"""Building what the dialogs and toasts say, as pure functions of engine results (no widgets here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runway_tui.engine.inspect_refs import collections_named, function_source
from runway_tui.engine.models import Direction, Plan, RefreshReport, RunResult, Step
from runway_tui.engine.vocabulary import version_label
from runway_tui.tui.format import short_name, summary, version_text
from runway_tui.tui.screens.confirm import ConfirmRequest


def step_line(s: Step, in_tx: bool | None = None) -> str:
    text = f"{s.direction.value} {version_text(s.version)} {short_name(s.name, s.version)}: {summary(s.description)}"
    if in_tx is None:
        return text
    return text + f" [{'transaction' if in_tx else 'NO transaction'}]"


@dataclass(frozen=True)
class Downgrade:
    """What a revert step runs, read from its file with `ast` (never executed): `downgrade`'s source and the
    collections it names."""

    source: str | None
    collections: list[str]

    @classmethod
    def of(cls, path: Path | None) -> Downgrade:
        source = function_source(path, "downgrade") if path is not None else None
        return cls(source, collections_named(source) if source else [])

    @property
    def touches(self) -> str:
        return ", ".join(self.collections) if self.collections else "no collection named in its source"


def plan_confirmation(plan: Plan, facts: list[tuple[str, str]], database: str, production: bool,
                      extra_warnings: list[str] | None = None,
                      downgrades: dict[int, Downgrade] | None = None) -> ConfirmRequest:
    """The dialog for a run: where, from and to which version, every step, transactions, warnings; for a
    revert, what each step's downgrade runs and the collections it touches."""
    up = plan.direction is Direction.UP
    count = len(plan.steps)
    noun = "migration" if count == 1 else "migrations"
    downgrades = downgrades or {}
    facts = [*facts,
             ("From version", version_text(plan.current_version) if plan.current_version else "none applied"),
             ("To version", version_text(plan.target_version or (None if up else 0)))]
    in_tx = [plan.uses_transactions and s.transactional for s in plan.steps]
    steps: list[str] = []
    if count == 1:
        step = plan.steps[0]
        facts += [("Migration", f"{version_text(step.version)} {short_name(step.name, step.version)}"),
                  ("Description", summary(step.description) or "(none)")]
        if step.version in downgrades:
            facts.append(("Touches", downgrades[step.version].touches))
    else:
        steps = [step_line(s, tx) + (f" · touches {downgrades[s.version].touches}" if s.version in downgrades else "")
                 for s, tx in zip(plan.steps, in_tx, strict=True)]
    sources = [(f"downgrade() of {s.name}, as the file has it (j/k scroll):", downgrades[s.version].source or "")
               for s in plan.steps if s.version in downgrades and downgrades[s.version].source]
    if plan.group and count > 1:
        facts.append(("Transaction", f"ONE for the whole run (group): all {count} {noun} and their records commit "
                                     "together, or none does"))
    elif all(in_tx):
        facts.append(("Transaction", "yes: the step and its record commit or roll back together"))
    elif not plan.uses_transactions:
        facts.append(("Transaction", "NO: this server has no transactions; a failure may leave partial work"))
    elif count == 1:
        facts.append(("Transaction", "NO: this migration opts out (transactional = False); a failure may "
                                     "leave partial work"))
    else:
        facts.append(("Transaction", "NOT for every step (see below); a failure may leave partial work"))
    title = f"Apply {count} {noun} to {database}?" if up else f"Revert {count} {noun} on {database}?"
    return ConfirmRequest(title, facts, steps, [*plan.warnings, *(extra_warnings or [])],
                          "Apply" if up else "Revert", typed=database if production else None, sources=sources,
                          rehearse_to=plan.target_version if up else None)


def plan_preview(plan: Plan) -> tuple[str, list[str]]:
    """What `p` shows: the head line and one line per step, warning and blocker."""
    lines = [step_line(s) for s in plan.steps]
    lines += [f"warning: {w}" for w in plan.warnings] + [f"blocked: {b}" for b in plan.blockers]
    if plan.group and plan.steps:
        lines.append("group: one transaction for the whole run: every step commits, or none does")
    head = (f"'up all' would run {len(plan.steps)} step(s): {version_label(plan.current_version)} -> "
            f"{version_text(plan.target_version)}" if plan.steps else "'up all' has nothing to run")
    return head, lines


def run_summary(result: RunResult) -> str:
    done = result.completed
    if not done:
        return "nothing to do"
    verb = "applied" if result.plan.direction is Direction.UP else "reverted"
    names = ", ".join(r.step.name for r in done)
    return f"{verb} {names}; now at version {version_label(result.current_version)}"


def refresh_summary(report: RefreshReport) -> str:
    parts = []
    for label, items in (("new", report.new), ("updated", report.updated), ("removed", report.removed),
                         ("drift", report.drift), ("orphan", report.orphans), ("kept", report.kept),
                         ("out of order", report.out_of_order), ("broken", report.broken)):
        if items:
            parts.append(f"{len(items)} {label}")
    return "refreshed: " + (", ".join(parts) if parts else "no changes")
