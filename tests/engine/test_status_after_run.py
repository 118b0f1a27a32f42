"""After a run the engine hands the new status to its front end from the run's own status and the records it
changed (one query by id), so the TUI does not rescan every file and re-read every record after each step."""

from __future__ import annotations

import pytest

from runway_tui.engine.errors import StepFailedError
from runway_tui.engine.models import StatusReport
from tests.engine.helpers import data_migration, migration, open_app


def shown(report: StatusReport) -> list[tuple]:
    """What the migrations pane shows of each row."""
    return [(r.version, r.name, r.state, r.is_applied, tuple(p.value for p in r.problems),
             r.record.error if r.record else None, r.record.applied_by if r.record else None) for r in report.rows]


def test_the_status_after_a_run_is_the_status_read_afresh(project, recorder):
    for version in (1, 2, 3):
        project.write_migration(version, f"m{version}", data_migration(version))
    with open_app(project) as app:
        app.upgrade(steps=2)
        recorder.clear()
        kept = app.take_status_after_run()
        assert kept is not None and recorder.names() == []  # computed with the run, nothing read now
        assert shown(kept) == shown(app.status())
        assert kept.current_version == 2
        assert app.take_status_after_run() is None  # once: a later change is for a fresh read
        app.downgrade()
        assert shown(app.take_status_after_run()) == shown(app.status())


def test_the_status_after_a_failed_run_shows_the_failure(project):
    project.write_migration(1, "ok", data_migration(1))
    project.write_migration(2, "fails", migration(2, up='raise ValueError("no")'))
    with open_app(project) as app:
        with pytest.raises(StepFailedError):
            app.upgrade(all_=True)
        kept = app.take_status_after_run()
        assert kept is not None and shown(kept) == shown(app.status())
        assert [r.record.error for r in kept.rows if r.version == 2] == ["ValueError: no"]


def test_another_operation_drops_the_kept_status(project):
    project.write_migration(1, "one", data_migration(1))
    with open_app(project) as app:
        app.upgrade()
        app.mark(1, applied=False)
        assert app.take_status_after_run() is None
