"""`runway-tui fleet status | plan | up | down | check | history`: every tenant database of a fleet application.

A front end over `engine/fleet/facade.py`'s `Fleet`: it parses flags and prints; the engine does every read
and write (this module never touches the driver).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from runway_tui.cli.output import Printer, clip, fmt_time
from runway_tui.engine.errors import ExitCode
from runway_tui.engine.fleet.pool import describe_request
from runway_tui.engine.fleet.targets import short_cluster
from runway_tui.engine.vocabulary import duration_label, version_label

RESULT_COLOURS = {"ok": "green", "unchanged": "", "failed": "red", "blocked": "red", "not_started": "yellow"}
STATE_COLOURS = {"up_to_date": "green", "pending": "yellow", "locked": "cyan", "problems": "red", "drift": "red",
                 "unreachable": "red", "error": "red"}

FLEET_HELP = """fleet commands (the application has a 'fleet:' block; see README, Fleet):
  fleet status     one line per tenant database (cluster, database, version, pending, problems, lock)
  fleet plan       what 'fleet up' would run on each tenant (never writes)
  fleet up         migrate every tenant (waves, --concurrency per cluster, --max-failures), joining a run in
                   progress unless --new; --resume RUN_ID resumes one
  fleet down       revert on every tenant (one step by default)
  fleet check      exit 4 if any tenant needs attention
  fleet history    the fleet's runs, newest first; --run RUN_ID: one run, tenant by tenant"""


def add_fleet_parser(command: Callable[[str, str], argparse.ArgumentParser],
                     common: Callable[[argparse.ArgumentParser, bool], None],
                     version_arg: Callable[[str], int], positive_int: Callable[[str], int]) -> None:
    """`fleet` and its subcommands (registered by cli/main.py)."""
    fleet = command("fleet", "every tenant database of a fleet application")
    fleet.epilog = FLEET_HELP
    fleet.formatter_class = argparse.RawDescriptionHelpFormatter
    sub = fleet.add_subparsers(dest="fleet_command", metavar="FLEET_COMMAND", required=True,
                               parser_class=type(fleet))

    def verb(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        common(p, True)
        if name != "history":
            p.add_argument("--only", nargs="+", metavar="DB", help="only these tenant databases")
        return p

    verb("status", "one line per tenant database and a summary (never writes)")
    verb("check", "exit 4 if any tenant needs attention (drift, failed steps, broken files...)")
    for name, help_ in (("plan", "what 'fleet up' would run on each tenant (never writes)"),
                        ("up", "apply pending migrations on every tenant (all of them by default)"),
                        ("down", "revert migrations on every tenant (one step by default)")):
        p = verb(name, help_)
        target = p.add_mutually_exclusive_group()
        target.add_argument("--steps", type=positive_int, metavar="N", help="N migrations on each tenant")
        target.add_argument("--to", type=version_arg, metavar="VERSION", help="take every tenant to this version")
        target.add_argument("--all", action="store_true", dest="all_", help="every migration")
        p.add_argument("--ignore-drift", action="store_true", help="run even where an applied migration changed")
        if name != "down":
            p.add_argument("--allow-out-of-order", action="store_true",
                           help="apply pending migrations older than a tenant's current version")
        if name == "plan":
            continue
        p.add_argument("--dry-run", action="store_true", help="show each tenant's plan; nothing runs")
        p.add_argument("--concurrency", type=positive_int, metavar="K",
                       help="at most K tenants at once per cluster (default: the fleet's concurrency)")
        p.add_argument("--max-failures", type=version_arg, metavar="F", dest="max_failures",
                       help="failure budget: after more than F failed tenants, start no new one")
        p.add_argument("--wave", metavar="NAME", help="run only this wave")
        p.add_argument("--new", action="store_true", help="start a new run even if one is in progress")
        p.add_argument("--resume", metavar="RUN_ID", help="take part in this run again, skipping finished tenants")
    p = verb("history", "the fleet's runs, newest first")
    p.add_argument("--limit", type=positive_int, default=20, metavar="N", help="runs to show (default 20)")
    p.add_argument("--run", metavar="RUN_ID", help="one run: every tenant's result")


def cmd_fleet(args: argparse.Namespace, config: Any, printer: Printer) -> int:
    from runway_tui.engine.errors import UsageError
    from runway_tui.engine.fleet.facade import Fleet

    if args.command != "fleet":
        raise UsageError(f"application {config.name!r} is a fleet of tenant databases: use 'runway-tui fleet "
                         f"{args.command if args.command in FLEET_HANDLERS else 'status'}' (see 'runway-tui fleet "
                         "--help')")
    fleet = Fleet(config, read_only_flag=bool(getattr(args, "read_only", False)),
                  write_flag=bool(getattr(args, "write", False)))
    return int(FLEET_HANDLERS[args.fleet_command](args, fleet, printer))


def _request(args: argparse.Namespace, direction: str) -> Any:
    from runway_tui.engine.fleet.facade import Direction, FleetRequest

    chosen = Direction(direction)
    everything = chosen is Direction.UP and args.steps is None and args.to is None and not args.all_
    return FleetRequest(chosen, steps=args.steps, to=args.to, all_=bool(args.all_ or everything),
                        ignore_drift=bool(args.ignore_drift),
                        allow_out_of_order=bool(getattr(args, "allow_out_of_order", False)))


# ------------------------------------------------------------------------------------------ inspection
def fleet_status(args: argparse.Namespace, fleet: Any, printer: Printer) -> int:
    found = fleet.status(args.only)
    code = ExitCode.UNREACHABLE if found.unreachable else ExitCode.OK
    if args.json:
        printer.json({"ok": not found.unreachable, "application": fleet.name,
                      "databases": [d.to_json() for d in found.databases], "counts": found.counts,
                      "unreachable": found.unreachable, "exit_code": int(code)})
        return code
    _status_table(found, printer)
    _status_summary(found, printer)
    return code


def fleet_check(args: argparse.Namespace, fleet: Any, printer: Printer) -> int:
    found = fleet.status(args.only)
    bad = [d for d in found.databases if d.problems or d.error]
    code = (ExitCode.UNREACHABLE if found.unreachable else ExitCode.VALIDATION_FAILED if bad else ExitCode.OK)
    if args.json:
        printer.json({"ok": code == ExitCode.OK, "exit_code": int(code), "counts": found.counts,
                      "databases": [d.to_json() for d in bad], "unreachable": found.unreachable})
        return code
    for row in bad:
        detail = ", ".join(row.problems) or row.error or ""
        printer.line(f"! {row.tenant.cluster}  {row.tenant.database}: {detail}", "red")
    _status_summary(found, printer)
    if code == ExitCode.OK:
        printer.line(f"ok: {len(found.databases)} tenant(s), no problems")
    return code


def fleet_plan(args: argparse.Namespace, fleet: Any, printer: Printer, direction: str = "up") -> int:
    request = _request(args, direction)
    found = fleet.plan(request, args.only, getattr(args, "wave", None))
    blocked = [d for d in found.databases if d.blockers or d.error]
    code = (ExitCode.UNREACHABLE if found.unreachable else ExitCode.VALIDATION_FAILED if blocked else ExitCode.OK)
    if args.json:
        printer.json({"ok": code == ExitCode.OK, "dry_run": True, "request": request.to_json(),
                      "databases": [{**d.to_json(), "steps": d.steps, "target_version": d.target_version,
                                     "blockers": d.blockers} for d in found.databases],
                      "counts": {"databases": len(found.databases),
                                 "to_run": sum(1 for d in found.databases if d.steps and not d.blockers),
                                 "nothing_to_do": sum(1 for d in found.databases if not d.steps and not d.blockers
                                                      and not d.error),
                                 "blocked": len(blocked)},
                      "unreachable": found.unreachable, "exit_code": int(code)})
        return code
    rows, colours = [], []
    for d in found.databases:
        if d.error:
            what, colour = clip(d.error, 70), "red"
        elif d.blockers:
            what, colour = "blocked: " + clip("; ".join(d.blockers), 60), "red"
        elif d.steps:
            what, colour = f"{len(d.steps)} step(s): {', '.join(version_label(v) for v in d.steps)}", "yellow"
        else:
            what, colour = "nothing to do", ""
        rows.append([short_cluster(d.tenant.cluster), d.tenant.database, version_label(d.current_version),
                     version_label(d.target_version) if d.steps else "", what])
        colours.append(colour)
    if rows:
        printer.table(["CLUSTER", "DATABASE", "FROM", "TO", "PLAN"], rows, colours)
    to_run = sum(1 for d in found.databases if d.steps and not d.blockers)
    printer.line(f"{len(found.databases)} tenant(s): {to_run} to run, {len(blocked)} blocked (dry run: nothing "
                 "was run)")
    for line in found.unreachable:
        printer.line(f"unreachable: {line}", "red")
    return code


# ------------------------------------------------------------------------------------------ runs
def fleet_up(args: argparse.Namespace, fleet: Any, printer: Printer) -> int:
    return _run(args, fleet, printer, "up")


def fleet_down(args: argparse.Namespace, fleet: Any, printer: Printer) -> int:
    return _run(args, fleet, printer, "down")


def _run(args: argparse.Namespace, fleet: Any, printer: Printer, direction: str) -> int:
    if args.dry_run:
        return fleet_plan(args, fleet, printer, direction)
    if args.new and args.resume:
        from runway_tui.engine.errors import UsageError

        raise UsageError("--new starts another run and --resume takes part in one: give one of them")

    def started(run_id: str, joined: bool) -> None:
        printer.note(f"{'joined' if joined else 'started'} fleet run {run_id} ({direction}) of application "
                     f"{fleet.name}; recorded in {fleet.control_address}")

    def finished(outcome: Any) -> None:  # one line per tenant as it finishes (this runner's), on stderr: JSON too
        versions = f"{version_label(outcome.from_version)} -> {version_label(outcome.to_version)}"
        error = f"  {clip(outcome.error, 120)}" if outcome.error else ""
        where = f"{short_cluster(outcome.tenant.cluster)}  {outcome.tenant.database}"
        printer.step_note(f"{outcome.result:<11} {where}  {versions}  {duration_label(outcome.duration_ms)}{error}",
                          RESULT_COLOURS.get(outcome.result, ""))

    outcome = fleet.run(_request(args, direction), concurrency=args.concurrency, max_failures=args.max_failures,
                        wave=args.wave, only=args.only, new=args.new, resume=args.resume, on_start=started,
                        on_result=finished)
    code = outcome.exit_code
    if args.json:
        printer.json({"ok": code == ExitCode.OK, "exit_code": int(code), **outcome.to_json()})
        return code
    _run_summary(outcome, printer)
    return code


def _run_summary(outcome: Any, printer: Printer) -> None:
    counts = outcome.counts
    parts = ", ".join(f"{counts[name]} {name.replace('_', ' ')}" for name in counts if counts[name]) or "no tenant"
    printer.line(f"fleet run {outcome.run_id}: {len(outcome.targets)} tenant(s): {parts}",
                 "red" if counts["failed"] or counts["blocked"] else "green")
    for target in outcome.targets:
        if target.result in ("failed", "blocked"):
            printer.line(f"  {target.result}: {target.tenant.cluster}  {target.tenant.database}: "
                         f"{clip(target.error or '', 160)}", "red")
    not_started = [t for t in outcome.targets if t.result == "not_started"]
    reasons = sorted({t.error or "not started" for t in not_started})
    for reason in reasons:
        count = sum(1 for t in not_started if (t.error or "not started") == reason)
        printer.line(f"  not started ({count}): {clip(reason, 160)}", "yellow")
    for line in outcome.unreachable:
        printer.line(f"  unreachable: {line}", "red")


def fleet_history(args: argparse.Namespace, fleet: Any, printer: Printer) -> int:
    if args.run:
        outcome = fleet.run_outcome(args.run)
        if args.json:
            printer.json({"ok": True, **outcome.to_json()})
            return ExitCode.OK
        rows = [[short_cluster(t.tenant.cluster), t.tenant.database, version_label(t.from_version),
                 version_label(t.to_version), t.result, clip(t.error or "", 60), t.runner or ""]
                for t in outcome.targets]
        if rows:
            printer.table(["CLUSTER", "DATABASE", "FROM", "TO", "RESULT", "ERROR", "RUNNER"], rows,
                          [RESULT_COLOURS.get(t.result, "") for t in outcome.targets])
        _run_summary(outcome, printer)
        return ExitCode.OK
    runs = fleet.history(args.limit)
    if args.json:
        printer.json({"ok": True, "runs": [_run_json(r) for r in runs]})
        return ExitCode.OK
    if not runs:
        printer.line("no fleet run yet")
        return ExitCode.OK
    rows = [[r["_id"], fmt_time(r.get("started_at")), r.get("started_by", ""), describe_request(r.get("request", {})),
             r.get("state", ""), str(r.get("failures", 0))] for r in runs]
    printer.table(["RUN", "STARTED (UTC)", "BY", "REQUEST", "STATE", "FAILED"], rows)
    return ExitCode.OK


def _run_json(doc: dict[str, Any]) -> dict[str, Any]:
    return {"run_id": doc["_id"], "started_at": doc.get("started_at"), "started_by": doc.get("started_by"),
            "request": doc.get("request"), "waves": doc.get("waves"), "state": doc.get("state"),
            "failures": doc.get("failures"), "finished_at": doc.get("finished_at"), "clusters": doc.get("clusters")}


def _status_table(found: Any, printer: Printer) -> None:
    rows, colours = [], []
    for d in found.databases:
        rows.append([short_cluster(d.tenant.cluster), d.tenant.database, version_label(d.current_version),
                     str(d.pending),
                     clip(", ".join(d.problems) or (d.error or ""), 60), clip(d.lock or "free", 40), d.state])
        colours.append(STATE_COLOURS.get(d.state, ""))
    if rows:
        printer.table(["CLUSTER", "DATABASE", "VERSION", "PENDING", "PROBLEMS", "LOCK", "STATE"], rows, colours)


def _status_summary(found: Any, printer: Printer) -> None:
    counts = found.counts
    printer.line(f"{counts['databases']} tenant(s): {counts['up_to_date']} up to date, {counts['pending']} pending, "
                 f"{counts['problems'] + counts['drift']} with problems, {counts['locked']} locked, "
                 f"{counts['unreachable']} unreachable")
    for line in found.unreachable:
        printer.line(f"unreachable: {line}", "red")


FLEET_HANDLERS: dict[str, Callable[[argparse.Namespace, Any, Printer], int]] = {
    "status": fleet_status, "check": fleet_check, "plan": fleet_plan, "up": fleet_up, "down": fleet_down,
    "history": fleet_history,
}
