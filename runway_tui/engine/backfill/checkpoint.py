"""A backfill's checkpoint: what is done, kept in the migration's record (its `backfill` field).

One entry per `ctx.backfill`/`ctx.batches` call of the step, in the order the migration makes them: the last
`_id` done, the counts, and whether the call finished. On a replica set each batch's writes and its checkpoint
commit in one transaction, so the checkpoint is exactly what the database holds. A resumed step runs the
migration again from its start: a finished call returns its stored counts at once, the unfinished one walks on
from its last `_id`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class PauseReason(StrEnum):
    """Why a backfill stopped before its end (each is audited)."""

    SIGNAL = "signal"  # Ctrl-C or SIGTERM
    CANCEL = "cancel"  # asked from a front end: paused and the lease released
    ERROR = "error"  # a batch failed (the server refused it, the connection was lost)
    LEASE_LOST = "lease lost"
    RUNNER_LOST = "runner lost"  # its runner died (kill -9, a lost machine); found once its lease expired


@dataclass(frozen=True)
class CallCheckpoint:
    """One `ctx.backfill`/`ctx.batches` call: how far its walk went."""

    collection: str
    last_id: Any = None
    done: int = 0
    total: int = 0
    matched: int = 0
    modified: int = 0
    finished: bool = False

    def to_document(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_document(cls, doc: Any) -> CallCheckpoint:
        doc = doc if isinstance(doc, dict) else {}
        return cls(collection=str(doc.get("collection", "")), last_id=doc.get("last_id"),
                   done=_count(doc.get("done")), total=_count(doc.get("total")), matched=_count(doc.get("matched")),
                   modified=_count(doc.get("modified")), finished=bool(doc.get("finished")))


@dataclass(frozen=True)
class Checkpoint:
    """The record's `backfill` field: the step's calls, and why it is paused (when it is)."""

    direction: str  # the step that wrote it: "up" or "down"
    checksum: str  # the file it ran from
    calls: tuple[CallCheckpoint, ...] = ()
    replica_set: bool = True  # False: a standalone server, where the last batch may be applied twice
    reason: str | None = None  # a PauseReason, once paused
    paused_by: str | None = None  # "alice@host (pid 4242, tui)"
    paused_at: dt.datetime | None = None

    @property
    def done(self) -> int:
        return sum(c.done for c in self.calls)

    @property
    def total(self) -> int:
        return sum(max(c.total, c.done) for c in self.calls)

    @property
    def percent(self) -> int:
        return min(100, self.done * 100 // self.total) if self.total else 0

    @property
    def last_id(self) -> Any:
        current = next((c for c in reversed(self.calls) if c.done), None)
        return current.last_id if current is not None else None

    def progress_text(self) -> str:
        """`43% (86,000,000 of 200,000,000)`."""
        return f"{self.percent}% ({self.done:,} of {self.total:,})"

    def with_call(self, index: int, call: CallCheckpoint) -> Checkpoint:
        calls = list(self.calls) + [CallCheckpoint(call.collection)] * max(0, index + 1 - len(self.calls))
        calls[index] = call
        return dataclasses.replace(self, calls=tuple(calls))

    def paused(self, reason: PauseReason, by: str, at: dt.datetime) -> Checkpoint:
        return dataclasses.replace(self, reason=reason.value, paused_by=by, paused_at=at)

    def running(self) -> Checkpoint:
        return dataclasses.replace(self, reason=None, paused_by=None, paused_at=None)

    def to_document(self) -> dict[str, Any]:
        return {"direction": self.direction, "checksum": self.checksum,
                "calls": [c.to_document() for c in self.calls], "replica_set": self.replica_set,
                "reason": self.reason, "paused_by": self.paused_by, "paused_at": self.paused_at}

    @classmethod
    def from_document(cls, doc: Any) -> Checkpoint | None:
        if not isinstance(doc, dict) or doc.get("direction") not in ("up", "down"):
            return None
        calls = doc.get("calls") if isinstance(doc.get("calls"), list) else []
        return cls(direction=doc["direction"], checksum=str(doc.get("checksum") or ""),
                   calls=tuple(CallCheckpoint.from_document(c) for c in calls),
                   replica_set=doc.get("replica_set", True) is not False, reason=_text(doc.get("reason")),
                   paused_by=_text(doc.get("paused_by")),
                   paused_at=doc.get("paused_at") if isinstance(doc.get("paused_at"), dt.datetime) else None)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
