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
from runway_tui.engine.models import Direction, LockInfo, StatusReport
from runway_tui.tui.state import (
    AUDIT_EVERY,
    Activity,
    Connection,
    OperationName,
    Outcome,
    PlanRequest,
    Reason,
    Snapshot,
    SnapshotDecision,
    UiState,
    decide,
    outcome_of,
)

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


# ---------------------------------------------------------------------- what a state read changes (decide)
def _snapshot(version: int | None, read_at: float, *, rows: int = 0, lock: LockInfo | None = None) -> Snapshot:
    """A state whose `rows` stand for the records (compared as values: a different count is a change)."""
    return Snapshot(StatusReport([None] * rows, version), lock, read_at)  # type: ignore[list-item]


LOCK = LockInfo("o", "ann", "ops-1", 1, None, None, "up", expired=False)


def test_an_older_read_never_replaces_a_newer_one():
    assert decide(_snapshot(5, 2.0), _snapshot(4, 1.0), Reason.STEP, busy=False, polls=0) == SnapshotDecision(False)


def test_the_first_state_and_our_own_reads_are_only_shown():
    for reason in Reason:
        assert decide(None, _snapshot(1, 1.0), reason, busy=False, polls=0) == SnapshotDecision(True)
    for reason in (r for r in Reason if not r.elsewhere):
        assert decide(_snapshot(1, 1.0), _snapshot(2, 2.0, rows=1), reason, busy=False, polls=0) == \
            SnapshotDecision(True)


@pytest.mark.parametrize("reason", [Reason.POLL, Reason.WATCH])
def test_a_version_moved_elsewhere_is_said_once_unless_we_are_busy(reason):
    decision = decide(_snapshot(1, 1.0, rows=1), _snapshot(2, 2.0, rows=2), reason, busy=False, polls=1)
    assert decision.moved == (1, 2) and decision.reload_overview
    assert decide(_snapshot(1, 1.0, rows=1), _snapshot(2, 2.0, rows=2), reason, busy=True, polls=1).moved is None


def test_a_poll_reloads_the_audit_page_when_something_changed_or_every_few_polls():
    same = (_snapshot(3, 1.0, rows=3), _snapshot(3, 2.0, rows=3))
    quiet = [decide(*same, Reason.POLL, busy=False, polls=n).reload_audit for n in range(1, AUDIT_EVERY * 2 + 1)]
    assert quiet.count(True) == 2 and quiet[AUDIT_EVERY - 1]  # every AUDIT_EVERY-th poll, nothing else
    assert decide(*same, Reason.POLL, busy=False, polls=1) == SnapshotDecision(True)  # nothing moved, nothing to do
    locked = decide(same[0], _snapshot(3, 2.0, rows=3, lock=LOCK), Reason.POLL, busy=False, polls=1)
    assert locked.reload_audit and locked.reload_overview and locked.moved is None  # the lock is a change


def test_the_stream_reloads_the_audit_page_itself():
    """A change stream's reload reads the audit page when the stream saw it change (`LiveReloadDone`)."""
    decision = decide(_snapshot(1, 1.0, rows=1), _snapshot(2, 2.0, rows=2), Reason.WATCH, busy=False,
                      polls=AUDIT_EVERY)
    assert not decision.reload_audit and decision.reload_overview


def test_an_operations_read_has_its_reason():
    assert OperationName.NEW.reason is Reason.NEW_FILE
    assert {op.reason for op in OperationName if op.is_step} == {Reason.STEP}
    assert {op for op in OperationName if op.reason is Reason.USER} == set(OperationName) - {
        OperationName.NEW, OperationName.UP, OperationName.DOWN}


def test_a_step_s_progress_leaves_the_keys_as_they_are():
    """The footer is rebuilt only when what enables a key changed (tui/guard.py reads these)."""
    running = UiState(False).reached().begin(Activity.RUNNING, "running up to 2")
    assert running.progress("running up 0002_b").keys == running.keys
    assert running.finish().keys != running.keys and running.lost().keys != running.keys
