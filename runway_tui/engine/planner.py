"""Turning a request ("up 2", "down --to 3", "up --all") into the exact ordered steps, or refusing."""

from __future__ import annotations

from dataclasses import dataclass

from runway_tui.engine.errors import DatabaseMovedError, UsageError
from runway_tui.engine.models import Direction, Plan, Problem, StatusReport, StatusRow, Step
from runway_tui.engine.vocabulary import action_label, remedy


def plan_steps(report: StatusReport, direction: Direction, *, steps: int | None = None, to: int | None = None,
               all_: bool = False, ignore_drift: bool = False, allow_out_of_order: bool = False,
               supports_transactions: bool = False) -> Plan:
    """Compute the plan. Invalid requests raise UsageError; unsafe states become `blockers`."""
    chosen = sum(x is not None and x is not False for x in (steps, to, all_ or None))
    if chosen > 1:
        raise UsageError("give only one of --steps, --to and --all")
    if steps is not None and steps < 1:
        raise UsageError(f"--steps must be 1 or more, got {steps}")
    known = sorted({r.version for r in report.rows if r.version is not None})
    if to is not None and to != 0 and to not in known:
        listing = _ranges(known) or "none"
        raise UsageError(f"version {to} does not exist (known versions: {listing}); "
                         + (f"to revert everything: {remedy('down-to', 0)}" if direction is Direction.DOWN else
                            "create it or pick an existing one"))
    if to is not None and to < 0:
        raise UsageError(f"version must be 0 or more, got {to}")

    current = report.current_version
    in_the_way: set[str] = set()  # broken files the request would reach (up): they block, others only warn
    if direction is Direction.UP:
        candidates = report.pending + [r for r in report.paused if not r.is_applied and r.script is not None]
        broken = [r for r in report.rows if r.version is not None and Problem.BROKEN in r.problems
                  and r.script is not None and not r.is_applied]
        pool = sorted(candidates + broken, key=lambda r: (r.version or 0, r.name))
        if to is not None:
            if current is not None and to < current and all(r.version > to for r in candidates):
                raise UsageError(f"version {to} is below the current version {current}; to go down to it: "
                                 f"{remedy('down-to', to)}")
            selected = [r for r in pool if r.version <= to]  # type: ignore[operator]
        elif all_:
            selected = pool
        else:
            selected = pool[: steps or 1]
        in_the_way = {r.name for r in selected if Problem.BROKEN in r.problems}
        selected = [r for r in selected if Problem.BROKEN not in r.problems]
        step_list = _up_steps(selected, current)
        target = step_list[-1].to_version if step_list else current
    else:
        half_done = [r for r in report.paused if not r.is_applied]  # a paused upgrade reverts like an applied one
        applied = sorted(report.applied + half_done, key=lambda r: r.version or 0, reverse=True)
        if to is not None:
            if current is not None and to > current:
                raise UsageError(f"version {to} is above the current version {current}; to go up to it: "
                                 f"{remedy('up-to', to)}")
            selected = [r for r in applied if (r.version or 0) > to]
        elif all_:
            selected = applied
        else:
            selected = applied[: steps or 1]
        step_list = _down_steps(selected, applied)
        target = step_list[-1].to_version if step_list else current

    blockers, warnings = _check(report, direction, step_list, ignore_drift, allow_out_of_order, in_the_way)
    return Plan(direction=direction, steps=step_list, current_version=current, target_version=target,
                blockers=blockers, warnings=warnings, uses_transactions=supports_transactions)


@dataclass(frozen=True)
class Expected:
    """What a person confirmed: the version the run starts from and the exact versions it runs, in order.

    The engine checks it under the migration lock, after its own fresh plan: a confirmation binds to
    what it showed, never to a target that someone else has moved the database around."""

    from_version: int | None
    versions: tuple[int, ...]

    @classmethod
    def of(cls, plan: Plan) -> Expected:
        return cls(plan.current_version, tuple(s.version for s in plan.steps))


def check_expected(plan: Plan, expected: Expected) -> None:
    """Raise DatabaseMovedError unless `plan` (made under the lock) is exactly what was confirmed."""
    actual = Expected.of(plan)
    if actual == expected:
        return

    def show(e: Expected) -> str:
        start = f"{e.from_version:03d}" if e.from_version is not None else "none applied"
        return f"from {start}, {' '.join(f'{v:03d}' for v in e.versions) or 'nothing'}"

    raise DatabaseMovedError(f"the database moved since the confirmation ({show(expected)} was confirmed; "
                             f"now {show(actual)}): nothing was run")


def _up_steps(selected: list[StatusRow], current: int | None) -> list[Step]:
    result, version = [], current
    for row in selected:
        assert row.script is not None and row.version is not None
        after = max(version or 0, row.version)
        result.append(Step(Direction.UP, row.version, row.name, row.description, row.script.transactional,
                           version, after))
        version = after
    return result


def _down_steps(selected: list[StatusRow], applied: list[StatusRow]) -> list[Step]:
    remaining = [r.version for r in applied]
    result = []
    for row in selected:
        assert row.version is not None
        before = max(remaining, default=None)
        remaining.remove(row.version)
        after = max(remaining, default=None)
        transactional = row.script.transactional if row.script else True
        result.append(Step(Direction.DOWN, row.version, row.name, row.description, transactional, before, after))
    return result


def _check(report: StatusReport, direction: Direction, steps: list[Step], ignore_drift: bool,
           allow_out_of_order: bool, in_the_way: set[str]) -> tuple[list[str], list[str]]:
    blockers: list[str] = []
    warnings: list[str] = []
    contradicted: list[StatusRow] = []
    in_plan = {s.version for s in steps}
    concerned = _concerned(report, direction, steps)
    for row in report.rows:
        label = f"{row.name} (version {row.version})" if row.version is not None else row.name
        problems = set(row.problems)
        if row.state == "running":
            blockers.append(f"{label} is running: {_activity(row)}; wait for it to finish (its runner releases the "
                            "migration lock when it does)")
        elif Problem.FAILED in problems:
            blockers.append(_unsettled(row, label))
        if Problem.DRIFT in problems:
            text = (f"{label} was changed after it was applied (checksum {row.stored_checksum} -> "
                    f"{row.current_checksum}); restore the file, or accept the edit: {remedy('accept', row.version)}")
            if row.version not in concerned:  # drift elsewhere does not hold up this run: it is said, not enforced
                warnings.append(text + " [not part of this run]")
            else:
                (warnings if ignore_drift else blockers).append(text + (" [ignored]" if ignore_drift else ""))
        if Problem.BROKEN in problems and row.script is not None:
            # up: a broken file blocks a request that would reach it (or one it cannot place: no version);
            # one above where the plan stops is only a warning
            reached = row.version is None or row.name in in_the_way
            if (direction is Direction.UP and reached) or row.version in in_plan:
                blockers.append(f"{row.script.path.name} is broken: {row.script.problem}")
            else:
                warnings.append(f"{row.script.path.name} is broken: {row.script.problem}")
        if Problem.ORPHAN in problems:
            if row.version in in_plan:
                blockers.append(f"{label} is applied but its file is missing; restore the file, or record it as "
                                f"reverted: {remedy('mark', row.version, 'pending')}")
            elif row.is_stale_record:
                warnings.append(f"{label} is pending but its file was deleted; the next sync removes its record")
            else:
                warnings.append(f"{label} is recorded but its file is missing; to remove the record: "
                                f"{remedy('forget', row.version)}")
        if Problem.AUDIT_MISMATCH in problems and row.audit is not None:
            contradicted.append(row)  # whatever the request: the records cannot be trusted
        if Problem.OUT_OF_ORDER in problems and row.version in in_plan and direction is Direction.UP:
            text = (f"{label} is pending but older than the current version {report.current_version} "
                    "(merged out of order)")
            if allow_out_of_order:
                warnings.append(text + " [allowed]")
            else:
                blockers.append(text + f"; to apply it anyway: {remedy('allow-out-of-order')}")
    return _contradictions(contradicted) + blockers, warnings


SHOWN_IN_FULL = 3  # a dropped migrations collection contradicts every version: name a few, count the rest


def _contradictions(rows: list[StatusRow]) -> list[str]:
    """The audit log's contradictions first (they say the records themselves cannot be trusted)."""
    shown = rows if len(rows) <= SHOWN_IN_FULL else rows[:SHOWN_IN_FULL - 1]
    blockers = [f"{r.name} (version {r.version}): {audit_mismatch(r)}" for r in shown]
    rest = rows[len(shown):]
    if rest:
        blockers.append(f"and {len(rest)} more versions whose records the audit log contradicts the same way "
                        f"({_ranges([r.version for r in rest if r.version is not None])}): settle each the same way")
    return blockers


def audit_mismatch(row: StatusRow) -> str:
    """What the audit log shows against what the record says, and the remedy (why every run is blocked)."""
    said = row.audit
    assert said is not None and row.version is not None
    applied = said.state == "applied"
    when = said.date.strftime("%Y-%m-%d %H:%M:%S") if said.date is not None else "?"
    verb, settle, rerun = ("applied", "applied", "pending") if applied else ("reverted", "pending", "applied")
    now = "is missing" if row.record is None else f"says {'applied' if row.is_applied else 'pending'}"
    return (f"the audit log shows it {verb} ({when} UTC by {said.user}@{said.host}, "
            f"{action_label(said.transaction_name)}) but its record {now}: the migrations collection was changed "
            "outside runway-tui (by hand or by a migration), so no run is started until it is settled: check the "
            f"data, then settle it: {remedy('mark-or-rerun', row.version, settle, rerun)}")


def _concerned(report: StatusReport, direction: Direction, steps: list[Step]) -> set[int]:
    """The versions a run concerns: its steps, and for down every version it reverts through (above its target,
    up to where it starts)."""
    versions = {s.version for s in steps}
    if direction is Direction.DOWN and steps:
        low, high = steps[-1].to_version or 0, steps[0].from_version or 0
        versions |= {r.version for r in report.rows if r.version is not None and low < r.version <= high}
    return versions


def _activity(row: StatusRow) -> str:
    """`up by alice@ops-1 (pid 4242, cli) since 2026-03-14 09:30:00 UTC, 40/100`."""
    activity = row.activity
    assert activity is not None
    who = f" by {activity.runner.label}" if activity.runner else ""
    since = activity.runner.since if activity.runner else None
    when = f" since {since:%Y-%m-%d %H:%M:%S} UTC" if since else ""
    progress = f", {activity.progress}" if activity.progress else ""
    return f"{activity.direction.value}{who}{when}{progress}"


def _unsettled(row: StatusRow, label: str) -> str:
    """A failed or interrupted step: what happened, and the remedy (the data must be checked by a person)."""
    resolve = f"check the database, then resolve it: {remedy('mark-either', row.version)}"
    if row.state == "interrupted" and row.activity is not None:
        return (f"{label} was interrupted: {_activity(row)} never finished, and {row.activity.gone}; its effects "
                f"may be partly applied: {resolve}")
    error = f": {row.record.error}" if row.record and row.record.error else ""
    return f"{label} is {row.state}{error}; {resolve}"


def _ranges(versions: list[int]) -> str:
    if len(versions) > 8:
        return f"{versions[0]}..{versions[-1]}"
    return ", ".join(str(v) for v in versions)
