"""What the engine's events and an operation's end change on screen: the live log, the running row, the
header's label, and which reads follow. Functions over `Host`, called by the app's message handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runway_tui.tui.bridge import Drained, LogEntry
from runway_tui.tui.components.database_pane import OVERVIEW_SETTLE_S
from runway_tui.tui.screens.error import ErrorScreen
from runway_tui.tui.state import OperationName, Outcome, Reason

if TYPE_CHECKING:
    from runway_tui.tui.host import Host
    from runway_tui.tui.messages import OperationFinished


def show_activity(host: Host, drained: Drained) -> None:
    """One drain of the event buffer: however many events a step sent, one pass over the panes."""
    log = host.main.live_log
    if drained.dropped:
        log.add([LogEntry("warning", drained.entries[0].time, f"{drained.dropped} log lines dropped (burst)")])
    log.add(drained.entries)
    if drained.progress is not None:
        log.show_progress(drained.progress)
    elif drained.step_ended:
        log.show_progress(None)
    if drained.running_changed:
        host.main.migrations.mark_running(drained.running)  # ▶ on its row (once it lasts), followed
    state = host.state
    if drained.progress is not None and state.busy is not None:
        state = state.progress(f"running {drained.progress.label}")
    if drained.lock_wait is not None and state.busy is not None:
        holder, waited = drained.lock_wait  # one line (the header) updated, not a log line per second
        state = state.waiting_for_lock(f"waiting {waited:.0f}s for the lock held by {holder} · esc cancels")
    elif drained.lock_changed and state.lock_wait:
        state = state.lock_taken()
    host.set_state(state)  # one header update for the whole drain
    _reads_after(host, drained)


def _reads_after(host: Host, drained: Drained) -> None:
    if drained.state_changed and host.state.busy is None:
        host.load_state(Reason.CHANGED)
        host.reload_audit()
        host.request_overview(OVERVIEW_SETTLE_S, after_step=True)
    elif drained.step_ended and drained.more_steps and host.state.running_step and host.engine is not None:
        host.load_state(Reason.STEP)  # a run of several steps: the header, pane 1 and the audit log follow
        host.reload_audit()  # each one (the last one's state comes with the run's result)
    elif drained.lock_changed and host.busy and host.engine is not None:
        host.load_lock()  # show our own lock in the header while the step runs (polls pause while busy)


def report_outcome(host: Host, message: OperationFinished) -> None:
    """The operation's one message: a log line and a toast, or a dialog for a failure."""
    operation = message.operation
    if message.outcome is Outcome.CANCELLED:
        host.log_line("info", f"{operation}: {message.error}")
        host.notify(f"{operation} cancelled; nothing was run", timeout=4, markup=False)
    elif message.outcome is Outcome.PAUSED:  # asked for (B): said, not a failure dialog
        host.log_line("warning", f"{operation}: {message.error}")
        host.notify(f"{message.error}", severity="warning", timeout=8, markup=False)
    elif message.outcome is Outcome.DATABASE_MOVED:
        host.log_line("warning", f"{operation}: {message.error}")
        key = "u" if operation is OperationName.UP else "d"
        host.notify(f"{(message.error or '').capitalize()}. Press {key} again for a fresh dialog.", severity="warning",
                    timeout=10, markup=False)  # who moved it, to what
    elif message.error:
        host.log_line("error", f"{operation}: {message.error}")
        if message.outcome is Outcome.CONNECTION_LOST:
            host.connection_lost(message.error, dialog=False)
        host.push_screen(ErrorScreen(f"{operation.capitalize()} failed", message.error, message.details))
    else:
        host.log_line("success", message.summary)
        host.notify(message.summary, timeout=4, markup=False)
