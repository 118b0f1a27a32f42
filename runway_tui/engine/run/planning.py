"""A plan as the engine makes it: the planner's steps (engine/planner.py), then `--group`'s own blockers."""

from __future__ import annotations

import dataclasses

from runway_tui.engine.errors import UsageError
from runway_tui.engine.models import Direction, Plan, StatusReport
from runway_tui.engine.planner import plan_steps


def make_plan(report: StatusReport, direction: Direction, supports_transactions: bool, group: bool,
              no_transactions: str, *, steps: int | None = None, to: int | None = None, all_: bool = False,
              ignore_drift: bool = False, allow_out_of_order: bool = False) -> Plan:
    """`group`: the whole run in one transaction; `no_transactions`: why the server cannot, in words naming it."""
    plan = plan_steps(report, direction, steps=steps, to=to, all_=all_, ignore_drift=ignore_drift,
                      allow_out_of_order=allow_out_of_order, supports_transactions=supports_transactions)
    if group:
        plan = dataclasses.replace(plan, group=True)
        plan.blockers.extend(group_blockers(plan, supports_transactions, no_transactions))
    return plan


def group_blockers(plan: Plan, supports_transactions: bool, no_transactions: str) -> list[str]:
    """Why this run cannot be one transaction: a file opts out of them. A server without transactions cannot
    do it at all: a usage error (exit 2), whatever the database holds."""
    if not plan.steps:
        return []
    if not supports_transactions:
        raise UsageError(f"--group runs the whole run in one transaction, and {no_transactions}")
    return [f"--group: {s.name} sets transactional = False, so it cannot run inside the run's transaction; "
            "drop --group, or run it on its own first" for s in plan.steps if not s.transactional]
