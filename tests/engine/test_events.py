"""Events: subscription by annotation (incl. Union) or explicitly, failing handlers, ClosingEvent once."""

from __future__ import annotations

from typing import Union

import pytest

from runway_tui import (
    ClosingEvent,
    HandlerFailedEvent,
    LockAcquiredEvent,
    LockReleasedEvent,
    MigrationEvent,
    PlanComputedEvent,
    RefreshDoneEvent,
    StartingEvent,
    StateChangedEvent,
    StepAppliedEvent,
    StepFailedEvent,
    StepLogEvent,
    StepProgressEvent,
    StepStartedEvent,
)
from runway_tui.engine.errors import StepFailedError
from tests.engine.helpers import data_migration, migration, open_app

CHATTY_UP = """ctx.log("hello from the migration")
for i in range(1, 4):
    ctx.progress(i, 3)
ctx.db["things"].insert_one({"_id": 1}, session=ctx.session)"""


def test_listen_uses_the_annotation_and_union(app, project):
    seen: list[str] = []

    @app.listen()
    def on_started(event: StepStartedEvent) -> None:
        seen.append(f"started {event.step.version} {event.index}/{event.total} txn={event.in_transaction}")

    @app.listen()
    def on_end(event: Union[StepAppliedEvent, StepFailedEvent]) -> None:  # noqa: UP007 - the typing form
        seen.append(f"end {type(event).__name__}")

    @app.listen()
    def on_lock(event: LockAcquiredEvent | LockReleasedEvent) -> None:
        seen.append(f"lock {type(event).__name__}")

    project.write_migration(1, "a", data_migration(1))
    project.write_migration(2, "b", migration(2, up="raise RuntimeError('no')"))
    with pytest.raises(StepFailedError):
        app.upgrade(all_=True)
    assert seen == ["lock LockAcquiredEvent", "started 1 1/2 txn=True", "end StepAppliedEvent",
                    "started 2 2/2 txn=True", "end StepFailedEvent", "lock LockReleasedEvent"]


def test_explicit_subscription_and_full_event_stream(app, project):
    events: list[MigrationEvent] = []
    app.subscribe(events.append, MigrationEvent)
    project.write_migration(1, "chatty", migration(1, up=CHATTY_UP))
    app.refresh()
    app.upgrade()
    kinds = [type(e).__name__ for e in events if type(e).__name__ != "LogEvent"]
    assert kinds[:4] == ["LockAcquiredEvent", "LockReleasedEvent", "RefreshDoneEvent", "StateChangedEvent"]
    refresh = next(e for e in events if isinstance(e, RefreshDoneEvent))
    assert refresh.report.new == [1]
    run = kinds[4:]
    assert run[0] == "LockAcquiredEvent" and "PlanComputedEvent" in run
    assert run.index("StepStartedEvent") < run.index("StepLogEvent") < run.index("StepAppliedEvent")
    assert run[-2:] == ["StateChangedEvent", "LockReleasedEvent"] or run[-2:] == ["LockReleasedEvent",
                                                                                  "StateChangedEvent"]
    log = next(e for e in events if isinstance(e, StepLogEvent))
    assert log.message == "hello from the migration" and log.step.version == 1
    progress = [(e.done, e.total) for e in events if isinstance(e, StepProgressEvent)]
    assert progress[-1] == (3, 3)
    plan = next(e for e in events if isinstance(e, PlanComputedEvent))
    assert [s.version for s in plan.plan.steps] == [1]
    applied = next(e for e in events if isinstance(e, StepAppliedEvent))
    assert applied.application is app and applied.in_transaction


def test_failed_step_event_carries_the_exception_name(app, project):
    failures: list[StepFailedEvent] = []
    app.subscribe(failures.append, StepFailedEvent)
    project.write_migration(1, "boom", migration(1, up="raise ZeroDivisionError('zero')"))
    with pytest.raises(StepFailedError):
        app.upgrade()
    (event,) = failures
    assert event.exc_name == "ZeroDivisionError" and "zero" in event.error and event.rolled_back


def test_failing_handler_is_reported_and_the_migration_still_applies(app, project, mongo_client):
    reports: list[HandlerFailedEvent] = []
    app.subscribe(reports.append, HandlerFailedEvent)

    @app.listen()
    def broken_handler(event: StepStartedEvent) -> None:
        raise RuntimeError("handler bug")

    project.write_migration(1, "a", data_migration(1))
    assert app.upgrade_once() == 1
    assert mongo_client[project.db_name]["things"].count_documents({}) == 1
    (report,) = reports
    assert "broken_handler" in report.handler
    assert report.error == "RuntimeError: handler bug"
    assert isinstance(report.original, StepStartedEvent)


def test_closing_event_runs_exactly_once(project):
    closed: list[str] = []
    app = open_app(project)

    @app.listen()
    def on_close(event: ClosingEvent) -> None:
        closed.append(event.application.name)

    app.close()
    app.close()
    assert closed == ["test"]
    assert app.closed
    with open_app(project) as second:
        second.subscribe(lambda event: closed.append("ctx"), ClosingEvent)
    second.close()
    assert closed == ["test", "ctx"]


def test_unsubscribe_and_bad_handlers(app):
    calls: list[object] = []
    handler = app.subscribe(calls.append, StateChangedEvent)
    app.unsubscribe(handler)
    app.emit(StateChangedEvent(app, "x"))
    assert calls == []
    with pytest.raises(TypeError, match="annotate"):
        app.listen()(lambda event: None)
    with pytest.raises(TypeError, match="not an event type"):
        @app.listen()
        def wrong(event: int) -> None: ...


def test_starting_event_is_a_typed_event():
    assert issubclass(StartingEvent, MigrationEvent) and issubclass(ClosingEvent, MigrationEvent)
