"""The confirmation and the plan preview say when a run is one transaction (group mode)."""

from __future__ import annotations

from runway_tui.engine.models import Direction, Plan, Step
from runway_tui.tui.dialogs import plan_confirmation, plan_preview


def plan(group: bool) -> Plan:
    steps = [Step(Direction.UP, v, f"00{v}_m", f"Migration {v}.", True, v - 1 or None, v) for v in (1, 2, 3)]
    return Plan(Direction.UP, steps, None, 3, uses_transactions=True, group=group)


def test_the_confirmation_of_a_group_run_says_all_or_nothing():
    shown = plan_confirmation(plan(group=True), [], "shop", production=False)
    assert ("Transaction", "ONE for the whole run (group): all 3 migrations and their records commit together, "
                           "or none does") in shown.facts
    normal = plan_confirmation(plan(group=False), [], "shop", production=False)
    assert ("Transaction", "yes: the step and its record commit or roll back together") in normal.facts


def test_the_plan_preview_of_a_group_run_says_so():
    _head, lines = plan_preview(plan(group=True))
    assert lines[-1] == "group: one transaction for the whole run: every step commits, or none does"
