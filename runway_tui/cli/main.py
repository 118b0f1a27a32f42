"""`runway-tui [command]`: the entry point. With no command it opens the terminal UI."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

from runway_tui.engine.audit_filter import ActionError, transaction_names
from runway_tui.engine.errors import ExitCode
from runway_tui.engine.limits import BSON_MAX_INT
from runway_tui.engine.messages import visible
from runway_tui.engine.timespec import TimeSpec, TimeSpecError

COMMANDS_HELP = """commands:
  status                 files vs database: every migration and its state (never writes)
  plan                   the exact steps 'up --all' would run (never writes)
  rehearse               run pending migrations on a sample of production in a scratch database first
                         (--steps/--to/--all, --sample N, --no-reverse, --keep); production only reads
  up                     apply every pending migration (as migrate-mongo, golang-migrate and Flyway do);
                         --steps N, --to VERSION, --dry-run, --group (one transaction: all or nothing)
  down                   revert one step by default; --steps N, --to VERSION (0: all), --all
  new NAME               create the next migration file from the template
  refresh                synchronise files with the migrations collection
  history                the audit log, newest first (--limit N, --since/--until TIME, --user NAME,
                         --action ACTION); --at TIME: the versions applied at that moment
  check                  exit 4 if anything needs attention (drift, orphans, broken files, failed or
                         interrupted steps); a running step passes
  mark VERSION           record a migration --applied or --pending without running it (audited)
  accept VERSION         accept the edited file of an applied migration (audited)
  unlock                 remove an expired lock (--force: any lock; audited)
  embedded stop          stop the idle embedded database now (instead of after its grace period)
  baseline --to VERSION  record every version up to VERSION as applied without running it (audited)
  forget VERSION         remove the record of a migration whose file is gone (an orphan; audited)
  fleet status|plan|up|down|check|history   every tenant database of a fleet application (see README, Fleet)

CI: up/down take --json (one schema for success and failure), --json-lines (a stream of events), --junit FILE
(a JUnit XML report of the steps); every command takes --lock-wait SECONDS.

Mongorunway's verbs work too: upgrade APP [+N|N|all] (one step by default), downgrade APP [-N|N|all], version APP,
auditlog APP -l N, check-files APP, refresh APP, create-template APP -n NAME (see README)

exit codes: 0 ok, 1 a step failed, 2 bad input/usage/config, 3 lock not acquired in time,
            4 validation failed, 5 cannot reach the server, 6 done but its output could not be
            written (a full disk), 130 interrupted"""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit code 2 (no usage dump)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        shown = visible(message, keep_tabs=True)  # the arguments it quotes may hold anything
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"runway-tui: error: {shown} (see 'runway-tui --help')\n")
        raise SystemExit(ExitCode.BAD_INPUT)

    def _print_message(self, message: str, file: Any = None) -> None:
        """--help and --version: written at once, and a stream that cannot take them is one line and exit 6."""
        stream = file or sys.stdout
        try:
            stream.write(message)
            stream.flush()
        except BrokenPipeError:  # `runway-tui --help | head`: the reader left
            raise SystemExit(ExitCode.OK) from None
        except OSError as exc:
            name = "stdout" if stream is sys.stdout else "stderr"
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write(f"runway-tui: error: {name} could not be written ({exc.strerror})\n")
            raise SystemExit(ExitCode.OUTPUT_LOST) from None


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--config", metavar="PATH", default=default,
                        help="config file (default: $RUNWAY_CONFIG, then ./runway.yaml)")
    parser.add_argument("--app", metavar="NAME", default=default,
                        help="application in the config (default: $RUNWAY_APP, then default_app)")
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS if suppress else False,
                        help="machine-readable output on stdout")
    parser.add_argument("--read-only", action="store_true", dest="read_only",
                        default=argparse.SUPPRESS if suppress else False,
                        help="refuse every write, whatever the config says")
    parser.add_argument("--write", action="store_true", default=argparse.SUPPRESS if suppress else False,
                        help="allow writes on a production application (never lifts read_only: true)")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS if suppress else False,
                        help="show tracebacks")
    parser.add_argument("--lock-wait", type=_seconds, metavar="SECONDS", dest="lock_wait", default=default,
                        help="wait this long for another runner's migration lock (default: the application's "
                             "timeouts.lock_wait_s; 0: do not wait)")


def _run_flags(p: argparse.ArgumentParser, name: str) -> None:
    """The options of a run besides its target, shared by `up`/`down` and Mongorunway's `upgrade`/`downgrade`
    (so an alias has every attribute its command reads, with the same defaults)."""
    p.add_argument("--dry-run", action="store_true", help="show the exact steps without running anything")
    p.add_argument("--group", action="store_const", const=True, default=None,
                   help="run the whole run in ONE transaction with all its records: every step commits or "
                        "none does (default: the application's 'group' setting)")
    p.add_argument("--ignore-drift", action="store_true",
                   help="run even though an applied migration this run concerns was changed")
    p.add_argument("--json-lines", action="store_true", dest="json_lines",
                   help="a stream on stdout: one JSON object per event (step started, log, progress, applied, "
                        "failed), then the result (the --json document) as the last line")
    p.add_argument("--junit", metavar="FILE", help="write a JUnit XML report of the steps to FILE (CI shows it)")
    if name == "up":
        p.add_argument("--allow-out-of-order", action="store_true",
                       help="apply pending migrations older than the current version")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="runway-tui", description="MongoDB schema migrations: terminal UI and headless CLI.",
                     epilog=COMMANDS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(parser, suppress=False)
    parser.add_argument("--theme", metavar="NAME", help="TUI: colour theme (e.g. textual-dark, nord)")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        _common(p, suppress=True)
        return p

    command("status", "files vs database: every migration and its state").add_argument(
        "application", nargs="?", metavar="APP", help="the application (Mongorunway's form; same as --app)")
    command("plan", "the exact steps 'up --all' would run")
    for name, verb, default in (("up", "apply", "every pending migration by default, as migrate-mongo, "
                                 "golang-migrate and Flyway do; 'upgrade' and the TUI's u take one step"),
                                ("down", "revert", "one step by default")):
        p = command(name, f"{verb} migrations ({default})")
        group = p.add_mutually_exclusive_group()
        group.add_argument("--steps", type=_positive_int, metavar="N", help=f"{verb} N migrations")
        group.add_argument("--to", type=_version_arg, metavar="VERSION",
                           help="go to this version" + (" (0 reverts everything)" if name == "down" else ""))
        group.add_argument("--all", action="store_true", dest="all_", help=f"{verb} every migration")
        _run_flags(p, name)
    p = command("new", "create the next migration file from the template")
    p.add_argument("name", help="what the migration does, e.g. add_user_email_index")
    p.add_argument("--description", help="first line of the docstring (default: the name)")
    command("refresh", "synchronise files with the migrations collection").add_argument(
        "application", nargs="?", metavar="APP", help="the application (Mongorunway's form; same as --app)")
    _history_args(command("history", "the audit log, newest first"))
    command("check", "validate: exit 4 when drift, orphans, broken files or failed states exist")
    p = command("mark", "record a migration as applied or pending without running it")
    p.add_argument("version", type=_version_arg, metavar="VERSION")
    state = p.add_mutually_exclusive_group(required=True)
    state.add_argument("--applied", action="store_true")
    state.add_argument("--pending", action="store_true")
    p = command("accept", "accept the edited file of an applied migration")
    p.add_argument("version", type=_version_arg, metavar="VERSION")
    p = command("baseline", "record every version up to VERSION as applied without running it (adopting a "
                            "database migrated by another tool)")
    p.add_argument("--to", type=_version_arg, metavar="VERSION", required=True)
    p = command("forget", "remove the record of a migration whose file is gone (an orphan), without running it")
    p.add_argument("version", type=_version_arg, metavar="VERSION")
    p = command("unlock", "remove an expired migration lock")
    p.add_argument("--force", action="store_true", help="remove the lock even if it has not expired")
    p = command("embedded", "the embedded database (uri: embedded)")
    p.add_argument("action", choices=["stop"], help="stop: stop the idle daemon now, not after its grace period")
    from runway_tui.cli.aliases import add_alias_parsers
    from runway_tui.cli.fleet import add_fleet_parser
    from runway_tui.cli.rehearse import add_parser as add_rehearse_parser

    add_rehearse_parser(command, _positive_int, _version_arg)
    add_fleet_parser(command, _common, _version_arg, _positive_int)
    add_alias_parsers(command, _run_flags)
    return parser


def _history_args(p: argparse.ArgumentParser) -> None:
    """`history`'s filters: what an incident review asks of the audit log."""
    p.add_argument("--limit", type=_positive_int, default=20, metavar="N", help="entries to show (default 20)")
    p.add_argument("--version-filter", dest="version_filter", type=_version_arg, metavar="VERSION",
                   help="only entries of this migration")
    p.add_argument("--since", type=_time_arg, metavar="TIME",
                   help="only entries at or after TIME: ISO 8601 (2026-03-14T09:30, UTC unless it has an offset) "
                        "or a time ago (30m, 2h, 7d)")
    p.add_argument("--until", type=_time_arg, metavar="TIME", help="only entries at or before TIME (as --since)")
    p.add_argument("--user", metavar="NAME", type=_nonempty("a user name (or user@host)"),
                   help="only entries by this user (NAME or NAME@HOST)")
    p.add_argument("--action", type=_action_arg, metavar="ACTION",
                   help="only these actions: up, down, mark (applied/pending), accept, unlock, forget, baseline; "
                        "comma-separated")
    p.add_argument("--at", type=_time_arg, metavar="TIME",
                   help="instead of entries: which versions were applied at TIME, from the audit log")


def _whole_number(text: str, what: str) -> int:
    """ASCII digits only (int() would take '١٢' too), within 64 bits."""
    if not re.fullmatch(r"\s*[+-]?[0-9]+\s*", text):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    value = int(text)
    if value > BSON_MAX_INT:  # versions and counts go to the server as BSON 64-bit integers
        raise argparse.ArgumentTypeError(f"{text.strip()!r} is beyond 64-bit integers (at most {BSON_MAX_INT})")
    return value


def _positive_int(text: str) -> int:
    value = _whole_number(text, "a whole number of 1 or more")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return value


def _version_arg(text: str) -> int:
    value = _whole_number(text, "a version number")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a version number of 0 or more, got {text!r}")
    return value


def _time_arg(text: str) -> TimeSpec:
    try:
        return TimeSpec.parse(text)
    except TimeSpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _action_arg(text: str) -> str:
    try:
        transaction_names(text)
    except ActionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _nonempty(what: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"expected {what}, got an empty value")
        return text.strip()

    return check


def _seconds(text: str) -> float:
    """A number of seconds, 0 or more, finite (as the config's timeouts)."""
    if not re.fullmatch(r"\s*[0-9]+(\.[0-9]+)?\s*", text):
        raise argparse.ArgumentTypeError(f"expected a number of seconds (0 or more), got {text!r}")
    value = float(text)
    if value > 365 * 24 * 3600:
        raise argparse.ArgumentTypeError(f"{text.strip()!r} seconds is more than a year")
    return value


def _version() -> str:
    from runway_tui.version import __version__

    return f"runway-tui {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "write", False) and getattr(args, "read_only", False):
        parser.error("--read-only and --write contradict each other; give one of them")
    if args.command == "history" and args.at is not None:
        others = [flag for flag, value in (("--since", args.since), ("--until", args.until), ("--user", args.user),
                                           ("--action", args.action), ("--version-filter", args.version_filter))
                  if value is not None]
        if others:
            parser.error(f"--at shows the state at one moment and takes no filter; drop {', '.join(others)}")
    from runway_tui.cli.aliases import translate

    translate(args, parser.error)  # Mongorunway's verbs become our commands
    if args.command is None:
        from runway_tui.cli.launch import launch_tui  # Textual is imported only on this path

        return launch_tui(args)
    from runway_tui.cli.commands import run_command

    return run_command(args)


def entry() -> None:
    """The console script: run `main`, then leave at once.

    Everything is closed by then (lock released, client closed, embedded daemon stopped), so we skip
    the interpreter's exit hooks, where pymongo waits ~0.5 s for its monitor threads to wake up.
    """
    from runway_tui.cli.streams import closed_streams

    closed = closed_streams()
    if closed:  # before anything is opened: a file or socket would take the closed descriptor
        _closed_stream_exit(closed)
    try:
        code: int = main()
    except SystemExit as exc:  # argparse: --help, --version, usage errors (already printed)
        if isinstance(exc.code, str):
            sys.stderr.write(exc.code + "\n")
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # the reader left (`| head`), a full disk, or closed
            stream.flush()
    with contextlib.suppress(Exception):
        logging.shutdown()
    os._exit(code)


def _closed_stream_exit(closed: list[str]) -> None:
    """One line on the stream still open (JSON on stdout with --json), exit 2, nothing run."""
    from runway_tui.cli.streams import closed_stream_problem

    problem = closed_stream_problem(closed)
    with contextlib.suppress(Exception):
        if "stderr" not in closed:
            os.write(2, f"runway-tui: error: {problem}\n".encode())
        elif "stdout" not in closed:
            json_mode = "--json" in sys.argv[1:]
            text = (json.dumps({"ok": False, "error": problem, "exit_code": int(ExitCode.BAD_INPUT)})
                    if json_mode else f"runway-tui: error: {problem}")
            os.write(1, (text + "\n").encode())
    os._exit(ExitCode.BAD_INPUT)


if __name__ == "__main__":
    entry()
