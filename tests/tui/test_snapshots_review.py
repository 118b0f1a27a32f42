"""SVG snapshots of the screens issue 18 changed, at 80x24 and 120x36 (regenerate deliberately:
--snapshot-update): pane 1 with whole names and its wide view, the plan that can run, the revert that shows its
downgrade, the audit pane filtered, and the state at a moment."""

from __future__ import annotations

import pytest

from tests.tui.test_snapshots import applied_project, snapshot  # noqa: F401 - the fixture is used by name

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]


@pytest.mark.parametrize("size", SIZES)
def test_wide_view(snap_compare, applied_project, size):  # noqa: F811
    assert snapshot(snap_compare, applied_project, size, press=["ctrl+w"])


@pytest.mark.parametrize("size", SIZES)
def test_plan_that_can_run(snap_compare, applied_project, size):  # noqa: F811
    assert snapshot(snap_compare, applied_project, size, press=["p"])


@pytest.mark.parametrize("size", SIZES)
def test_revert_shows_its_downgrade(snap_compare, applied_project, size):  # noqa: F811
    assert snapshot(snap_compare, applied_project, size, press=["d"])


@pytest.mark.parametrize("size", SIZES)
def test_audit_filtered(snap_compare, applied_project, size):  # noqa: F811
    assert snapshot(snap_compare, applied_project, size,
                    press=["3", "slash", *"action:up user:alice", "enter"])


@pytest.mark.parametrize("size", SIZES)
def test_state_at_a_moment(snap_compare, applied_project, size):  # noqa: F811
    assert snapshot(snap_compare, applied_project, size, press=["3", "t", "enter"])
