"""Comparing the script directory with the migrations collection, without writing anything."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runway_tui.engine.models import AuditEvidence, LockInfo, MigrationRecord, Problem, State, StatusReport, StatusRow
from runway_tui.engine.runners import activity_of
from runway_tui.engine.scripts import ScriptFile

if TYPE_CHECKING:
    from runway_tui.engine.config import AppConfig

_UNSETTLED = {State.FAILED, State.APPLYING, State.REVERTING, State.PAUSED}  # a paused backfill is half done


def compute_status(scripts: list[ScriptFile], records: list[MigrationRecord],
                   lease: LockInfo | None = None, evidence: dict[int, AuditEvidence] | None = None) -> StatusReport:
    """One row per version known to either side, plus rows for files without a usable version.

    `lease` (the migration lock as read with the records) tells a step in progress, `running`, from one whose
    runner is gone, `interrupted`; without it every `applying`/`reverting` record is interrupted.
    `evidence` (engine/evidence.py): each version's newest state change in the audit log; a settled record
    (or a missing one) that says otherwise was lost or rewritten outside the engine: AUDIT_MISMATCH."""
    evidence = evidence or {}
    by_version = {r.version: r for r in records}
    applied_versions = [r.version for r in records if r.is_applied]
    newest_applied = max(applied_versions, default=None)
    rows: list[StatusRow] = []

    scripts_by_version: dict[int, list[ScriptFile]] = {}
    for script in scripts:
        if script.version is None:
            rows.append(StatusRow(None, script.name, "", script, None, (Problem.BROKEN,)))
        else:
            scripts_by_version.setdefault(script.version, []).append(script)

    for version in sorted(set(scripts_by_version) | set(by_version)):
        record = by_version.get(version)
        candidates = scripts_by_version.get(version, [])
        # With duplicate versions, prefer the file whose name the record knows.
        fallback = candidates[0] if candidates else None
        script = next((s for s in candidates if record and s.name == record.name), fallback)
        for extra in candidates:
            if extra is not script:
                rows.append(StatusRow(version, extra.name, extra.description, extra, None, (Problem.BROKEN,)))
        problems: list[Problem] = []
        activity = activity_of(record, lease) if record is not None else None
        if script is not None and script.is_broken:
            problems.append(Problem.BROKEN)
        if record is not None and script is None:
            problems.append(Problem.ORPHAN)
        if record is not None and (record.state is State.FAILED or (activity is not None and not activity.live
                                                                    and record.backfill is None)):
            problems.append(Problem.FAILED)  # failed, or interrupted (a backfill is paused): `mark` resolves it
        if (record is not None and script is not None and not script.is_broken and script.checksum
                and (record.is_applied or record.state in _UNSETTLED) and script.checksum != record.checksum):
            problems.append(Problem.DRIFT)
        if record is None and script is not None and not script.is_broken:
            problems.append(Problem.UNRECORDED)
        is_applied = bool(record and record.is_applied)
        if (not is_applied and newest_applied is not None and version < newest_applied
                and (record is None or record.state == State.PENDING) and script is not None and not script.is_broken):
            problems.append(Problem.OUT_OF_ORDER)
        said = _contradiction(record, evidence.get(version))
        if said is not None:
            problems.append(Problem.AUDIT_MISMATCH)
        name = record.name if record else script.name if script else str(version)
        if script is not None and not script.is_broken:
            description = script.description
        else:
            description = record.description if record else ""
        rows.append(StatusRow(version, name, description, script, record, tuple(problems), activity, said))
    rows.sort(key=lambda r: (r.version if r.version is not None else 10**12, r.name))
    return StatusReport(rows=rows, current_version=newest_applied)


def _contradiction(record: MigrationRecord | None, said: AuditEvidence | None) -> AuditEvidence | None:
    """The evidence, when it says another state than the record (no record: pending). A record in the
    middle of a step or failed says nothing settled: FAILED covers it."""
    if said is None or (record is not None and record.state in _UNSETTLED):
        return None
    state = State.APPLIED.value if record is not None and record.is_applied else State.PENDING.value
    return said if said.state != state else None


def files_status(config: AppConfig) -> StatusReport:
    """The migration files alone (no records: every state unknown), for a front end that cannot reach the
    server yet; reading files needs no database."""
    from runway_tui.engine.scripts import ScriptDirectory

    return compute_status(ScriptDirectory.for_app(config).scan(), [])
