"""SVG snapshots of the screens added for the whole workflow (regenerate deliberately: --snapshot-update):
the status filter with broken and failed rows, the override offered for drift, a long confirmation."""

from __future__ import annotations

import pytest

from tests.tui.test_snapshots import applied_project, snapshot  # noqa: F401 - the fixture is used by name

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]


@pytest.fixture
def troubled_project(applied_project):  # noqa: F811
    """Two applied, 001 edited afterwards (drift), one pending, one broken file."""
    path = applied_project.scripts_dir / "001_create_things.py"
    path.write_text(path.read_text() + "# edited after it was applied\n")
    (applied_project.scripts_dir / "004_broken.py").write_text('"""Half written."""\nversion = 4\n')
    return applied_project


@pytest.mark.parametrize("size", SIZES)
def test_problems_filter(snap_compare, troubled_project, size):
    assert snapshot(snap_compare, troubled_project, size, press=["s", "s"])


@pytest.mark.parametrize("size", SIZES)
def test_override_drift_dialog(snap_compare, troubled_project, size):
    (troubled_project.scripts_dir / "004_broken.py").unlink()  # drift alone: the override is offered
    assert snapshot(snap_compare, troubled_project, size, press=["u"])
