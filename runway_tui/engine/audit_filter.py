"""What an incident review asks of the audit log: a time window, who, which actions; as one server query.

The conditions are plain equalities and one `date` range, so the server answers them from the `date` index
(the newest-first pages narrow the range further, see `audit_pages`); nothing is filtered after reading.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from runway_tui.engine.vocabulary import ACTION_LABELS, action_label


class ActionError(ValueError):
    """An action that is neither one of the audit log's names nor a word starting some of them."""


def known_actions() -> list[str]:
    return list(ACTION_LABELS.values())


def transaction_names(actions: str | Iterable[str]) -> tuple[str, ...]:
    """Audit actions as people name them -> the stored transaction names. An action is a name the front ends
    show ("up", "mark applied"), one of its words ("mark": both marks, "unlock": both unlocks) or the stored
    name ("UpgradeTransaction"); several are separated by commas."""
    items = [a for a in (actions.split(",") if isinstance(actions, str) else actions)]
    names: list[str] = []
    for item in (" ".join(a.split()).lower() for a in items):
        if not item:
            continue
        found = [name for name, label in ACTION_LABELS.items()
                 if item in (label, name.lower()) or item in label.split(" ")]
        if not found:
            raise ActionError(f"unknown action {item!r}; the audit log's actions are: "
                              f"{', '.join(known_actions())}")
        names += [n for n in found if n not in names]
    if not names:
        raise ActionError(f"no action given; the audit log's actions are: {', '.join(known_actions())}")
    return tuple(names)


@dataclass(frozen=True)
class AuditFilter:
    """Entries dated in [since, until], written by `user` (at `host`), of the given transaction names."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    user: str | None = None
    host: str | None = None
    actions: tuple[str, ...] = ()  # stored transaction names

    @classmethod
    def of(cls, since: dt.datetime | None = None, until: dt.datetime | None = None, user: str | None = None,
           action: str | Iterable[str] | None = None) -> AuditFilter:
        """`user` may be "alice" or "alice@host" (as the front ends show who did it)."""
        name, host = (user.split("@", 1) if user and "@" in user else (user, None))
        return cls(since, until, name or None, host or None, transaction_names(action) if action else ())

    @property
    def empty(self) -> bool:
        return self == AuditFilter()

    def conditions(self) -> dict[str, Any]:
        """The equality conditions (everything but the date range)."""
        query: dict[str, Any] = {}
        if self.user:
            query["user"] = self.user
        if self.host:
            query["host"] = self.host
        if self.actions:
            query["transaction_name"] = self.actions[0] if len(self.actions) == 1 else {"$in": list(self.actions)}
        return query

    def query(self) -> dict[str, Any]:
        query = self.conditions()
        bounds = {k: v for k, v in (("$gte", self.since), ("$lte", self.until)) if v is not None}
        if bounds:
            query["date"] = bounds
        return query

    def describe(self) -> str:
        """For a header line: "since 2026-03-14 07:30:00 UTC · by alice · action up, down"."""
        parts = []
        if self.since is not None:
            parts.append(f"since {self.since:%Y-%m-%d %H:%M:%S} UTC")
        if self.until is not None:
            parts.append(f"until {self.until:%Y-%m-%d %H:%M:%S} UTC")
        if self.user or self.host:
            parts.append(f"by {self.user or '*'}" + (f"@{self.host}" if self.host else ""))
        if self.actions:
            parts.append("action " + ", ".join(action_label(a) for a in self.actions))
        return " · ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"since": self.since, "until": self.until, "user": self.user, "host": self.host,
                "actions": [action_label(a) for a in self.actions]}


def narrowed(where: AuditFilter, start: dt.datetime | None, end: dt.datetime | None) -> AuditFilter:
    """`where` within [start, end] as well (Mongorunway's `history(start, end)` window)."""
    since = max(d for d in (where.since, start) if d is not None) if where.since or start else None
    until = min(d for d in (where.until, end) if d is not None) if where.until or end else None
    return AuditFilter(since, until, where.user, where.host, where.actions)
