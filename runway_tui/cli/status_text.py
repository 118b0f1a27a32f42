"""What `status`, `check` and `plan` print about the migrations: the header, the table, the problems and their
remedies, a running or paused step, the lock. Text only: the commands decide what to show."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runway_tui.cli.output import Printer, clip, first_line, fmt_time
from runway_tui.engine.models import LockInfo, Problem, StatusReport, StatusRow
from runway_tui.engine.planner import audit_mismatch
from runway_tui.engine.vocabulary import version_label

if TYPE_CHECKING:
    from runway_tui.engine.app import MigrationApp

MARKS = {"applied": "✓", "pending": "·", "new": "·", "failed": "✗", "interrupted": "✗", "running": "▶",
         "broken": "!", "paused": "‖"}


def print_header(app: MigrationApp, report: StatusReport, printer: Printer, lock_text: str) -> None:
    info = app.server_info
    counts = report.counts()
    txn = "transactions" if info.supports_transactions else "no transactions"
    mode = " · READ-ONLY" if app.read_only else ""
    printer.line(f"application {app.name} · {info.address} · database {app.config.database}{mode}")
    printer.line(f"server {info.version} · {info.topology} ({txn}) · lock {lock_text}")
    printer.line(f"current version {version_label(report.current_version)} · {counts['applied']} applied · "
                 f"{counts['pending']} pending")
    printer.line()


def print_rows(report: StatusReport, printer: Printer) -> None:
    if not report.rows:
        printer.line("no migrations yet: create one with 'runway-tui new NAME'")
        return
    rows, colours = [], []
    for row in report.rows:
        state = "new" if Problem.UNRECORDED in row.problems else row.state  # not in the database yet: a state
        notes = ", ".join((row.state if p is Problem.FAILED else p.value).replace("_", " ")  # failed/interrupted
                          for p in row.problems if p is not Problem.UNRECORDED)
        record = row.record
        rows.append([MARKS.get(state, "?"), version_label(row.version), state, row.name,
                     clip(first_line(row.description), 40),
                     fmt_time(record.applied_at) if record else "", (record.applied_by or "") if record else "",
                     notes])
        serious = report.needs_attention(row) - {Problem.OUT_OF_ORDER}
        colours.append("red" if serious else "yellow" if Problem.OUT_OF_ORDER in row.problems or
                       state == "running" else "green" if row.is_applied else "")
    printer.table(["", "VERSION", "STATE", "NAME", "DESCRIPTION", "APPLIED AT (UTC)", "BY", "PROBLEMS"], rows, colours)


def attention(report: StatusReport) -> list[tuple[StatusRow, Problem]]:
    """What fails `check`, row by row, in table order."""
    return [(row, p) for row in report.rows for p in row.problems if p in report.needs_attention(row)]


def stale_warnings(report: StatusReport) -> list[str]:
    return [f"{row.name}: pending, but its file was deleted; the next sync (up, refresh) removes its record"
            for row in report.rows if row.is_stale_record]


def print_problems(report: StatusReport, printer: Printer) -> None:
    lines = [printer.paint(f"▶ {r.name} is running: {running_text(r)}", "yellow") for r in report.running]
    lines += [printer.paint(f"‖ {r.name} is {paused_text(r)}", "yellow") for r in report.paused]
    lines += [printer.paint(f"! {r.name}: {problem_detail(r, p)}", "red") for r, p in attention(report)]
    lines += [printer.paint(f"warning: {text}", "yellow") for text in stale_warnings(report)]
    if lines:
        printer.line()
        for text in lines:
            printer.line(text)


def paused_text(row: StatusRow) -> str:
    """`paused at 43% (86,000,000 of 200,000,000): cancelled by alice@host; run 'runway-tui up' to resume`."""
    checkpoint = row.record.backfill if row.record is not None else None
    if checkpoint is None:
        return "paused"
    why = {"signal": "interrupted", "cancel": f"cancelled by {checkpoint.paused_by}", "error": "a batch failed",
           "lease lost": "its runner lost the migration lock",
           "runner lost": "its runner died"}.get(checkpoint.reason or "", "its runner died")
    error = f" ({row.record.error})" if row.record is not None and row.record.error else ""
    verb = "up" if checkpoint.direction == "up" else "down"
    return (f"paused at {checkpoint.progress_text()}: {why}{error}; run 'runway-tui {verb}' to resume")


def running_text(row: StatusRow) -> str:
    """`up by alice@ops-1 (pid 4242, cli) since 2026-03-14 09:30:00 UTC, 40/100`."""
    activity = row.activity
    if activity is None:
        return ""
    runner = activity.runner
    since = f" since {fmt_time(runner.since)} UTC" if runner and runner.since else ""
    progress = f", {activity.progress}" if activity.progress else ""
    paused = f", paused by {activity.paused_by}" if activity.paused_by else ""
    return f"{activity.direction.value}{f' by {runner.label}' if runner else ''}{since}{progress}{paused}"


def lock_text(lock: LockInfo | None) -> str:
    if lock is None:
        return "free"
    since = f" since {fmt_time(lock.acquired_at)} UTC" if lock.acquired_at else ""
    dead = f" (looks dead: {lock.gone_reason()})" if lock.looks_dead or lock.expired else ""
    return f"held by {lock.who} for '{lock.operation}'{since}{dead}"


def problem_detail(row: StatusRow, problem: Problem) -> str:
    if problem is Problem.BROKEN and row.script:
        return f"broken file: {row.script.problem}"
    if problem is Problem.DRIFT:
        return (f"file changed after it was applied ({row.stored_checksum} -> {row.current_checksum}); "
                f"restore it or run 'runway-tui accept {row.version}'")
    if problem is Problem.ORPHAN:
        return (f"recorded in the database but the file is missing; restore it, or remove the record with "
                f"'runway-tui forget {row.version}'")
    resolve = f"resolve with 'runway-tui mark {row.version} --applied' or '--pending'"
    if problem is Problem.FAILED and row.state == "interrupted" and row.activity is not None:
        return (f"interrupted: {running_text(row)} never finished, and {row.activity.gone}; its effects may be partly "
                f"applied: check the data, then {resolve}")
    if problem is Problem.FAILED:
        error = f" ({row.record.error})" if row.record and row.record.error else ""
        return f"state {row.state}{error}: check the data, then {resolve}"
    if problem is Problem.OUT_OF_ORDER:
        return "pending but older than the current version (up needs --allow-out-of-order)"
    if problem is Problem.AUDIT_MISMATCH and row.audit is not None:
        return audit_mismatch(row)
    return problem.value
