"""The rehearsal itself: copy what the pending migrations touch, run them in the scratch, report.

Production only ever receives reads, through `ProductionReader`. The scratch is a second application of
the same project (same files, same records, another database), run by the real engine one step at a time:
up; unless told not to, down (judged against the snapshot before the up) and up again before the next step.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from pymongo.errors import PyMongoError

from runway_tui.engine.app import MigrationApp
from runway_tui.engine.config import AppConfig
from runway_tui.engine.errors import BlockedError, RunwayError, UsageError
from runway_tui.engine.inspect_redaction import Redactor
from runway_tui.engine.inspect_refs import collections_in_file
from runway_tui.engine.messages import one_line
from runway_tui.engine.models import Direction, Plan
from runway_tui.engine.rehearse import prechecks
from runway_tui.engine.rehearse.diff import Snapshot, diff_collection, reversal_differences, take_snapshot
from runway_tui.engine.rehearse.production import CollectionShape, ProductionReader
from runway_tui.engine.rehearse.report import MigrationRehearsal, RehearsalReport
from runway_tui.engine.rehearse.scratch import check_empty, copy_documents, create_like, scratch_config
from runway_tui.engine.watch import own_collections

DEFAULT_SAMPLE = 1000


@dataclass(frozen=True)
class RehearsalRequest:
    """Which migrations (as `up` takes them; none given: every pending one) and how."""

    steps: int | None = None
    to: int | None = None
    all_: bool = False
    sample_size: int = DEFAULT_SAMPLE
    reverse: bool = True
    keep: bool = False


@dataclass(frozen=True)
class ReadSettings:
    """How production is read: the explorer's bounds and read preference, and what is redacted."""

    max_time_ms: int = 5000
    read_preference: str = "primaryPreferred"
    redact_fields: tuple[str, ...] = ()


def rehearse(config: AppConfig, request: RehearsalRequest, settings: ReadSettings | None = None, *,
             front_end: str = "api", progress: Callable[[str], None] | None = None) -> RehearsalReport:
    """Rehearse the pending migrations of `config`'s application on a sample of its database (see the package
    docstring). Bad input raises `UsageError`; a migration's failure is in the report."""
    settings = settings or ReadSettings()
    say = progress or (lambda _text: None)
    if request.sample_size < 1:
        raise UsageError("--sample must be at least 1")
    scratch_cfg = scratch_config(config)
    started = time.perf_counter()
    reader = ProductionReader(config, read_preference=settings.read_preference, max_time_ms=settings.max_time_ms)
    scratch: MigrationApp | None = None
    keep = request.keep
    try:
        scratch = MigrationApp(scratch_cfg, front_end=front_end)
        redactor = Redactor(settings.redact_fields, [*config.secrets, *scratch_cfg.secrets])
        check_empty(scratch.database, named=bool(getattr(config, "rehearsal_database", None)))
        where = f"{scratch.shown_address}, database {scratch_cfg.database}"
        report = RehearsalReport(config.name, config.database, request.sample_size, where, keep)
        own = set(own_collections(scratch))
        with reader.timed() as copy_time:
            _copy_state(reader, scratch, own)
            plan = _plan(scratch, request)
            if not plan.steps:
                report.nothing_pending = True
                return _finish(report, reader, started)
            files = {s.version: s for s in scratch.scripts.scan() if s.version is not None}
            named: dict[int, list[str]] = {}
            for step in plan.steps:
                script = files.get(step.version)
                found = collections_in_file(script.path) if script else []
                extra = prechecks.touches(script.path) if script else None
                named[step.version] = list(dict.fromkeys([*found, *(extra or [])]))
            shapes = _copy_sample(reader, scratch, sorted({n for names in named.values() for n in names} - own),
                                  request.sample_size, report, say)
        report.copy_ms = copy_time["ms"]
        for step in plan.steps:
            entry = MigrationRehearsal(step.version, step.name, named=named[step.version])
            report.migrations.append(entry)
            if report.failed:
                entry.result = "not run"
                continue
            if not entry.named:
                entry.notes.append("the collections this migration changes cannot be known from its file (names "
                                   "built at run time?): give them in `touches = [...]`; only what was copied is "
                                   "in the scratch")
            say(f"rehearsing {step.name}")
            _rehearse_step(scratch, entry, shapes, own, reader, redactor, request, report)
            script = files.get(step.version)
            if entry.result == "ok" and script is not None and prechecks.defines_check(script.path):
                report.prechecks.append(prechecks.run_check(step.version, script.path, reader, scratch.redact))
        return _finish(report, reader, started)
    finally:
        if scratch is not None:
            if not keep:
                with contextlib.suppress(PyMongoError):
                    scratch.client.drop_database(scratch_cfg.database)
            scratch.close()
        reader.close()


def _finish(report: RehearsalReport, reader: ProductionReader, started: float) -> RehearsalReport:
    report.production_writes = len(reader.counter.writes)
    report.production_reads = reader.counter.reads
    report.production_read_ms = reader.counter.read_ms
    report.total_ms = (time.perf_counter() - started) * 1000
    return report


def _copy_state(reader: ProductionReader, scratch: MigrationApp, own: set[str]) -> None:
    """Runway's own state for the application (records, stored sources, audit log and its evidence), so the
    plan in the scratch is the plan on production. The lock is not copied: a rehearsal runs beside a step."""
    present = set(reader.collection_names())
    for name in sorted(own - {scratch.config.lock_collection}):
        if name in present:
            docs = reader.all_documents(name)
            if docs:
                scratch.database[name].insert_many(docs, ordered=False)


def _plan(scratch: MigrationApp, request: RehearsalRequest) -> Plan:
    everything = request.steps is None and request.to is None and not request.all_
    plan = scratch.plan(Direction.UP, steps=request.steps, to=request.to, all_=request.all_ or everything)
    if plan.blockers:
        raise BlockedError("refusing to rehearse: production's plan is blocked: " + "; ".join(plan.blockers))
    return plan


def _copy_sample(reader: ProductionReader, scratch: MigrationApp, names: list[str], size: int,
                 report: RehearsalReport, say: Callable[[str], None]) -> dict[str, CollectionShape | None]:
    """For each collection: its options, validator and indexes, and a sample of up to `size` documents."""
    shapes: dict[str, CollectionShape | None] = {}
    for name in names:
        shape = reader.shape(name)
        shapes[name] = shape
        if shape is None:
            continue  # created by a migration: nothing to copy
        say(f"copying {name}: up to {size} of {shape.total} documents")
        report.notes.extend(create_like(scratch.database, shape))
        if shape.kind != "view":
            copy_documents(scratch.database, name, reader.sample(name, size, shape.total), report.notes)
    return shapes


def _rehearse_step(scratch: MigrationApp, entry: MigrationRehearsal, shapes: dict[str, CollectionShape | None],
                   own: set[str], reader: ProductionReader, redactor: Redactor, request: RehearsalRequest,
                   report: RehearsalReport) -> None:
    watched = set(entry.named) or None  # a step whose collections cannot be known: every one is compared
    before = take_snapshot(scratch.database, own, watched)
    try:
        result = scratch.upgrade(steps=1)
    except RunwayError as exc:
        entry.result, entry.error = "failed", _error_line(exc, scratch, redactor)
        return
    if result.completed:
        entry.duration_ms = result.completed[0].duration_ms
    after = take_snapshot(scratch.database, own, watched, before.names)
    _diffs(entry, before, after, shapes, redactor)
    entry.estimated_full_ms = _estimate(entry)
    for name, diff in entry.collections.items():
        report.prechecks.extend(prechecks.derived_checks(entry.version, diff, after.collections.get(name),
                                                         shapes.get(name), reader, redactor))
    if not request.reverse:
        return
    try:
        scratch.downgrade(steps=1)
    except RunwayError as exc:
        entry.reversible = False
        entry.reversal = [f"the down failed: {_error_line(exc, scratch, redactor)}"]
        return
    entry.reversal = reversal_differences(before, take_snapshot(scratch.database, own, watched, before.names),
                                          redactor)
    entry.reversible = not entry.reversal
    try:
        scratch.upgrade(steps=1)  # the next step starts where production would be
    except RunwayError as exc:
        entry.result, entry.error = "failed", "the up failed after its down: " + _error_line(exc, scratch, redactor)


def _diffs(entry: MigrationRehearsal, before: Snapshot, after: Snapshot, shapes: dict[str, CollectionShape | None],
           redactor: Redactor) -> None:
    """Every collection the file names, and any other the step created (or, when it names none, changed)."""
    for name in sorted(set(before.collections) | set(after.collections) | set(entry.named)):
        shape = shapes.get(name)
        total = shape.total if shape is not None else 0
        diff = diff_collection(name, before.collections.get(name), after.collections.get(name), total, redactor)
        if name in entry.named or diff.changed:
            entry.collections[name] = diff


def _estimate(entry: MigrationRehearsal) -> int:
    """The sample's time scaled by the production counts of the collections the step touched: an estimate
    (a step's time is rarely proportional to anything else, and never exactly)."""
    diffs = [d for d in entry.collections.values() if d.sampled]
    sampled = sum(d.sampled for d in diffs)
    total = sum(max(d.total, d.sampled) for d in diffs)
    factor = total / sampled if sampled else 1.0
    return round(entry.duration_ms * factor)


_FIELD_VALUE = re.compile(r'(["\']?)([A-Za-z_][\w.]*)\1\s*:\s*("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[^,}\s]+)')


def _error_line(exc: BaseException, scratch: MigrationApp, redactor: Redactor) -> str:
    """The engine's one line, secrets masked and any redacted field's value (a duplicate key names one) `***`."""
    text = one_line(str(exc), limit=600, redact=scratch.redact)
    if not redactor.active:
        return text
    return _FIELD_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(1)}: ***"
                            if redactor.hides(m.group(2)) else m.group(0), text)
