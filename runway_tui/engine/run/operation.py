"""`Operation`: what a command function works with (sketch 5.2 of docs' architecture review).

`writing(action, name)` is the ritual every writing command goes through, written once: the read-only
refusal, one operation at a time, the migration lock (with the run's session) and driver errors translated
(engine/store/driver_errors.py). Inside it a command reads and writes through the store and the few
bookkeeping calls below, never through the `MigrationApp`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runway_tui.engine.lock import MigrationLock
    from runway_tui.engine.models import MigrationAuditlogEntry, MigrationReadModel, StatusReport
    from runway_tui.engine.scripts import ScriptDirectory
    from runway_tui.engine.store.protocol import MigrationStore


@dataclass(frozen=True)
class Operation:
    """The engine's parts a command uses (built once per connected app)."""

    writing: Callable[..., AbstractContextManager[None]]  # (action, name, *, lease=True): the ritual, once
    store: MigrationStore
    lease: MigrationLock
    scripts: ScriptDirectory
    scripts_dir: Path
    identity: Callable[[], str]  # user@host, read when a command writes
    runner_label: Callable[[], str]  # "alice@host (pid 4242, cli)": who found what, in audit details
    now: Callable[[], dt.datetime]
    synced_status: Callable[[], StatusReport]  # refresh's changes written, then the status (under the lock)
    status: Callable[[], StatusReport]
    read_evidence: Callable[[], Any]  # under the lock: our next entry is dated after each version's newest
    keep_evidence: Callable[[], None]
    entry: Callable[..., MigrationAuditlogEntry]  # an audit entry by us (MigrationApp.audit_entry)
    written: Callable[[MigrationAuditlogEntry], None]  # the entry is the evidence now
    log: Callable[[str, str], None]
    changed: Callable[[str], None]  # a StateChangedEvent for the front ends

    def audit(self, transaction_name: str, model: MigrationReadModel | None, *, detail: str | None = None,
              evidence: bool = True) -> MigrationAuditlogEntry:
        """Append our audit entry about `model` (kept as the evidence of its state when `evidence`)."""
        entry = self.entry(transaction_name, model, detail=detail)
        self.store.audit.append(entry)
        if evidence:
            self.written(entry)
        return entry
