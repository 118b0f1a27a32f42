"""SVG snapshots of the screens added for the whole workflow (regenerate deliberately: --snapshot-update):
the status filter with broken and failed rows, the override offered for drift, a long confirmation."""

from __future__ import annotations

import pytest

from tests.tui.test_snapshots import applied_project, snapshot  # noqa: F401 - the fixture is used by name

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]


@pytest.fixture
def troubled_project(applied_project):  # noqa: F811
    """Two applied, 002 edited afterwards (drift), one pending, one broken file."""
    path = applied_project.scripts_dir / "002_index_things.py"
    path.write_text(path.read_text() + "# edited after it was applied\n")
    (applied_project.scripts_dir / "004_broken.py").write_text('"""Half written."""\nversion = 4\n')
    return applied_project


@pytest.mark.parametrize("size", SIZES)
def test_problems_filter(snap_compare, troubled_project, size):
    assert snapshot(snap_compare, troubled_project, size, press=["s", "s"])


@pytest.mark.parametrize("size", SIZES)
def test_override_drift_dialog(snap_compare, troubled_project, size):
    (troubled_project.scripts_dir / "004_broken.py").unlink()  # drift alone: the override is offered
    assert snapshot(snap_compare, troubled_project, size, press=["d"])  # down reverts the drifted 002


@pytest.mark.parametrize("size", SIZES)
def test_applications_list(snap_compare, applied_project, mongo_client, size):  # noqa: F811
    from runway_tui.engine.config import load_config
    from runway_tui.tui.app import RunwayApp
    from tests.support.waiting import wait_until_async
    from tests.tui.conftest import ADDRESS, fixed_clock, settle

    project = applied_project
    other_db = project.db_name[:40] + "_b"
    mongo_client.drop_database(other_db)
    text = project.config_path.read_text()
    block = text[text.index("  test:\n"):text.index("tui:")]
    project.config_path.write_text(text.replace("tui:", block.replace("  test:\n", "  staging:\n").replace(
        f"database: {project.db_name}", f"database: {other_db}").replace("production: false", "production: true")
        + "tui:", 1))  # the other one is production: its red badge shows in the list
    config = load_config(project.config_path)
    app = RunwayApp(config.app("test"), config.tui, read_only=False, clock=fixed_clock, address=ADDRESS,
                    poll_interval=3600, project_config=config)
    app.cursor_blink = False

    async def run_before(pilot) -> None:
        await settle(app, pilot)
        await pilot.press("a")
        await wait_until_async(lambda: all(p.server != "probing…" for p in app.screen.probes.values()) and not any(
            w.group == "apps-probe" and w.is_running for w in app.workers), "every application probed",
            pause=pilot.pause)
        await pilot.pause()

    try:
        assert snap_compare(app, run_before=run_before, terminal_size=size)
    finally:
        app.shutdown_engine()
        mongo_client.drop_database(other_db)


@pytest.mark.parametrize("size", SIZES)
def test_drift_diff(snap_compare, troubled_project, size):
    """The detail of a drifted migration: the applied source against the file now, as a coloured diff."""
    (troubled_project.scripts_dir / "004_broken.py").unlink()
    assert snapshot(snap_compare, troubled_project, size, press=["1", "g", "down", "enter"])  # 002: drifted


@pytest.fixture
def failed_project(applied_project, mongo_client):  # noqa: F811
    """003 failed halfway outside a transaction: its error and traceback are on its record."""
    from tests.tui.conftest import FAILING, normalise_durations, run_until_it_fails

    (applied_project.scripts_dir / "003_seed_things.py").write_text(FAILING.format(v=3))
    run_until_it_fails(applied_project)
    normalise_durations(mongo_client, applied_project.db_name)
    return applied_project


@pytest.mark.parametrize("size", SIZES)
def test_failed_step_traceback(snap_compare, failed_project, size):
    """The detail of a failed step: the stored error in its header, the traceback from the migration's frame on."""
    assert snapshot(snap_compare, failed_project, size, press=["1", "G", "enter"])
