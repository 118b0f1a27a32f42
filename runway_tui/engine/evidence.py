"""The audit log's evidence of each version's state, readable at any size of the log.

The audit log outvotes the migrations collection: a version whose newest successful state change (up,
down, mark, baseline) says it is applied is never run again because its record, dropped or rewritten,
says pending (and the other way round). Every plan, `status` and `check` compares every record with it,
so it must be cheap to read: a log of 100k entries cannot be aggregated on every poll.

So the engine keeps a summary beside the log (`<auditlog>_evidence`, one document): each version's newest
state-changing entry, and the server's time when it was written. It is written under the migration lock
at the end of an operation, when due (an hour old, or 50 versions changed since); readers take it and add
the entries dated from a little before that time (a bare range on the log's `date` index). That is exact
because every runner writes its entries under the lock, dated by its estimate of the server's clock (off
by milliseconds, well inside `MARGIN`: a minute), and a run's transaction commits before its lock is
released. After a big run, that minute holds its many entries: the summary also keeps how many there were,
and a reader that counts as many (one count on the `date` index) reads only the entries after the stamp. A missing or
unreadable summary means the whole log is read (once per command: an old database, or a dropped
summary), and it is written again at the next operation. Mongorunway's own log (compatibility shape) is
always read whole: its runners do not take our lock and date their entries by their local clock.

The summary also survives what happens to the log itself: entries deleted or the log dropped, the
evidence stays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pymongo.collection import Collection
from pymongo.database import Database

from runway_tui.engine.models import AuditEvidence
from runway_tui.engine.repository import STATE_CHANGES
from runway_tui.engine.store.collections import AUDIT, OwnCollection
from runway_tui.engine.store.protocol import AuditStore

SUFFIX = "_evidence"
SUMMARY_ID = "summary"
MARGIN = dt.timedelta(minutes=1)  # entries dated this long before the summary was written are read again
REFRESH = dt.timedelta(hours=1)  # the summary is written again once this old, keeping the window short
SEAL_AFTER = 50  # ... or once this many versions changed since (a TUI step does not write it every time)
COUNT_WINDOW_FROM = 100  # a last minute of at least this many entries is counted again, not read again


def evidence_collection(auditlog_collection: str) -> str:
    return auditlog_collection + SUFFIX


@dataclass(frozen=True)
class Reading:
    """The evidence as read, with the summary it was built on (what `seal` compares against)."""

    evidence: dict[int, AuditEvidence]
    stored: dict[int, AuditEvidence] | None  # None: there was no (usable) summary
    stamped: dt.datetime | None


class EvidenceStore:
    """The summary of the audit log's evidence; `read` never writes, `seal` runs under the migration lock."""

    def __init__(self, database: Database[dict[str, Any]], auditlog_collection: str, journal: AuditStore) -> None:
        self.collection: Collection[dict[str, Any]] = database[evidence_collection(auditlog_collection)]
        self.journal = journal

    def own_collections(self) -> list[OwnCollection]:
        return [OwnCollection(self.collection.name, "audit evidence", AUDIT)]

    def read(self) -> Reading:
        """Each version's newest successful state change: the summary plus the entries written since."""
        doc = self.collection.find_one({"_id": SUMMARY_ID})
        stamped, stored = _parse(doc)
        if stored is None or stamped is None:
            return Reading(self.journal.state_changes(), None, None)
        evidence = dict(stored)
        since = stamped - MARGIN
        window = doc.get("window") if doc is not None else None
        if isinstance(window, int) and window >= COUNT_WINDOW_FROM and self._in_window(stamped) == window:
            since = stamped  # the summary has every entry of its last minute (a big run's): not read again
        for version, newer in self.journal.state_changes(since=since).items():
            if newer.is_newer_than(evidence.get(version)):
                evidence[version] = newer
        return Reading(evidence, stored, stamped)

    def seal(self, reading: Reading, now: dt.datetime) -> bool:
        """Write what the summary lacks of `reading` (read under the same lock), stamped with the server's time
        `now`. Writes nothing when nothing changed (or there is nothing to keep yet)."""
        stored = reading.stored or {}
        changed = {v: e for v, e in reading.evidence.items() if v not in stored or stored[v].entry_id != e.entry_id}
        if reading.stored is None and not reading.evidence:
            return False  # a database without any state change yet: nothing to keep
        if reading.stored is not None and reading.stamped is not None and len(changed) < SEAL_AFTER \
                and now - reading.stamped < REFRESH:
            return False  # readers still find the few changes since in the log's newest entries
        # the whole map at once: SecantusDB takes ~20 ms for 1000 versions so, ~0.5 s as 1000 dotted paths
        versions = {str(v): _document(e) for v, e in sorted(reading.evidence.items())}
        self.collection.update_one({"_id": SUMMARY_ID}, {"$set": {"updated_at": now, "versions": versions,
                                                                  "window": self._in_window(now)}}, upsert=True)
        return True

    def _in_window(self, stamped: dt.datetime) -> int:
        """Entries of our log dated within MARGIN before `stamped` (a count on the `date` index): the same
        number later means no entry appeared there since (one that becomes visible late would add to it)."""
        return self.journal.count_dated(stamped - MARGIN, stamped)


def _document(evidence: AuditEvidence) -> dict[str, Any]:
    return {"transaction_name": evidence.transaction_name, "date": evidence.date, "user": evidence.user,
            "host": evidence.host, "entry_id": evidence.entry_id}


def _parse(doc: dict[str, Any] | None) -> tuple[dt.datetime | None, dict[int, AuditEvidence] | None]:
    """The summary's stamp and versions; (None, None) when it is missing or not one we wrote."""
    if not doc or not isinstance(doc.get("updated_at"), dt.datetime) or not isinstance(doc.get("versions"), dict):
        return None, None
    versions: dict[int, AuditEvidence] = {}
    for key, value in doc["versions"].items():
        name = value.get("transaction_name") if isinstance(value, dict) else None
        if not str(key).isdecimal() or name not in STATE_CHANGES:
            return None, None  # not ours, or damaged: the log decides
        assert isinstance(value, dict)
        date = value.get("date") if isinstance(value.get("date"), dt.datetime) else None
        versions[int(key)] = AuditEvidence(int(key), STATE_CHANGES[name], name, date, value.get("user"),
                                           value.get("host"), value.get("entry_id"))
    return doc["updated_at"], versions
