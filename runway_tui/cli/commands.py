"""One function per subcommand; `run_command` turns engine errors into one line and an exit code."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runway_tui.cli.output import Printer, clip, first_line, fmt_time
from runway_tui.cli.run_report import EVENTS as RUN_EVENTS
from runway_tui.cli.run_report import RunReport
from runway_tui.cli.status_text import (
    attention,
    lock_text,
    print_header,
    print_problems,
    print_rows,
    problem_detail,
    running_text,
    stale_warnings,
)
from runway_tui.engine.app import MigrationApp
from runway_tui.engine.config import load_config, with_lock_wait
from runway_tui.engine.errors import BlockedError, ConfigError, ExitCode, RunwayError, UsageError
from runway_tui.engine.events import (
    LogEvent,
    StepAppliedEvent,
    StepFailedEvent,
    StepLogEvent,
    StepProgressEvent,
    StepStartedEvent,
)
from runway_tui.engine.messages import exception_line, one_line, print_traceback, safe_str
from runway_tui.engine.models import Direction, Plan
from runway_tui.engine.policy import Access, resolve_access
from runway_tui.engine.uri import scrub, scrub_uris
from runway_tui.engine.vocabulary import action_label, duration_label, version_label


def run_command(args: argparse.Namespace) -> int:
    printer = Printer(json_mode=args.json, json_lines=bool(getattr(args, "json_lines", False)))
    return printer.outcome(_run(args, printer))  # output that could not be written never fails a step


def _run(args: argparse.Namespace, printer: Printer) -> int:
    app: MigrationApp | None = None
    config: Any = None
    # the CLI prints the engine's warnings itself (as events): not a second time through logging's last resort
    logging.getLogger("runway_tui").addHandler(_SILENT)
    # SIGTERM (CI cancelling a job) must unwind like Ctrl-C so the lock is released and the daemon stopped.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        project = load_config(args.config)
        for note in project.notes:  # keys read but without meaning for us (a mongorunway.yaml): one line each
            printer.note(f"note: {note}", "yellow")
        config = with_lock_wait(project.app(args.app), getattr(args, "lock_wait", None))
        if args.command == "fleet" or (config.fleet is not None and args.command != "new"):  # cli/fleet.py
            from runway_tui.cli.fleet import cmd_fleet

            return cmd_fleet(args, config, printer)
        if args.command == "new":  # authoring needs no database
            return cmd_new(args, config, printer)
        if args.command == "embedded":  # about the daemon itself: no connection
            return cmd_embedded(args, config, printer)
        if args.command == "rehearse":  # production is only read, by the rehearsal's own reader
            from runway_tui.cli.rehearse import cmd_rehearse

            return cmd_rehearse(args, config, project, printer)
        app = MigrationApp(config, access=_access(args, config), front_end="cli")
        _attach_progress(app, printer)
        return HANDLERS[args.command](args, app, printer)
    except RunwayError as exc:
        # several config errors are several lines, in file order; any other error is one line
        problems = exc.problems if isinstance(exc, ConfigError) else [safe_str(exc)]
        lines = [one_line(problem, limit=MAX_ERROR_LINE, redact=_redactor(app, config)) for problem in problems]
        if args.debug:
            _print_traceback(exc, app, config)
        run = getattr(args, "run_report", None)  # up/down: the run's JSON, the same schema as on success
        if run is not None and getattr(args, "junit", None):
            _write_junit(args, run, app, config, "; ".join(lines), printer)
        if printer.json_mode:
            printer.json({"ok": False, "error": "; ".join(lines), "exit_code": int(exc.exit_code),
                          **({"errors": lines} if len(lines) > 1 else {}),
                          **(run.failure_json(args.command) if run is not None else {})})
        for line in lines:
            printer.error(line)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        printer.error("interrupted; the lock was released and nothing further was run")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:  # `runway-tui status | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.OK)
    except Exception as exc:  # a bug: still one line unless --debug
        if args.debug:
            _print_traceback(exc, app, config)
        detail = one_line(exception_line(exc), redact=_redactor(app, config))
        printer.error(f"internal error: {detail} (run with --debug for the traceback)")
        return int(ExitCode.STEP_FAILED)
    finally:
        logging.getLogger("runway_tui").removeHandler(_SILENT)
        if app is not None:
            app.close()


_SILENT = logging.NullHandler()
MAX_ERROR_LINE = 2000  # the error line may list the completed steps after the step's own bounded message


def _redactor(app: MigrationApp | None, config: Any = None) -> Callable[[str], str]:
    """Mask URIs and, once an application is selected, its secrets."""
    if app is not None:
        return app.redact
    secrets = list(getattr(config, "secrets", []) or [])
    return lambda text: scrub(text, secrets) if secrets else scrub_uris(text)


def _print_traceback(exc: BaseException, app: MigrationApp | None, config: Any = None) -> None:
    """`--debug`: the traceback, with every secret and URI password scrubbed (exception texts and source)."""
    with contextlib.suppress(OSError, ValueError):  # stderr on a full disk: the error line still follows
        print_traceback(exc, _redactor(app, config))


def _access(args: argparse.Namespace, config: Any) -> Access:
    return resolve_access(config, read_only_flag=bool(getattr(args, "read_only", False)),
                          write_flag=bool(getattr(args, "write", False)))


def _attach_progress(app: MigrationApp, printer: Printer) -> None:
    from runway_tui.cli.progress_bar import BackfillBar

    backfill = BackfillBar(printer)

    def on_event(event: Any) -> None:
        if isinstance(event, StepProgressEvent) and event.figures is not None:
            backfill.show(event.figures)  # a backfill: its bar (engine/backfill/progress.py says what it shows)
            return
        backfill.end()
        if isinstance(event, StepStartedEvent) and event.step:
            mode = "transaction" if event.in_transaction else "no transaction"
            printer.step_note(f"[{event.index}/{event.total}] {event.step.direction.value} {event.step.name} ({mode})")
        elif isinstance(event, StepAppliedEvent) and event.step:
            printer.step_note(f"      done in {duration_label(event.duration_ms)}", "green")
        elif isinstance(event, StepFailedEvent) and event.step and event.state == "paused":
            printer.step_note(f"      {event.error}; nothing done is lost", "yellow")
        elif isinstance(event, StepFailedEvent) and event.step:
            rolled = "rolled back" if event.rolled_back else f"NOT rolled back: state is {event.state or 'failed'}"
            printer.step_note(f"      failed ({rolled}): {event.error}", "red")
        elif isinstance(event, StepLogEvent):  # a migration's own output: stderr, in JSON mode too
            printer.log(f"      {event.message}")
        elif isinstance(event, StepProgressEvent) and event.total and event.done >= event.total:
            printer.note(f"      progress {event.done}/{event.total}")
        elif isinstance(event, LogEvent) and event.level in ("warning", "error"):
            printer.note(f"{event.level}: {event.message}", "yellow")  # a lock wait: said once, by the engine

    app.subscribe(on_event, StepStartedEvent, StepAppliedEvent, StepFailedEvent, StepLogEvent, StepProgressEvent,
                  LogEvent)


# ------------------------------------------------------------------------------------------- commands
def cmd_status(args: argparse.Namespace, app: MigrationApp, printer: Printer) -> int:
    lock = app.lock_info()
    report = app.status(lease=lock)  # the lease read once: the header and the running rows agree
    if args.json:
        printer.json({"ok": True, "application": app.name, "database": app.config.database,
                      "server": app.server_info, "read_only": app.read_only, "current_version": report.current_version,
                      "counts": report.counts(), "lock": lock, "migrations": [r.to_json() for r in report.rows]})
        return ExitCode.OK
    print_header(app, report, printer, lock_text=lock_text(lock))
    print_rows(report, printer)
    print_problems(report, printer)
    return ExitCode.OK


def cmd_check(args: argparse.Namespace, app: MigrationApp, printer: Printer) -> int:
    """Exit 4 when anything needs attention: a problem on a row, or anything else that blocks the plan `up --all`
    (so `check` never passes while `plan` and `up` refuse). A running step and a pending record whose file was
    deleted are shown (a note, a warning) but pass."""
    report = app.status()
    problems = attention(report)
    running = tuple(f"{r.name} (version {r.version}) is running" for r in report.running)
    try:
        planned = app.plan(Direction.UP, all_=True, report=report).blockers
    except UsageError as exc:  # the application's settings cannot run at all here (group: true, no transactions)
        planned = [str(exc)]
    blockers = [b for b in planned if not b.startswith(running)]
    ok = report.is_clean and not blockers
    code = ExitCode.OK if ok else ExitCode.VALIDATION_FAILED
    if args.json:
        printer.json({"ok": ok, "exit_code": int(code), "counts": report.counts(),
                      "problems": [{"version": r.version, "name": r.name, "problem": p.value,
                                    "detail": problem_detail(r, p)} for r, p in problems],
                      "warnings": stale_warnings(report),
                      "running": [{"version": r.version, "name": r.name, "detail": running_text(r)}
                                  for r in report.running],
                      "blockers": blockers})
        return code
    if ok:
        running_now = f", {len(report.running)} running" if report.running else ""
        printer.line(f"ok: {len(report.applied)} applied, {len(report.pending)} pending{running_now}, no problems")
    print_problems(report, printer)
    if report.is_clean and blockers:  # nothing on a row: the plan's own reasons
        printer.line()
        for blocker in blockers:
            printer.line(printer.paint(f"! blocked: {blocker}", "red"))
    return code


def cmd_plan(args: argparse.Namespace, app: MigrationApp, printer: Printer) -> int:
    plan = app.plan(Direction.UP, all_=True)
    return _show_plan(plan, args, printer, dry_run=True)


def cmd_step(args: argparse.Namespace, app: MigrationApp, printer: Printer) -> int:
    direction = Direction(args.command)
    everything = direction is Direction.UP and args.steps is None and args.to is None and not args.all_
    request: dict[str, Any] = {"steps": args.steps, "to": args.to, "all_": args.all_ or everything,
                               "ignore_drift": args.ignore_drift, "group": args.group}
    if direction is Direction.UP:
        request["allow_out_of_order"] = args.allow_out_of_order
    if args.dry_run:
        return _show_plan(app.plan(direction, **request), args, printer, dry_run=True)
    if args.junit:
        _check_writable(args.junit)
    run = RunReport(printer.event if printer.json_lines else None)
    args.run_report = run  # a failure's JSON and JUnit report are written by run_command
    app.subscribe(run, *RUN_EVENTS)
    runner: Callable[..., Any] = app.upgrade if direction is Direction.UP else app.downgrade
    result = runner(**request)
    if args.junit:
        _write_junit(args, run, app, app.config, None, printer)
    if printer.json_mode:
        printer.json(run.success_json(result))
        return ExitCode.OK
    if not result.completed:
        printer.line(f"nothing to {'apply' if direction is Direction.UP else 'revert'}; "
                     f"current version {_v(result.current_version)}")
        if getattr(args, "mongorunway_verb", None) and app.config.fail_when_nothing_to_do:
            printer.error(f"nothing to {args.mongorunway_verb} (raise_on_transaction_failure is true in "
                          f"{app.config.config_path.name})")
            return ExitCode.STEP_FAILED
    else:
        verb = "applied" if direction is Direction.UP else "reverted"
        printer.line(f"{verb} {len(result.completed)} migration(s); current version {_v(result.current_version)}")
    return ExitCode.OK


def _check_writable(path_text: str) -> None:
    """`--junit FILE` fails before the run, not after it, when the report cannot be written."""
    path = Path(path_text)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise UsageError(f"--junit {path_text}: cannot write the report there: "
                         f"{exc.strerror.lower() if exc.strerror else exc}") from None


def _write_junit(args: argparse.Namespace, run: RunReport, app: MigrationApp | None, config: Any, error: str | None,
                 printer: Printer) -> None:
    name = getattr(config, "name", "?")
    database = getattr(config, "database", "?")
    try:
        run.write_junit(Path(args.junit), suite=f"runway-tui {args.command} ({name}, database {database})",
                        classname=f"runway.{name}.{args.command}", error=error)
    except OSError as exc:  # a full disk after the run: lost output, exit 6 after a success (README)
        printer.error(f"--junit {args.junit}: cannot write the report: {exc.strerror or exc}")
        printer.writer.lost.setdefault("--junit", str(exc.strerror or exc))


def cmd_new(args: argparse.Namespace, config: Any, printer: Printer) -> int:
    from runway_tui.engine.errors import ReadOnlyError
    from runway_tui.engine.scripts import ScriptDirectory, name_note

    access = _access(args, config)
    if access.read_only:
        raise ReadOnlyError(f"application {config.name!r} is read-only: refusing to create a migration file "
                            f"({access.reason})")
    path = ScriptDirectory.for_app(config, cached=False).create_template(args.name, args.description)
    note = name_note(args.name)
    if note:
        printer.note(f"note: {note}")
    if args.json:
        printer.json({"ok": True, "path": str(path)})
    else:
        printer.line(f"created {path}")
    return ExitCode.OK


def cmd_embedded(args: argparse.Namespace, config: Any, printer: Printer) -> int:
    from runway_tui.engine.embedded import EmbeddedServer

    if not config.is_embedded:
        printer.error(f"{config.config_path}: applications.{config.name}.uri is not 'embedded': there is no embedded "
                      "database to stop")
        return int(ExitCode.BAD_INPUT)
    stopped = EmbeddedServer(config.embedded_dir, config.timeouts.embedded_start_s).stop_now()
    if args.json:
        printer.json({"ok": True, "stopped": stopped is not None, "pid": stopped["pid"] if stopped else None})
    elif stopped:
        printer.line(f"stopped the embedded database (pid {stopped['pid']})")
    else:
        printer.line("the embedded database was not running")
    return int(ExitCode.OK)


def cmd_refresh(args: argparse.Namespace, app: MigrationApp, printer: Printer) -> int:
    report = app.refresh()
    if args.json:
        printer.json({"ok": True, **report.to_json()})
        return ExitCode.OK
    parts = [("new", report.new), ("updated (pending, file changed)", report.updated),
             ("removed (pending, file deleted)", report.removed), ("drift (applied, file changed)", report.drift),
             ("orphans (file missing)", report.orphans),
             ("kept (pending; a file that may be its own exists, fix it)", report.kept),
             ("out of order", report.out_of_order)]
    shown = False
    for label, versions in parts:
        if versions:
            printer.line(f"{label}: {', '.join(_v(v) for v in versions)}")
            shown = True
    for broken in report.broken:
        printer.line(f"broken: {broken}")
        shown = True
    if report.orphans:
        printer.line("orphans are kept: restore their files, or remove a record with 'runway-tui forget VERSION'")
    if not shown:
        printer.line("in sync: nothing new")
    return ExitCode.OK


def cmd_history(args: argparse.Namespace, app: MigrationApp, printer: Printer) -> int:
    if getattr(args, "at", None) is not None:
        return _state_at(args, app, printer)
    where = app.audit_log.audit_filter(since=getattr(args, "since", None), until=getattr(args, "until", None),
                                       user=getattr(args, "user", None), action=getattr(args, "action", None))
    found = app.history(limit=args.limit + 1, version=args.version_filter,
                        ascending=getattr(args, "ascending", False), since=where.since, until=where.until,
                        user=getattr(args, "user", None), action=getattr(args, "action", None))
    entries, more = found[:args.limit], len(found) > args.limit
    if args.json:
        printer.json({"ok": True, "filter": where.to_json(), "more": more,
                      "entries": [_entry_json(e) for e in entries]})
        return ExitCode.OK
    rows, colours = [], []
    for e in entries:
        model = e.migration_read_model
        result = "ok" if e.succeeded else f"{e.exc_name}: {e.exc_message}"
        if e.succeeded and e.detail:
            result = f"ok: {e.detail}"
        rows.append([fmt_time(e.date), action_label(e.transaction_name), model.name if model else "-",
                     clip(result, 60), duration_label(e.duration_ms),
                     f"{e.user}@{e.host}" if e.user else "-", e.client or ""])
        colours.append("" if e.succeeded else "red")
    if not where.empty:
        printer.line(f"audit log {where.describe()} (newest first)")
    if not rows:
        printer.line("no audit entry matches" if not where.empty else "the audit log is empty")
        return ExitCode.OK
    printer.table(["DATE (UTC)", "ACTION", "MIGRATION", "RESULT", "DURATION", "BY", "CLIENT"], rows, colours)
    if more:
        printer.note(f"the newest {args.limit} shown; more match (--limit N shows more)")
    return ExitCode.OK


def _state_at(args: argparse.Namespace, app: MigrationApp, printer: Printer) -> int:
    """`history --at TIME`: the versions applied at that moment, from the audit log."""
    state = app.state_at(args.at)
    if args.json:
        printer.json({"ok": True, **state.to_json()})
        return ExitCode.OK
    applied = state.applied
    printer.line(f"state at {fmt_time(state.at)} UTC, from the audit log: version {_v(state.current_version)} "
                 f"({len(applied)} applied)")
    if not state.versions:
        printer.line("no migration had been applied or changed by then")
        return ExitCode.OK
    rows = [[_v(v.version), v.name, v.state, fmt_time(v.since), v.action,
             f"{v.user}@{v.host}" if v.user else "-"] for v in state.versions]
    printer.table(["VERSION", "NAME", "STATE", "SINCE (UTC)", "ACTION", "BY"], rows,
                  ["green" if v.applied else "" for v in state.versions])
    return ExitCode.OK


def cmd_mark(args: argparse.Namespace, app: MigrationApp, printer: Printer) -> int:
    record = app.mark(args.version, applied=bool(args.applied))
    if args.json:
        printer.json({"ok": True, "version": record.version, "state": record.state.value})
    else:
        printer.line(f"marked {record.name} as {record.state.value}")
    return ExitCode.OK


def cmd_accept(args: argparse.Namespace, app: MigrationApp, printer: Printer) -> int:
    record = app.accept(args.version)
    if args.json:
        printer.json({"ok": True, "version": record.version, "checksum": record.checksum})
    else:
        printer.line(f"accepted {record.name}: checksum is now {record.checksum}")
    return ExitCode.OK


def cmd_baseline(args: argparse.Namespace, app: MigrationApp, printer: Printer) -> int:
    recorded = app.baseline(args.to)
    if args.json:
        printer.json({"ok": True, "to": args.to, "recorded": recorded})
    elif recorded:
        printer.line(f"baseline: recorded {len(recorded)} migration(s) as applied up to version {args.to} "
                     "(nothing was run)")
    else:
        printer.line(f"baseline: every version up to {args.to} was already applied")
    return ExitCode.OK


def cmd_version(args: argparse.Namespace, app: MigrationApp, printer: Printer) -> int:
    report = app.status()
    recorded = sum(1 for r in report.rows if r.record is not None)
    if args.json:
        printer.json({"ok": True, "current_version": report.current_version, "applied": len(report.applied),
                      "recorded": recorded})
    else:
        printer.line(f"current version {_v(report.current_version)} ({len(report.applied)} applied of "
                     f"{recorded} recorded)")
    return ExitCode.OK


def cmd_forget(args: argparse.Namespace, app: MigrationApp, printer: Printer) -> int:
    record = app.forget(args.version)
    if args.json:
        printer.json({"ok": True, "version": record.version, "name": record.name, "was": record.state.value})
    else:
        printer.line(f"forgot the record of {record.name} (it was {record.state.value}); nothing was run")
    return ExitCode.OK


def cmd_unlock(args: argparse.Namespace, app: MigrationApp, printer: Printer) -> int:
    removed = app.unlock(force=args.force)
    if args.json:
        printer.json({"ok": True, "removed": removed})
    elif removed:
        printer.line(f"removed the lock held by {removed.holder}")
    else:
        printer.line("the lock is free")
    return ExitCode.OK


HANDLERS: dict[str, Callable[[argparse.Namespace, MigrationApp, Printer], int]] = {
    "status": cmd_status, "check": cmd_check, "plan": cmd_plan, "up": cmd_step, "down": cmd_step,
    "refresh": cmd_refresh, "history": cmd_history, "mark": cmd_mark, "accept": cmd_accept, "unlock": cmd_unlock,
    "forget": cmd_forget, "baseline": cmd_baseline, "version": cmd_version,
}


# ------------------------------------------------------------------------------------------- helpers
def _show_plan(plan: Plan, args: argparse.Namespace, printer: Printer, dry_run: bool) -> int:
    code = ExitCode.VALIDATION_FAILED if plan.blockers else ExitCode.OK
    if args.json:
        printer.json({"ok": not plan.blockers, "dry_run": dry_run, **plan.to_json()})
        return code
    verb = "apply" if plan.direction is Direction.UP else "revert"
    if not plan.steps:
        printer.line(f"nothing to {verb}; current version {_v(plan.current_version)}")
    else:
        printer.line(f"would {verb} {len(plan.steps)} migration(s): {_v(plan.current_version)} -> "
                     f"{_v(plan.target_version)} (dry run: nothing was run)")
        in_txn = "group" if plan.group else "yes"
        rows = [[plan.direction.value, _v(s.version), s.name, clip(first_line(s.description), 50),
                 in_txn if s.transactional and plan.uses_transactions else "no"] for s in plan.steps]
        printer.table(["STEP", "VERSION", "NAME", "DESCRIPTION", "TRANSACTION"], rows)
        if plan.group:
            printer.line(f"--group: one transaction for the whole run: all {len(plan.steps)} migration(s) commit "
                         "together, or none does")
    for warning in plan.warnings:
        printer.line(f"warning: {warning}", "yellow")
    for blocker in plan.blockers:
        printer.line(f"blocked: {blocker}", "red")
    return code


def _entry_json(entry: Any) -> dict[str, Any]:
    doc = entry.to_document()
    doc["session_id"] = entry.session_id.as_uuid().hex if entry.session_id is not None else None
    doc["succeeded"] = entry.succeeded
    return doc


def _v(version: int | None) -> str:
    return version_label(version)  # as the TUI shows it


__all__ = ["BlockedError", "run_command"]
