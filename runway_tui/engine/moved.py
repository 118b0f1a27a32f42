"""The database moved under a run: what to say (issue 18's lost race).

A run confirmed at 008 (`u`: apply 009), or a CLI `up --to 9` that waited for another operator's lock, finds the
database at 010 once it holds the lock. The request no longer fits, and the planner's own answer ("version 9 is
below the current version 10; go down to it") would undo the other operator's work. Instead: who moved the
database, to what, that nothing was run, and the fresh plan (the same request from where the database is now, or
as many steps as were confirmed), never a step the other way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from runway_tui.engine.errors import DatabaseMovedError, UsageError
from runway_tui.engine.models import Direction, MigrationAuditlogEntry, Plan, StatusReport
from runway_tui.engine.planner import Expected, plan_steps
from runway_tui.engine.store.protocol import AuditStore
from runway_tui.engine.vocabulary import version_label

VERBS = {"UpgradeTransaction": "applied", "DowngradeTransaction": "reverted", "MarkAppliedTransaction":
         "marked applied", "MarkPendingTransaction": "marked pending", "BaselineTransaction": "baselined"}


@dataclass(frozen=True)
class Move:
    """Consecutive state changes by one runner: `bob@ops-2 (pid 42, cli) applied 009, 010`."""

    who: str
    verb: str
    versions: tuple[int, ...]

    def __str__(self) -> str:
        return f"{self.who} {self.verb} {', '.join(version_label(v) for v in self.versions)}"


def moves_since(journal: AuditStore, since: dt.datetime) -> list[Move]:
    """What changed the database's versions since `since`, by whom, in order (from the audit log)."""
    entries = journal.history(limit=200, ascending=True, start=since)
    moves: list[Move] = []
    for entry in entries:
        verb = VERBS.get(entry.transaction_name)
        if verb is None or not entry.succeeded or entry.migration_read_model is None:
            continue
        who = _who(entry)
        version = entry.migration_read_model.version
        if moves and (moves[-1].who, moves[-1].verb) == (who, verb):
            moves[-1] = Move(who, verb, (*moves[-1].versions, version))
        else:
            moves.append(Move(who, verb, (version,)))
    return moves


def _who(entry: MigrationAuditlogEntry) -> str:
    details = ", ".join(x for x in (f"pid {entry.pid}" if entry.pid is not None else "", entry.client or "") if x)
    return f"{entry.user or '?'}@{entry.host or '?'}" + (f" ({details})" if details else "")


def fresh_plan(report: StatusReport, direction: Direction, request: dict[str, Any], expect: Expected | None,
               supports_transactions: bool) -> Plan:
    """The same request from where the database is now; when it no longer fits (its target was passed), as many
    steps as were confirmed (the next one, for `u`)."""
    flags = {k: request[k] for k in ("ignore_drift", "allow_out_of_order") if k in request}
    shape = {k: request.get(k) for k in ("steps", "to", "all_")}
    try:
        return plan_steps(report, direction, **shape, **flags, supports_transactions=supports_transactions)
    except UsageError:
        count = max(len(expect.versions), 1) if expect is not None else 1
        return plan_steps(report, direction, steps=count, **flags, supports_transactions=supports_transactions)


def database_moved(report: StatusReport, direction: Direction, request: dict[str, Any], expect: Expected | None,
                   moves: list[Move], fresh: Plan, waited: bool) -> DatabaseMovedError:
    """The error of a run the database moved under, with its facts (see DatabaseMovedError)."""
    when = "while this run waited for the migration lock" if waited else "since the confirmation"
    by = "; ".join(str(m) for m in moves) if moves else "the audit log names no one (changed outside runway-tui?)"
    asked = (f"you confirmed {_shown(expect)}" if expect is not None else f"you asked for {_request(request)}")
    if fresh.steps:
        steps = ", ".join(s.name for s in fresh.steps)
        offer = f"fresh plan: {direction.value} {steps} (from {version_label(fresh.current_version)})"
    else:
        offer = f"fresh plan: nothing left to {'apply' if direction is Direction.UP else 'revert'}"
    message = (f"the database moved {when}: {by}; it is now at {version_label(report.current_version)} ({asked})"
               f"; nothing was run; {offer}")
    return DatabaseMovedError(message, current_version=report.current_version,
                              moved_by=list(dict.fromkeys(m.who for m in moves)), fresh=fresh)


def _shown(expect: Expected) -> str:
    start = version_label(expect.from_version) if expect.from_version is not None else "none applied"
    return f"{' '.join(version_label(v) for v in expect.versions) or 'nothing'} from {start}"


def _request(request: dict[str, Any]) -> str:
    if request.get("to") is not None:
        return f"version {version_label(request['to'])}"
    if request.get("all_"):
        return "every step"
    return f"{request.get('steps') or 1} step(s)"
