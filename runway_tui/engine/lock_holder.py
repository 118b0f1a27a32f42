"""The migration lock's current holder and the step it runs, as its lease says: plain data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LeaseStep:
    """The step a lease holder is running, as its heartbeat last wrote it into the lease (with its progress)."""

    version: int
    name: str
    direction: str
    since: dt.datetime | None
    done: int | None = None
    total: int | None = None
    paused_by: str | None = None  # a backfill paused in place (lease held): who asked

    @classmethod
    def from_document(cls, doc: Any) -> LeaseStep | None:
        if not isinstance(doc, dict) or not isinstance(doc.get("version"), int):
            return None
        return cls(version=doc["version"], name=str(doc.get("name", "")), direction=str(doc.get("direction", "up")),
                   since=doc.get("since"), done=doc.get("done"), total=doc.get("total"),
                   paused_by=doc.get("paused_by") if isinstance(doc.get("paused_by"), str) else None)


@dataclass(frozen=True)
class LockInfo:
    """The current holder of the migration lock, if any."""

    owner: str
    user: str
    host: str
    pid: int
    acquired_at: dt.datetime | None
    expires_at: dt.datetime | None
    operation: str
    expired: bool
    client: str | None = None  # cli, tui, api (absent in a lease written before runway-tui recorded it)
    heartbeat_at: dt.datetime | None = None
    step: LeaseStep | None = None
    process_gone: bool = False  # on this very host (and pid namespace), its pid is not running
    silent_s: float | None = None  # seconds since its last heartbeat, when it missed more than one beat

    @property
    def holder(self) -> str:
        return f"{self.user}@{self.host} (pid {self.pid})"

    @property
    def who(self) -> str:
        """The holder with its client: `alice@ops-1 (pid 4242, cli)`."""
        return f"{self.user}@{self.host} (pid {self.pid}{', ' + self.client if self.client else ''})"

    @property
    def live(self) -> bool:
        """Its runner holds it: not expired, and (on this host) its process still runs."""
        return not self.expired and not self.process_gone

    @property
    def looks_dead(self) -> bool:
        """Its process is gone, or its heartbeat stopped: it is unlikely to release the lease before it expires."""
        return self.process_gone or self.silent_s is not None

    def gone_reason(self) -> str:
        """Why its runner is taken to be gone (empty while it looks alive)."""
        if self.process_gone:
            return f"its process (pid {self.pid}) is not running on {self.host}"
        if self.expired:
            return f"its lease expired unreleased at {_fmt_time(self.expires_at)} UTC"
        if self.silent_s is not None:
            return f"its heartbeat stopped {self.silent_s:.0f}s ago"
        return ""

    def to_json(self) -> dict[str, Any]:
        return {"owner": self.owner, "user": self.user, "host": self.host, "pid": self.pid,
                "acquired_at": self.acquired_at.isoformat() + "Z" if self.acquired_at else None,
                "expires_at": self.expires_at.isoformat() + "Z" if self.expires_at else None,
                "operation": self.operation, "expired": self.expired, "client": self.client,
                "heartbeat_at": self.heartbeat_at.isoformat() + "Z" if self.heartbeat_at else None,
                "alive": self.live and not self.looks_dead, "gone_reason": self.gone_reason() or None,
                "step": {"version": self.step.version, "name": self.step.name, "direction": self.step.direction,
                         "since": _iso(self.step.since), "done": self.step.done, "total": self.step.total}
                if self.step else None}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() + "Z" if isinstance(value, dt.datetime) else None


def _fmt_time(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, dt.datetime) else "?"
