"""Moments as people type them for an incident review: ISO 8601 (`2026-03-14`, `2026-03-14T09:30`,
`2026-03-14 09:30:00+01:00`) or a time ago (`90s`, `30m`, `2h`, `7d`, `1w`, `1h30m`), and `now`.

A time without an offset is UTC, as every date runway shows. The result is a naive UTC datetime, as the
audit log stores them. A time ago is resolved against the caller's clock (the engine's is the server's, the
clock that dated the entries), so `TimeSpec.parse` checks the text before anything connects and
`resolve(now)` gives the moment later.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_AGO = re.compile(r"(\d+)\s*([smhdw])", re.IGNORECASE)
_AGO_WHOLE = re.compile(r"(?:\d+\s*[smhdw]\s*)+(?:ago)?", re.IGNORECASE)
EXAMPLES = "an ISO 8601 time such as 2026-03-14 or 2026-03-14T09:30 (UTC unless it has an offset), or a time " \
           "ago such as 30m, 2h, 7d"


class TimeSpecError(ValueError):
    """The text is neither an ISO 8601 time nor a time ago (the message says what is accepted)."""


@dataclass(frozen=True)
class TimeSpec:
    """A moment as given: absolute (`moment`) or that long before now (`ago`)."""

    text: str
    moment: dt.datetime | None = None
    ago: dt.timedelta | None = None

    @classmethod
    def parse(cls, text: str) -> TimeSpec:
        raw = text.strip()
        if not raw:
            raise TimeSpecError(f"expected {EXAMPLES}; got an empty value")
        if raw.lower() == "now":
            return cls(raw, ago=dt.timedelta(0))
        if _AGO_WHOLE.fullmatch(raw):
            seconds = sum(int(n) * UNITS[unit.lower()] for n, unit in _AGO.findall(raw))
            return cls(raw, ago=dt.timedelta(seconds=seconds))
        try:
            moment = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise TimeSpecError(f"expected {EXAMPLES}; got {text!r}") from None
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        return cls(raw, moment=moment)

    def resolve(self, now: dt.datetime) -> dt.datetime:
        """The moment: as given, or `ago` before `now` (naive UTC, to the millisecond as BSON keeps it)."""
        if self.moment is not None:
            moment = self.moment
        else:
            assert self.ago is not None
            moment = now.replace(tzinfo=None) - self.ago
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def resolve_time(value: dt.datetime | TimeSpec | str | None, now: dt.datetime) -> dt.datetime | None:
    """A datetime (naive: UTC; aware: converted), a TimeSpec or its text, resolved against `now`."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo is not None else value
    spec = value if isinstance(value, TimeSpec) else TimeSpec.parse(value)
    return spec.resolve(now)
