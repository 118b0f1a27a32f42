"""`runway-tui rehearse`: run the pending migrations on a sample of production in a scratch database first."""

from __future__ import annotations

import argparse
import json
from typing import Any

from runway_tui.cli.output import Printer
from runway_tui.engine.config import Config
from runway_tui.engine.errors import ExitCode
from runway_tui.engine.rehearse import (
    DEFAULT_SAMPLE,
    MigrationRehearsal,
    ReadSettings,
    RehearsalReport,
    RehearsalRequest,
    rehearse,
)
from runway_tui.engine.vocabulary import duration_label

HELP = "run pending migrations on a sample of production in a scratch database, and report what they do"


def add_parser(command: Any, positive_int: Any, version_arg: Any) -> None:
    """The `rehearse` subcommand (registered by cli/main.py)."""
    p = command("rehearse", HELP)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--steps", type=positive_int, metavar="N", help="rehearse the next N pending migrations")
    group.add_argument("--to", type=version_arg, metavar="VERSION", help="rehearse up to this version")
    group.add_argument("--all", action="store_true", dest="all_", help="every pending migration (the default)")
    p.add_argument("--sample", type=positive_int, default=DEFAULT_SAMPLE, metavar="N",
                   help=f"documents copied per collection (default {DEFAULT_SAMPLE})")
    p.add_argument("--no-reverse", action="store_false", dest="reverse",
                   help="do not run each step's down after its up (no reversibility check)")
    p.add_argument("--keep", action="store_true", help="leave the scratch database for inspection (and say where)")


def request_of(args: argparse.Namespace) -> RehearsalRequest:
    return RehearsalRequest(steps=args.steps, to=args.to, all_=args.all_, sample_size=args.sample,
                            reverse=args.reverse, keep=args.keep)


def settings_of(project: Config) -> ReadSettings:
    tui = project.tui
    return ReadSettings(max_time_ms=tui.inspect_max_time_ms, read_preference=tui.inspect_read_preference,
                        redact_fields=tuple(tui.redact_fields))


def cmd_rehearse(args: argparse.Namespace, config: Any, project: Config, printer: Printer) -> int:
    report = rehearse(config, request_of(args), settings_of(project), front_end="cli",
                      progress=lambda text: printer.note(text, "dim"))
    if printer.json_mode:
        printer.json(report.to_json())
        return int(report.exit_code)
    if report.nothing_pending:
        printer.line(f"nothing to rehearse: no pending migration for {report.application} "
                     f"(database {report.database})")
        return int(ExitCode.OK)
    for line, colour in report_lines(report):
        printer.line(line, colour)
    return int(report.exit_code)


def report_lines(report: RehearsalReport) -> list[tuple[str, str]]:
    """The report for people, one (text, colour) per line: what the CLI prints and the TUI's text export."""
    out: list[tuple[str, str]] = [
        (f"rehearsal of {report.application} (database {report.database}) on a sample of up to "
         f"{report.sample_size} documents per collection", "bold"),
        (f"scratch: {report.scratch}" + (" (kept: drop it when done)" if report.kept else " (dropped)"), ""),
    ]
    for migration in report.migrations:
        out.append(("", ""))
        out.extend(_migration_lines(migration))
    out.extend(_precheck_lines(report))
    for note in report.notes:
        out.append((f"note: {note}", "yellow"))
    out.append(("", ""))
    out.append((f"production: {report.production_writes} writes, {report.production_reads} reads "
                f"({report.production_read_ms:.0f} ms); rehearsal took {duration_label(int(report.total_ms))}",
                "dim"))
    verdict = {ExitCode.OK: ("ok: every migration ran, reversed and passed its pre-checks", "green"),
               ExitCode.STEP_FAILED: ("a migration failed on the sample: production would fail too", "red"),
               ExitCode.VALIDATION_FAILED: ("attention: a pre-check found problems or a migration is not "
                                            "reversible", "red")}
    out.append(verdict[report.exit_code])
    return out


def _migration_lines(migration: MigrationRehearsal) -> list[tuple[str, str]]:
    """One migration: its result and estimate, its reversal, its notes, then what it did to each collection."""
    mark = {"ok": "✓", "failed": "✗"}.get(migration.result, "·")
    colour = {"ok": "green", "failed": "red"}.get(migration.result, "dim")
    head = f"{mark} {migration.name} (version {migration.version}): {migration.result}"
    if migration.result == "ok":
        head += (f" in {duration_label(migration.duration_ms)} on the sample; estimate for the whole "
                 f"collection: ~{duration_label(migration.estimated_full_ms or 0)}")
    out = [(head, colour)]
    if migration.error:
        out.append((f"    error: {migration.error}", "red"))
    if migration.reversible is True:
        out.append(("    reversible: yes (the down put the sample back exactly)", "green"))
    elif migration.reversible is False:
        out.append(("    reversible: NO", "red"))
        out.extend((f"      {line}", "red") for line in migration.reversal[:10])
    for note in migration.notes:
        out.append((f"    note: {note}", "yellow"))
    for name, diff in migration.collections.items():
        out.extend(_collection_lines(name, diff))
    return out


def _collection_lines(name: str, diff: Any) -> list[tuple[str, str]]:
    """What one step did to one collection of the sample: counts, schema, indexes, validator, examples."""
    counts = (f"{diff.inserted} inserted, {diff.updated} updated, {diff.deleted} deleted, "
              f"{diff.unchanged} unchanged of {diff.sampled} sampled ({diff.total} in production)")
    out = [(f"    {name}: {counts}", "")]
    for label, items in (("fields added", diff.schema_added), ("fields removed", diff.schema_removed),
                         ("indexes added", diff.indexes_added), ("indexes removed", diff.indexes_removed)):
        if items:
            out.append((f"      {label}: {', '.join(items)}", ""))
    for change in diff.schema_changed:
        out.append((f"      types of {change['path']}: {_shares(change['before'])} -> "
                    f"{_shares(change['after'])}", ""))
    if diff.validator_changed:
        out.append(("      validator changed", "yellow"))
    for example in diff.examples:
        out.append((f"      e.g. _id {json.dumps(example['_id'], ensure_ascii=False)}: "
                    f"{_compact(example['before'])} -> {_compact(example['after'])}", "dim"))
    return out


def _precheck_lines(report: RehearsalReport) -> list[tuple[str, str]]:
    """The pre-checks run on production, each with up to three examples."""
    if not report.prechecks:
        return []
    out = [("", ""), ("pre-checks on production (whole collections, read-only):", "bold")]
    for check in report.prechecks:
        where = f" {check.collection}" if check.collection else ""
        out.append((f"  {'✓' if check.ok else '!'} {check.kind}{where} (version {check.version}): "
                    f"{check.detail}", "green" if check.ok else "red"))
        for example in check.examples[:3]:
            shown = example if isinstance(example, str) else json.dumps(example, ensure_ascii=False)
            out.append((f"      {shown}", "dim"))
    return out


def _shares(types: dict[str, float]) -> str:
    return ", ".join(f"{kind} {share:g}%" for kind, share in types.items()) or "none"


def _compact(value: Any, limit: int = 160) -> str:
    if value is None:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= limit else text[: limit - 1] + "…"
