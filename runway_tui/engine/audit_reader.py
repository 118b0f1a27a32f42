"""`AuditReader`: the audit log as the API reads it (history, filters, the state at a moment, stored sources).

Every read goes through `guarded` (driver errors translated); times people type ("2h", "2026-03-14T09:30")
are resolved against the server's clock, and a value that does not parse is a UsageError.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from runway_tui.engine.audit_filter import ActionError, AuditFilter
from runway_tui.engine.errors import UsageError
from runway_tui.engine.models import MigrationAuditlogEntry
from runway_tui.engine.state_at import StateAt
from runway_tui.engine.timespec import TimeSpec, TimeSpecError, resolve_time

if TYPE_CHECKING:
    from runway_tui.engine.store.protocol import MigrationStore

When = dt.datetime | TimeSpec | str | None


class AuditReader:
    def __init__(self, store: MigrationStore, now: Callable[[], dt.datetime], server_now: Callable[[], dt.datetime],
                 guarded: Callable[..., AbstractContextManager[None]]) -> None:
        self._journal, self._sources = store.audit, store.sources
        self._now = now  # the engine's clock (the server's, or a test's)
        self._server_now = server_now  # the lease's estimate of the server's clock
        self._guarded = guarded

    def history(self, limit: int | None = 10, skip: int = 0, *, ascending: bool = False, version: int | None = None,
                text: str | None = None, before: MigrationAuditlogEntry | None = None, since: When = None,
                until: When = None, user: str | None = None,
                action: str | Iterable[str] | None = None) -> list[MigrationAuditlogEntry]:
        """Audit entries, newest first; page with `before=<last entry shown>` (keyset, no skipping).

        `since`/`until` (inclusive): a datetime (naive is UTC), or text such as "2026-03-14T09:30" or "2h"
        (two hours before the server's now); `user`: "alice" or "alice@host"; `action`: "up", "mark",
        "accept drift"... (comma-separated for several). All are one query the server answers from the
        `date` index. A value that does not parse raises UsageError."""
        where = self.audit_filter(since=since, until=until, user=user, action=action)
        with self._guarded():
            return self._journal.history(limit=limit, skip=skip, ascending=ascending, version=version, text=text,
                                         before=before, now=self._server_now(), where=where)

    def audit_filter(self, *, since: When = None, until: When = None, user: str | None = None,
                     action: str | Iterable[str] | None = None) -> AuditFilter:
        """The filter `history` applies, its times resolved against the server's clock (UsageError: bad input)."""
        now = self._now()
        times = {}
        for name, value in (("since", since), ("until", until)):
            try:
                times[name] = resolve_time(value, now)
            except TimeSpecError as exc:
                raise UsageError(f"{name}: {exc}") from None
        try:
            return AuditFilter.of(times["since"], times["until"], user, action)
        except ActionError as exc:
            raise UsageError(f"action: {exc}") from None

    def state_at(self, at: dt.datetime | TimeSpec | str) -> StateAt:
        """Which versions were applied at `at`, from the audit log alone (engine/state_at.py)."""
        try:
            moment = resolve_time(at, self._now())
        except TimeSpecError as exc:
            raise UsageError(f"at: {exc}") from None
        assert moment is not None
        with self._guarded("to read the audit log"):
            return StateAt.of(moment, self._journal.states_at(moment))

    def history_since(self, shown: list[MigrationAuditlogEntry], limit: int) -> list[MigrationAuditlogEntry] | None:
        """The entries written after the newest of `shown`, newest first; None when there are `limit` or more."""
        with self._guarded():
            return self._journal.newer_than(shown, limit)

    def stored_source(self, version: int, checksum: str) -> str | None:
        """The text that was applied as `version` with `checksum`, or None (applied before sources were kept,
        by another tool, or too large to keep)."""
        with self._guarded():
            return self._sources.find(version, checksum)

    def history_count(self, version: int | None = None, text: str | None = None) -> int:
        with self._guarded():
            return self._journal.count(version=version, text=text)
