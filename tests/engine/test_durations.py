"""One duration per step: what the live log and the CLI say when a step ends is what its record and audit entry
say (the step's own time, measured once), in one format for every front end."""

from __future__ import annotations

from runway_tui.engine.events import StepAppliedEvent
from tests.engine.helpers import data_migration


def test_the_step_event_reports_the_recorded_duration_even_when_the_commit_is_slow(app, project, mongo_client):
    project.write_migration(1, "a", data_migration(1))
    said: list[int] = []
    app.subscribe(lambda event: said.append(event.duration_ms), StepAppliedEvent)
    mongo_client.admin.command("configureFailPoint", "failCommand", mode={"times": 1},
                               data={"failCommands": ["commitTransaction"], "appName": "runway-tui",
                                     "blockConnection": True, "blockTimeMS": 400})
    try:
        result = app.upgrade()
    finally:
        mongo_client.admin.command("configureFailPoint", "failCommand", mode="off")
    (entry,) = app.history()
    record = app.repository.get(1)
    assert said == [entry.duration_ms] == [record.duration_ms] == [result.completed[0].duration_ms]


def test_one_duration_format():
    from runway_tui.engine.vocabulary import duration_label

    assert [duration_label(ms) for ms in (None, 0, 999, 1000, 10_500, 12_060, 59_949, 60_000, 303_000,
                                          3_725_000)] == [
        "", "0 ms", "999 ms", "1.0 s", "10.5 s", "12.1 s", "59.9 s", "1 min 00 s", "5 min 03 s", "1 h 02 min"]
