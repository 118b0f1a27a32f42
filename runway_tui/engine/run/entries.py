"""`AuditEntries`: every audit entry this app writes, dated after the evidence of its version and named by who."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from bson import ObjectId
from bson.binary import Binary

from runway_tui.engine.messages import exception_message
from runway_tui.engine.models import MigrationAuditlogEntry, MigrationReadModel, Runner
from runway_tui.version import __version__


class AuditEntries:
    """Builds entries; the store writes them. `newest_date(version)`: the newest entry known about a version."""

    def __init__(self, *, session_id: Binary, date_fmt: str, now: Callable[[], dt.datetime],
                 newest_date: Callable[[int], dt.datetime | None], who: Callable[[], tuple[str, str]],
                 pid: Callable[[], int],
                 front_end: str, overrides: Callable[[], tuple[str, ...]], redact: Callable[[str], str]) -> None:
        self._session_id, self._date_fmt, self._now, self._newest = session_id, date_fmt, now, newest_date
        self._who, self._pid, self._front_end = who, pid, front_end  # (user, host), read at each entry
        self._overrides, self._redact = overrides, redact

    def entry(self, transaction_name: str, model: MigrationReadModel | None, *, duration_ms: int | None = None,
              exc: BaseException | None = None, detail: str | None = None, runner: Runner | None = None,
              entry_id: Any = None) -> MigrationAuditlogEntry:
        """An entry by us (or, with `runner`, about an attempt of that runner's that we found abandoned);
        `entry_id`: a step's attempt has one, so that its failure replaces a success written first."""
        date, (user, host) = self._now(), self._who()
        previous = self._newest(model.version) if model is not None else None
        if previous is not None and date <= previous:
            # Runners estimate the server's clock, each a few milliseconds off: the runner that took the lock
            # after another could date its entry before the other's. Entries about one version are kept in the
            # order they happened (the lock serialises them), so the newest is the audit log's evidence.
            date = previous + dt.timedelta(milliseconds=1)
        return MigrationAuditlogEntry(
            session_id=self._session_id, transaction_name=transaction_name, migration_read_model=model,
            date_fmt=self._date_fmt, date=date, exc_name=type(exc).__name__ if exc else None,
            exc_message=exception_message(exc, self._redact) if exc else None, duration_ms=duration_ms,
            user=runner.user if runner else user, host=runner.host if runner else host,
            engine_version=__version__, client=runner.client if runner else self._front_end,
            pid=runner.pid if runner else self._pid(), overrides=() if runner else self._overrides(),
            detail=self._redact(detail) if detail else None, id=entry_id if entry_id is not None else ObjectId())
