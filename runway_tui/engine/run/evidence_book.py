"""`EvidenceBook`: what the audit log says of every version, as this engine last read it, and its entries since.

`compute_status` compares the evidence with the records: a record lost or rewritten behind the engine's back
blocks every run (engine/evidence.py). Read under the lock, the evidence is kept with the entries we write
meanwhile, so that at the operation's end the summary is brought up to date without reading the log again,
and our next entry about a version is dated after its newest (runners' clocks differ by milliseconds).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from pymongo.errors import PyMongoError

from runway_tui.engine.models import AuditEvidence, MigrationAuditlogEntry
from runway_tui.engine.repository import STATE_CHANGES

if TYPE_CHECKING:
    from runway_tui.engine.evidence import EvidenceStore, Reading
    from runway_tui.engine.store.protocol import AuditJournal


class EvidenceBook:
    """One per connected engine; its state changes only through these methods."""

    def __init__(self, evidence: EvidenceStore, journal: AuditJournal,
                 guarded: Callable[[str], AbstractContextManager[None]]) -> None:
        self._evidence = evidence
        self._journal = journal
        self._guarded = guarded  # driver errors translated, saying what was being done
        self._dates: dict[int, dt.datetime] = {}  # each version's newest state-changing entry, as last read
        self._reading: Reading | None = None  # as read under the current lock
        self._written: dict[int, AuditEvidence] = {}  # our state changes since

    def forget_reading(self) -> None:
        """A new lock: nothing read under the last one holds any more."""
        self._reading, self._written = None, {}

    def read(self, under_lock: bool = False) -> dict[int, AuditEvidence]:
        """The evidence of every version; `under_lock`: read by the operation holding the lock, so nobody else
        writes state changes until it ends, and kept for `keep`."""
        with self._guarded("to read the audit log"):
            reading = self._evidence.read()
        if under_lock:
            self._reading, self._written = reading, {}
        self._dates = {v: e.date for v, e in reading.evidence.items() if e.date is not None}
        return reading.evidence

    def newest_date(self, version: int) -> dt.datetime | None:
        return self._dates.get(version)

    def written(self, entry: MigrationAuditlogEntry) -> None:
        """Our entry is in the log (committed): the evidence read under this lock plus it is the evidence now."""
        model = entry.migration_read_model
        state = STATE_CHANGES.get(entry.transaction_name)
        if model is not None and state is not None and entry.succeeded and self._reading is not None:
            self._written[model.version] = AuditEvidence(model.version, state, entry.transaction_name, entry.date,
                                                         entry.user, entry.host, entry.id)

    def keep(self, now: dt.datetime, lease_lost: bool) -> None:
        """Under the lock, after an operation that wrote to the audit log: the summary brought up to date when it
        is due, then the log trimmed to `auditlog_limit`, never a version's evidence. Best effort: a failure here
        loses nothing (the log itself is the evidence)."""
        if lease_lost:  # no longer ours to write: the next holder does it
            return
        with contextlib.suppress(PyMongoError):
            reading = self._reading or self._evidence.read()
            if self._written:
                reading = dataclasses.replace(reading, evidence={**reading.evidence, **self._written})
            self._evidence.seal(reading, now)
            self._journal.trim({e.entry_id for e in reading.evidence.values()})
