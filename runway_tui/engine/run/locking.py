"""`LeaseHolding`: an operation holds the migration lock, waiting a bounded time, with the run's session.

The wait tells the front ends every second (LockWaitingEvent) and the log once, and once more when the holder
looks dead; it can be cancelled from another thread. Where the database stood when the wait began is kept,
so a run overtaken meanwhile says who moved it (engine/moved.py). Taking over an expired lease is audited.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pymongo.errors import PyMongoError

from runway_tui.engine.errors import LockWaitCancelledError
from runway_tui.engine.events import LockAcquiredEvent, LockReleasedEvent, LockWaitingEvent

if TYPE_CHECKING:
    from runway_tui.engine.lock import MigrationLock
    from runway_tui.engine.models import LockInfo, MigrationAuditlogEntry
    from runway_tui.engine.run.deps import RunEvents
    from runway_tui.engine.run.session import RunSession
    from runway_tui.engine.store.protocol import MigrationStore


@dataclass(frozen=True)
class LeaseParts:
    """What holding the lease uses."""

    lock: MigrationLock
    sessions: RunSession
    store: MigrationStore
    events: RunEvents
    guarded: Callable[[str], AbstractContextManager[None]]  # driver errors translated, saying what was done
    entry: Callable[..., MigrationAuditlogEntry]  # an audit entry by us
    on_acquired: Callable[[], None]  # a new lock: what was read under the last one no longer holds


class LeaseHolding:
    """One per connected engine."""

    def __init__(self, parts: LeaseParts) -> None:
        self._parts = parts
        self._cancel = threading.Event()  # set by cancel_wait() from another thread
        self._indexes_ready = False
        # our last wait: when it began and the database's version then (None: we did not wait)
        self.waited: tuple[dt.datetime, int | None] | None = None

    def cancel_wait(self) -> None:
        self._cancel.set()

    def collections_changed(self) -> None:
        """A migration changed runway's collections (engine/guard.py): indexes are made again at the next lock."""
        self._indexes_ready = False

    def moved_since_wait(self, version: int | None) -> bool:
        return self.waited is not None and self.waited[1] != version

    @contextlib.contextmanager
    def held(self, operation: str) -> Iterator[None]:
        """Hold the migration lock for `operation` (waiting a bounded time) and make sure our indexes exist."""
        parts, lock = self._parts, self._parts.lock
        self._cancel.clear()
        self.waited = None
        parts.on_acquired()
        # One session for the whole operation: each step's transaction runs on it, and its id is
        # written with the lease (no extra round trip) so a runner taking over after a crash can end it.
        session = parts.sessions.open()
        try:
            with parts.guarded("to take the migration lock"):
                lock.acquire(operation, self._waiting(), txn_session=session.session_id)
        except BaseException:
            parts.sessions.end()
            raise
        parts.events.emit(LockAcquiredEvent(parts.events.source, operation))
        try:
            with parts.guarded("to create the engine's indexes"):
                if not self._indexes_ready:
                    parts.store.ensure_indexes()
                    self._indexes_ready = True
            if lock.took_over is not None:
                with parts.guarded("to record the lease taken over"):
                    self._record_take_over(lock.took_over, operation)
            yield
        finally:
            lock.release()
            parts.sessions.end()
            parts.events.emit(LockReleasedEvent(parts.events.source, operation))

    def _waiting(self) -> Callable[[LockInfo, float], None]:
        parts, lock = self._parts, self._parts.lock
        told: list[bool] = []

        def waiting(holder: LockInfo, waited: float) -> None:
            if self.waited is None:  # where the database stood: a run overtaken meanwhile says so
                with contextlib.suppress(PyMongoError):
                    self.waited = (lock.clock.now(), parts.store.records.current_version())
            if self._cancel.is_set():
                raise LockWaitCancelledError(f"cancelled while waiting for the migration lock held by "
                                             f"{holder.holder} ({waited:.0f}s); nothing was run")
            parts.events.emit(LockWaitingEvent(parts.events.source, holder, waited))  # every second
            dead = holder.looks_dead
            if len(told) < 1 + dead:  # the log says it once, and once more when the holder looks dead
                told.extend([True] * (1 + dead - len(told)))
                parts.events.log("warning", waiting_line(holder, lock.wait_s, lock.clock.now()))

        return waiting

    def _record_take_over(self, previous: LockInfo, operation: str) -> None:
        """The audit log says that a runner left its lease unreleased and that we took it over."""
        since = f" since {previous.acquired_at:%Y-%m-%d %H:%M:%S} UTC" if previous.acquired_at else ""
        expired = f" at {previous.expires_at:%Y-%m-%d %H:%M:%S} UTC" if previous.expires_at else ""
        detail = (f"lease expired unreleased: {previous.who} held it for '{previous.operation}'{since}, and it "
                  f"expired{expired}; taken over for '{operation}'")
        self._parts.store.audit.append(self._parts.entry("LeaseTakenOverTransaction", None, detail=detail))
        self._parts.events.log("warning", f"took over the migration lock: {detail}")


def waiting_line(holder: LockInfo, wait_s: float, now: dt.datetime) -> str:
    """The one log line of a wait: who holds the lock, and at once whether that runner looks dead."""
    if holder.looks_dead:
        left = (holder.expires_at - now).total_seconds() if holder.expires_at else None
        expiry = f"; its lease expires in {left:.0f}s" if left is not None else ""
        return (f"the migration lock is held by {holder.who}, but {holder.gone_reason()}: that runner looks dead"
                f"{expiry}, and we take the lock over then (waiting up to {wait_s:g}s)")
    return f"waiting for the migration lock held by {holder.who} for '{holder.operation}' (up to {wait_s:g}s)"
