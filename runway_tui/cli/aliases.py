"""Mongorunway's verbs and argument forms, mapped onto our commands (muscle memory for its users).

    upgrade APP [+|+N|N|all]     -> up (one step) | up --steps N | up --to N | up --all
    downgrade APP [-|-N|N|0|all] -> down | down --steps N | down --to N | down --to 0 | down --all
    version APP                  -> the current version (as 'status' computes it)
    auditlog APP [-l N] [-a]     -> history --limit N
    check-files APP              -> check
    refresh APP                  -> refresh
    create-template APP -n NAME  -> new NAME

APP is Mongorunway's application name, our --app. With a mongorunway.yaml's raise_on_transaction_failure
(its default: true), `upgrade`/`downgrade` with nothing to do exit 1, as Mongorunway's do.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable

VERBS = ("upgrade", "downgrade", "version", "auditlog", "check-files", "create-template")
OURS = {"upgrade": "up", "downgrade": "down", "version": "version", "auditlog": "history", "check-files": "check",
        "create-template": "new", "refresh": "refresh", "status": "status"}


def add_alias_parsers(command: Callable[[str, str], argparse.ArgumentParser],
                      run_flags: Callable[[argparse.ArgumentParser, str], None]) -> None:
    """The verbs as subcommands (`command(name, help)` makes one with our common options; `run_flags(p, "up")`
    adds the options `up` has besides its target, so `upgrade` takes `--dry-run`, `--group`...)."""
    p = command("upgrade", "Mongorunway's verb: upgrade APP [+|+N|N|all] (= up)")
    p.add_argument("application", nargs="?", metavar="APP")
    p.add_argument("expression", nargs="?", default="+", metavar="+|+N|N|all")
    run_flags(p, "up")
    p = command("downgrade", "Mongorunway's verb: downgrade APP [-|-N|N|0|all] (= down)")
    p.add_argument("application", nargs="?", metavar="APP")
    p.add_argument("expression", nargs="?", default="-", metavar="-|-N|N|all")
    run_flags(p, "down")
    p = command("version", "Mongorunway's verb: version APP (the current version)")
    p.add_argument("application", nargs="?", metavar="APP")
    p = command("auditlog", "Mongorunway's verb: auditlog APP [-l N] (= history)")
    p.add_argument("application", nargs="?", metavar="APP")
    p.add_argument("-l", "--limit", type=int, default=10, metavar="N", help="entries to show (default 10)")
    p.add_argument("-a", "--ascending", action="store_true", help="oldest first")
    p = command("check-files", "Mongorunway's verb: check-files APP (= check)")
    p.add_argument("application", nargs="?", metavar="APP")
    p = command("create-template", "Mongorunway's verb: create-template APP -n NAME (= new NAME)")
    p.add_argument("application", nargs="?", metavar="APP")
    p.add_argument("-n", "--name", required=True, help="what the migration does, e.g. add_user_index")


def translate(args: argparse.Namespace, error: Callable[[str], None]) -> None:
    """Turn a Mongorunway verb into the namespace of our command, in place (`error` reports bad forms)."""
    verb = args.command
    if verb not in OURS or (verb in ("refresh", "status") and getattr(args, "application", None) is None):
        return
    application = getattr(args, "application", None)
    if verb in ("upgrade", "downgrade") and application is not None and args.expression in ("+", "-") \
            and re.fullmatch(r"all|[+-]?[0-9]*", application.strip()):
        application, args.expression = None, application  # `upgrade all`: the app is the config's default
    if application is not None:
        if getattr(args, "app", None) not in (None, application):
            error(f"application given twice: {application!r} and --app {args.app!r}")
        args.app = application
    args.mongorunway_verb = verb
    args.command = OURS[verb]
    if verb in ("upgrade", "downgrade"):
        args.steps, args.to, args.all_ = _expression(verb, args.expression, error)
    elif verb == "auditlog":
        if args.limit < 1:
            error(f"--limit must be 1 or more, got {args.limit}")
        args.version_filter = None
    elif verb == "create-template":
        args.description = None


def _expression(verb: str, text: str, error: Callable[[str], None]) -> tuple[int | None, int | None, bool]:
    """(steps, to, all) for Mongorunway's `+`, `+N`, `N`, `all` (upgrade) and `-`, `-N`, `N`, `all` (downgrade)."""
    sign = "+" if verb == "upgrade" else "-"
    expression = text.strip()
    if expression == "all":
        return None, None, True
    if expression == sign:
        return 1, None, False
    if re.fullmatch(rf"\{sign}[0-9]+", expression):
        steps = int(expression[1:])
        if steps < 1:
            error(f"{verb}: {expression!r} moves nothing; give {sign}1 or more")
        return steps, None, False
    if re.fullmatch(r"[0-9]+", expression):
        return None, int(expression), False
    forms = "+, +N, N or all" if verb == "upgrade" else "-, -N, N (0: everything) or all"
    error(f"{verb}: {expression!r} is not one of {forms}")
    return None, None, False
