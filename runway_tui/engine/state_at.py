"""Which versions were applied at a given moment, from the audit log alone (the migrations collection only
says what holds now): for each version, its newest successful state change dated at or before that moment.

One aggregation on the server (match on `date`, newest first, the first entry per version). An up, a mark
applied or a baseline leaves a version applied; a down or a mark pending leaves it pending; a forget removes
its record (not applied). Failed attempts change nothing here: a failed step's record is not applied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pymongo.collection import Collection

from runway_tui.engine.vocabulary import action_label

STATES_AFTER = {"UpgradeTransaction": "applied", "MarkAppliedTransaction": "applied",
                "BaselineTransaction": "applied", "DowngradeTransaction": "pending",
                "MarkPendingTransaction": "pending", "ForgetTransaction": "forgotten"}


def read_states(collection: Collection[dict[str, Any]], at: dt.datetime) -> dict[int, dict[str, Any]]:
    """{version: {transaction_name, date, user, host, name}} of each version's last state change up to `at`."""
    pipeline = [
        {"$match": {"date": {"$lte": at}, "transaction_name": {"$in": list(STATES_AFTER)}, "exc_name": None}},
        {"$sort": {"date": -1, "_id": -1}},
        {"$group": {"_id": "$migration_read_model.version", "transaction_name": {"$first": "$transaction_name"},
                    "date": {"$first": "$date"}, "user": {"$first": "$user"}, "host": {"$first": "$host"},
                    "name": {"$first": "$migration_read_model.name"}}},
    ]
    return {int(doc["_id"]): doc for doc in collection.aggregate(pipeline)
            if isinstance(doc.get("_id"), int) and not isinstance(doc.get("_id"), bool)}


def newest(*found: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Per version, the newest of several logs' answers (Mongorunway's log and ours)."""
    result: dict[int, dict[str, Any]] = {}
    for states in found:
        for version, change in states.items():
            mine = result.get(version)
            if mine is None or (isinstance(change.get("date"), dt.datetime)
                                and (not isinstance(mine.get("date"), dt.datetime) or change["date"] > mine["date"])):
                result[version] = change
    return result


@dataclass(frozen=True)
class VersionAt:
    """One version as the audit log had it at the moment asked about."""

    version: int
    name: str
    state: str  # applied, pending or forgotten
    since: dt.datetime | None  # when its last state change happened
    action: str  # that change, as the front ends name it ("up", "mark applied"...)
    user: str | None = None
    host: str | None = None

    @property
    def applied(self) -> bool:
        return self.state == "applied"

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "name": self.name, "state": self.state, "since": self.since,
                "action": self.action, "user": self.user, "host": self.host}


@dataclass(frozen=True)
class StateAt:
    """The state at `at`: every version the audit log had changed by then, in version order."""

    at: dt.datetime
    versions: list[VersionAt] = field(default_factory=list)

    @classmethod
    def of(cls, at: dt.datetime, states: dict[int, dict[str, Any]]) -> StateAt:
        rows = [VersionAt(version, str(doc.get("name") or version), STATES_AFTER[doc["transaction_name"]],
                          doc.get("date"), action_label(doc["transaction_name"]), doc.get("user"), doc.get("host"))
                for version, doc in sorted(states.items())]
        return cls(at, rows)

    @property
    def applied(self) -> list[VersionAt]:
        return [v for v in self.versions if v.applied]

    @property
    def current_version(self) -> int | None:
        return max((v.version for v in self.applied), default=None)

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "current_version": self.current_version,
                "applied": [v.version for v in self.applied], "migrations": [v.to_json() for v in self.versions]}
