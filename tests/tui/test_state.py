"""The UI state's transitions, without a terminal; and the front end's contract with the engine."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from runway_tui.engine.errors import (
    BlockedError,
    DatabaseMovedError,
    EmbeddedServerError,
    LockTimeoutError,
    LockWaitCancelledError,
    ReadOnlyError,
    ServerUnreachableError,
    StepFailedError,
    UsageError,
)
from runway_tui.engine.models import Direction
from runway_tui.tui.state import Activity, Connection, Outcome, PlanRequest, UiState, outcome_of

TUI = Path(__file__).resolve().parents[2] / "runway_tui" / "tui"


def test_starts_connecting_and_idle():
    state = UiState(read_only=False)
    assert state.connection is Connection.CONNECTING and state.busy is None
    assert state.write_refusal() == "not connected (r retries)"


def test_every_end_clears_busy_planning_included():
    state = UiState(False).reached().begin(Activity.PLANNING, "planning up to 50")
    assert state.write_refusal() == "busy: planning up to 50"
    for outcome in Outcome:
        assert state.finish(outcome).busy is None


def test_a_lost_connection_ends_the_operation_and_disconnects():
    state = UiState(False).reached().begin(Activity.RUNNING, "running up to 003").finish(Outcome.CONNECTION_LOST)
    assert state.busy is None and state.connection is Connection.DISCONNECTED


def test_only_running_steps_make_quitting_wait():
    base = UiState(False).reached()
    assert base.begin(Activity.RUNNING, "running up to 003").running_step
    assert not base.begin(Activity.PLANNING, "planning up").running_step
    assert not base.begin(Activity.WRITING, "marking 002").running_step


def test_progress_keeps_the_activity():
    state = UiState(False).reached().begin(Activity.RUNNING, "running up to 003").progress("running 002 (3/10)")
    assert state.busy is not None and state.busy.activity is Activity.RUNNING
    assert UiState(False).progress("x").busy is None  # no operation: progress changes nothing


def test_read_only_refuses_writes_first_but_allows_reads():
    state = UiState(read_only=True).reached()
    assert state.write_refusal().startswith("read-only")
    assert state.read_refusal() is None


def test_an_outage_is_told_once_and_forgotten_on_reconnect():
    state = UiState(False).lost().told()
    assert state.lost().told_unreachable
    assert not state.reached().told_unreachable


@pytest.mark.parametrize(("error", "outcome"), [
    (ServerUnreachableError("x"), Outcome.CONNECTION_LOST),
    (EmbeddedServerError("x"), Outcome.CONNECTION_LOST),
    (DatabaseMovedError("x"), Outcome.DATABASE_MOVED),
    (BlockedError("x"), Outcome.BLOCKED),
    (LockTimeoutError("x"), Outcome.LOCK_TIMEOUT),
    (ReadOnlyError("x"), Outcome.REFUSED),
    (StepFailedError("x"), Outcome.FAILED),
    (UsageError("x"), Outcome.FAILED),
    (RuntimeError("a bug"), Outcome.FAILED),
    (None, Outcome.OK),
])
def test_outcomes_come_from_error_types(error, outcome):
    assert outcome_of(error) is outcome


def test_plan_request_labels():
    assert PlanRequest(Direction.UP, to=50).label == "planning up to 50"
    assert PlanRequest(Direction.DOWN, steps=1).label == "planning down"
    assert PlanRequest(Direction.UP, all_=True, preview=True).label == "planning"


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_tui_imports_neither_pymongo_nor_bson():
    offenders = {str(p.relative_to(TUI)): sorted(imported_modules(p) & {"pymongo", "bson"})
                 for p in TUI.rglob("*.py") if imported_modules(p) & {"pymongo", "bson"}}
    assert offenders == {}


def test_no_tui_class_exceeds_400_lines():
    long = {}
    for path in TUI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > 400:
                long[f"{path.name}:{node.name}"] = node.end_lineno - node.lineno + 1
    assert long == {}


def test_no_handler_compares_busy_labels_or_error_texts():
    for path in TUI.rglob("*.py"):
        text = path.read_text()
        assert 'busy.startswith("running")' not in text, path
        assert '"cannot reach" in' not in text, path


def test_a_lock_wait_is_cancellable_until_the_lock_is_taken():
    state = UiState(False).reached().begin(Activity.RUNNING, "running up to 001")
    waiting = state.waiting_for_lock("waiting 3s for the lock held by bob@box · esc cancels")
    assert waiting.lock_wait and waiting.busy is not None and waiting.busy.activity is Activity.RUNNING
    assert not waiting.lock_taken().lock_wait
    assert not waiting.progress("running up 001").lock_wait
    assert not waiting.finish(Outcome.CANCELLED).lock_wait
    assert outcome_of(LockWaitCancelledError("x")) is Outcome.CANCELLED
