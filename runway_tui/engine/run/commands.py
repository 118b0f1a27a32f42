"""One function per command that changes what runway records without running a migration (Alembic's
command.py): mark, baseline, accept, forget, unlock; refresh is in refresh.py, up and down in stepping.py.
Each runs over an `Operation` (engine/run/operation.py), which does the read-only refusal, the
one-at-a-time guard, the lease and the driver errors once."""

from __future__ import annotations

from runway_tui.engine.errors import BlockedError, UsageError
from runway_tui.engine.models import LockInfo, MigrationRecord, Problem
from runway_tui.engine.record_files import file_of
from runway_tui.engine.run.operation import Operation
from runway_tui.engine.store.protocol import RecordChange
from runway_tui.engine.vocabulary import remedy


def mark(op: Operation, version: int, *, applied: bool) -> MigrationRecord:
    """Record `version` as applied or pending without running it (audited). Nothing runs."""
    with op.writing(f"mark version {version}", "mark"):
        row = next((r for r in op.synced_status().rows if r.version == version), None)
        if row is None:
            raise UsageError(f"version {version} does not exist (neither a file nor a record)")
        before = row.record.read_model if row.record else None
        change = (RecordChange.applied(op.now(), op.identity(), row.script.checksum if row.script else None)
                  if applied else RecordChange.pending())
        if row.record is None:
            assert row.script is not None
            op.store.records.upsert(MigrationRecord(version, row.script.name, row.script.checksum or "",
                                                    row.script.description, applied, change.state))
        op.store.records.update(version, change.fields)
        record = op.store.records.get(version)
        assert record is not None
        op.audit("MarkAppliedTransaction" if applied else "MarkPendingTransaction", before or record.read_model)
        op.keep_evidence()
    op.log("warning", f"marked {record.name} as {change.state.value} by hand")
    op.changed("mark")
    return record


def baseline(op: Operation, to: int) -> list[int]:
    """Record every version up to `to` as applied without running it (audited, one entry per version):
    adopting a database that another tool or hand-run scripts brought to a known version. Returns the
    versions recorded; those already applied are left as they are."""
    with op.writing(f"baseline to version {to}", "baseline"):
        status = op.synced_status()
        known = sorted({r.version for r in status.rows if r.version is not None})
        if to not in known:
            listing = ", ".join(map(str, known[:8])) + (" ..." if len(known) > 8 else "") or "none"
            raise UsageError(f"version {to} does not exist (known versions: {listing}); baseline to an "
                             "existing version")
        rows = [r for r in status.rows if r.version is not None and r.version <= to and not r.is_applied]
        problems = [f"{r.script.path.name}: {r.script.problem}" for r in rows
                    if r.script is not None and r.script.is_broken]
        problems += [f"{r.name} is {r.state}; first resolve it: {remedy('mark-either', r.version)}"
                     for r in rows if Problem.FAILED in r.problems]
        if problems:
            raise BlockedError(f"refusing to baseline to {to}: " + "; ".join(problems) + "; nothing was recorded")
        recorded = []
        for row in rows:
            version = row.version
            assert version is not None
            if row.record is None:
                assert row.script is not None
                op.store.records.upsert(MigrationRecord(version, row.script.name, row.script.checksum or "",
                                                        row.script.description, False))
            before = op.store.records.get(version)
            assert before is not None
            change = RecordChange.applied(op.now(), op.identity(), row.script.checksum if row.script else None)
            op.store.records.update(version, change.fields)
            op.audit("BaselineTransaction", before.read_model)
            recorded.append(version)
        if recorded:
            op.keep_evidence()
    if recorded:
        op.log("warning", f"baseline: recorded {len(recorded)} migration(s) up to version {to} as applied "
                          "without running them")
    op.changed("baseline")
    return recorded


def accept(op: Operation, version: int) -> MigrationRecord:
    """Accept an applied migration's edited file: store its current checksum (audited)."""
    with op.writing(f"accept version {version}", "accept"):
        row = next((r for r in op.status().rows if r.version == version), None)
        if row is None or row.record is None:
            raise UsageError(f"version {version} has no record in the database; nothing to accept")
        if row.script is None or row.script.is_broken or not row.script.checksum:
            raise UsageError(f"version {version}: the file is missing or broken; nothing to accept")
        if Problem.DRIFT not in row.problems:
            raise UsageError(f"version {version} has no checksum drift; nothing to accept")
        before = row.record.read_model
        op.store.records.update(version, {"checksum": row.script.checksum, "description": row.script.description})
        op.audit("AcceptChecksumTransaction", before, evidence=False)
        record = op.store.records.get(version)
        assert record is not None
    op.log("warning", f"accepted the edited file of {record.name} (checksum {before.checksum} -> {record.checksum})")
    op.changed("accept")
    return record


def forget(op: Operation, version: int) -> MigrationRecord:
    """Remove the record of a migration whose file is gone (an orphan), without running anything (audited).

    Refresh never does this itself; a record whose file may still exist is refused, since forgetting it
    would only lose its state (the file would come back as new)."""
    with op.writing(f"forget version {version}", "forget"):
        record = op.store.records.get(version)
        if record is None:
            raise UsageError(f"version {version} has no record in the database; nothing to forget")
        path = file_of(record, op.scripts.scan(), op.scripts_dir)
        if path is not None:
            raise UsageError(f"version {version}: its file {path.name} exists; forget only removes the record "
                             f"of a deleted file. To revert it, step down, or record it as pending: "
                             f"{remedy('mark', version, 'pending')}")
        op.read_evidence()  # our entry about it is dated after its newest
        op.store.records.remove(version)
        op.audit("ForgetTransaction", record.read_model, evidence=False)
    op.log("warning", f"forgot the record of {record.name} (was {record.state.value}; its file is missing)")
    op.changed("forget")
    return record


def unlock(op: Operation, *, force: bool = False) -> LockInfo | None:
    """Remove an expired lease, or any lease with `force` (audited). Returns what was removed."""
    with op.writing("unlock", "unlock", lease=False):
        holder = op.lease.info()
        if holder is None:
            return None
        if not holder.expired and not force:
            if holder.looks_dead:
                raise UsageError(f"the migration lock held by {holder.who} has not expired, but "
                                 f"{holder.gone_reason()}: that runner looks dead; to remove its lock now: "
                                 f"{remedy('unlock-force')}")
            raise UsageError(f"the migration lock held by {holder.who} has not expired and that runner renews "
                             f"it: it is released when that run finishes; to take it away anyway (that run then "
                             f"stops before its next write): {remedy('unlock-force')}")
        removed = op.lease.force_release(only_expired=not force)
        if removed:
            state = "expired unreleased" if removed.expired else "live" + (
                f", but {removed.gone_reason()}" if removed.looks_dead else "")
            detail = f"removed the lease of {removed.who} for '{removed.operation}': it was {state}"
            op.audit("ForceUnlockTransaction" if force else "UnlockTransaction", None, detail=detail,
                     evidence=False)
    if removed:
        op.log("warning", f"removed the migration lock held by {removed.holder}")
        op.changed("unlock")
    return removed
