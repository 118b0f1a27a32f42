"""Replica-set lag, read from a `replSetGetStatus` document: pure, so it is tested on recorded documents.

The lag of a secondary is the primary's last applied operation time minus its own. Only healthy secondaries
count: a member that is down, starting up or recovering has no meaningful lag (the step says so apart), and a
member the caller names as delayed on purpose (`secondaryDelaySecs`) or hidden is left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

PRIMARY, SECONDARY = 1, 2


def _optime(member: Mapping[str, Any]) -> dt.datetime | None:
    value = member.get("optimeDate")
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    optime = member.get("optime")
    ts = optime.get("ts") if isinstance(optime, Mapping) else None
    seconds = getattr(ts, "time", None)
    return dt.datetime.fromtimestamp(seconds, dt.UTC) if isinstance(seconds, int) else None


def secondary_lag_s(status: Mapping[str, Any], ignore: Collection[str] = ()) -> float | None:
    """The worst lag in seconds among healthy secondaries not in `ignore` (by `name`), or None if there are none."""
    members = [m for m in status.get("members") or [] if isinstance(m, Mapping)]
    primary = next((m for m in members if m.get("state") == PRIMARY), None)
    head = _optime(primary) if primary is not None else None
    if head is None:
        return None
    lags = [(head - optime).total_seconds() for m in members
            if m.get("state") == SECONDARY and m.get("health", 1) == 1 and m.get("name") not in ignore
            and (optime := _optime(m)) is not None]
    return max(0.0, max(lags)) if lags else None


def lag_wait(status: Mapping[str, Any], max_lag_s: float, ignore: Collection[str] = ()) -> str | None:
    """Why the next batch must wait ("secondary lag 12 s > 5 s"), or None when it may go."""
    lag = secondary_lag_s(status, ignore)
    if lag is None or lag <= max_lag_s:
        return None
    return f"secondary lag {lag:.0f} s > {max_lag_s:g} s"
