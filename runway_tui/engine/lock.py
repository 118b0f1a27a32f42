"""The migration lock: one lease document, taken atomically, renewed by a heartbeat.

Expiry times come from the server's clock (measured once per process from `hello.localTime`),
so runners on hosts with skewed clocks agree on when a lease has expired.

Fencing: every acquisition writes a fresh `token` into the lease. Before each write a runner makes
about a step it checks on the server that the lease still carries its token (`verify`; inside the
step's transaction, so the read is part of what commits), and whoever takes the lease away (a runner
taking over an expired lease, `unlock --force`) ends the previous holder's session on the server, so
a transaction still in flight can no longer commit. A runner that lost its lease stops before its
next write and touches nothing it no longer owns (see docs/RELIABILITY.md for the remaining window).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pymongo
from pymongo import ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, PyMongoError

from runway_tui.engine.errors import LockLostError, LockTimeoutError
from runway_tui.engine.messages import visible
from runway_tui.engine.models import LockInfo
from runway_tui.engine.vocabulary import remedy

logger = logging.getLogger("runway_tui.lock")
LOCK_ID = "runway"


class ServerClock:
    """Estimates the server's current time from one `hello` and the local monotonic clock."""

    def __init__(self, hello: Callable[[], dict[str, Any]], seed: dt.datetime | None = None) -> None:
        self._hello = hello
        # A `hello` answered just now (the connection probe) saves the round trip.
        self._base: tuple[dt.datetime, float] | None = (
            (seed.replace(tzinfo=None), time.monotonic()) if isinstance(seed, dt.datetime) else None)

    def now(self) -> dt.datetime:
        if self._base is None:
            sent = time.monotonic()
            local_time = self._hello().get("localTime")
            received = time.monotonic()
            if not isinstance(local_time, dt.datetime):  # very old servers: trust our own clock
                local_time = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            self._base = (local_time.replace(tzinfo=None), (sent + received) / 2)
        server_time, at = self._base
        return server_time + dt.timedelta(seconds=time.monotonic() - at)


class MigrationLock:
    """A lease in the lock collection; `acquire` waits a bounded time and names the holder."""

    def __init__(self, collection: Collection[dict[str, Any]], clock: ServerClock, *, user: str, host: str,
                 pid: int, ttl_s: float, wait_s: float, poll_s: float = 0.25) -> None:
        self.collection = collection
        self.clock = clock
        self.owner = uuid.uuid4().hex
        self.user, self.host, self.pid = user, host, pid
        self.ttl_s, self.wait_s, self.poll_s = ttl_s, wait_s, poll_s
        self._held = False
        self._lost: str | None = None
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self._depth = 0
        self._valid_until = 0.0  # monotonic time our lease surely lasts until (last renewal + TTL)
        self.token: str | None = None  # fencing token of the current acquisition

    @property
    def held(self) -> bool:
        return self._held

    @property
    def lost_reason(self) -> str | None:
        """Why the heartbeat gave our lease up (taken over, not renewed in time), or None while it holds."""
        return self._lost

    def info(self) -> LockInfo | None:
        """The current lease, whoever holds it (a read; never writes)."""
        doc = self.collection.find_one({"_id": LOCK_ID})
        if not doc or not doc.get("owner"):
            return None
        return _info(doc, self.clock.now())

    def try_acquire(self, operation: str, txn_session: dict[str, Any] | None = None) -> LockInfo | None:
        """One atomic attempt. Returns None on success, else the current holder.

        `txn_session` is the id of the session our step transactions will run on: a runner taking
        over this lease after we die (kill -9) ends that session's open transaction on the server.
        """
        self._valid_until = time.monotonic() + self.ttl_s
        now = self.clock.now()
        token = uuid.uuid4().hex
        try:
            previous = self.collection.find_one_and_update(
                {"_id": LOCK_ID, "$or": [{"expires_at": {"$lt": now}}, {"owner": self.owner}, {"owner": None}]},
                {"$set": {"owner": self.owner, "token": token, "user": self.user, "host": self.host, "pid": self.pid,
                          "operation": operation, "acquired_at": now, "txn_session": txn_session,
                          "expires_at": now + dt.timedelta(seconds=self.ttl_s), "heartbeat_at": now}},
                upsert=True, return_document=ReturnDocument.BEFORE)
        except DuplicateKeyError:
            holder = self.info()
            if holder is None:  # released between our attempt and the read: try again at once
                return self.try_acquire(operation, txn_session)
            return holder
        self.token = token
        if previous and previous.get("owner") not in (None, self.owner):
            # We took over an expired lease: end the transaction its runner may still have open (dead, or
            # stopped and about to resume), whose locks would block our writes and whose commit must fail.
            self._end_session_of(previous)
        return None

    def _end_session_of(self, previous: dict[str, Any]) -> None:
        if not previous.get("txn_session"):
            return
        try:
            self.collection.database.client.admin.command("killSessions", [previous["txn_session"]])
        except PyMongoError as exc:
            logger.warning("could not end the transaction left by %s: %s", visible(str(previous.get("owner"))),
                           visible(str(exc)))

    def holds_on_server(self, session: Any = None) -> bool:
        """Whether the lease document still carries our token (one read on the server)."""
        return self.collection.find_one({"_id": LOCK_ID, "owner": self.owner, "token": self.token}, {"_id": 1},
                                        session=session) is not None

    def verify(self, session: Any = None) -> None:
        """Check on the server that the lease still carries our token (in `session`'s transaction when given):
        raise LockLostError, before any write, when another runner or an operator took it away."""
        self.check()
        if not self.holds_on_server(session):
            raise self.taken_away()

    def lease_filter(self) -> dict[str, Any]:
        """Matches the lease only while it carries our token: the fence a step's write is checked against."""
        return {"_id": LOCK_ID, "owner": self.owner, "token": self.token}

    def taken_away(self) -> LockLostError:
        """Note (and return) the loss found by a fenced write or read: nothing more may be written."""
        self._lost = ("the migration lock was taken away while we held it (by a forced unlock, or by another "
                      "runner after our lease expired); nothing more was written")
        return LockLostError(self._lost)

    def acquire(self, operation: str, on_wait: Callable[[LockInfo, float], None] | None = None,
                txn_session: dict[str, Any] | None = None) -> None:
        """Take the lease (re-entrant), waiting up to `wait_s`; start the heartbeat."""
        if self._held:
            self._depth += 1
            return
        started = time.monotonic()
        last_report = -1.0
        while True:
            holder = self.try_acquire(operation, txn_session)
            if holder is None:
                break
            waited = time.monotonic() - started
            if waited >= self.wait_s:
                raise LockTimeoutError(
                    f"the migration lock is held by {holder.holder} for '{holder.operation}' since "
                    f"{_fmt(holder.acquired_at)} (expires {_fmt(holder.expires_at)}); waited {waited:.0f}s. "
                    f"If that runner is dead, wait for the lease to expire or {remedy('unlock')}")
            if on_wait and waited - last_report >= 1.0:
                last_report = waited
                on_wait(holder, waited)
            time.sleep(min(self.poll_s, max(0.01, self.wait_s - waited)))
        self._held, self._lost, self._depth = True, None, 1
        self._stop.clear()
        self._heartbeat = threading.Thread(target=self._beat, name="runway-lock-heartbeat", daemon=True)
        self._heartbeat.start()

    def check(self) -> None:
        """Raise if the lease was lost (expired and taken over) since we took it."""
        if self._held and not self._lost and time.monotonic() >= self._valid_until:
            self._lost = "the migration lock expired: it could not be renewed in time"
        if self._lost:
            raise LockLostError(self._lost)

    def release(self) -> None:
        if not self._held:
            return
        self._depth -= 1
        if self._depth > 0:
            return
        self._stop.set()
        if self._heartbeat:
            self._heartbeat.join(timeout=5)
        self._held = False
        try:
            with pymongo.timeout(max(1.0, min(self.ttl_s / 2, 5.0))):  # bounded: the server may be gone
                self.collection.delete_one({"_id": LOCK_ID, "owner": self.owner})
        except PyMongoError as exc:  # the lease will expire by itself
            logger.warning("could not release the migration lock (it expires in %ss): %s", self.ttl_s,
                           visible(str(exc).split(", Timeout:")[0]))

    def _beat(self) -> None:
        interval = max(0.05, self.ttl_s / 3)
        while not self._stop.wait(interval):
            try:
                sent = time.monotonic()
                now = self.clock.now()
                result = self.collection.update_one(
                    {"_id": LOCK_ID, "owner": self.owner},
                    {"$set": {"expires_at": now + dt.timedelta(seconds=self.ttl_s), "heartbeat_at": now}})
                if result.matched_count == 0:
                    self._lost = "the migration lock was taken over by another runner after our lease expired"
                    return
                self._valid_until = sent + self.ttl_s
            except PyMongoError as exc:  # transient: the next beat retries before the lease runs out
                logger.warning("lock heartbeat failed: %s", visible(str(exc).split(", Timeout:")[0]))
                if time.monotonic() >= self._valid_until:  # no renewal within the TTL: others may take over
                    self._lost = "the migration lock expired: it could not be renewed in time"
                    return

    def force_release(self, only_expired: bool) -> LockInfo | None:
        """Remove the current lease (expired only, unless forced). Returns what was removed."""
        holder = self.info()
        if holder is None:
            return None
        query: dict[str, Any] = {"_id": LOCK_ID, "owner": holder.owner}
        if only_expired:
            query["expires_at"] = {"$lt": self.clock.now()}
        removed = self.collection.find_one_and_delete(query)
        if removed is None:
            return None
        self._end_session_of(removed)  # a step still in flight on the holder's side can no longer commit
        return holder


def _info(doc: dict[str, Any], now: dt.datetime) -> LockInfo:
    expires = doc.get("expires_at")
    return LockInfo(owner=str(doc.get("owner")), user=str(doc.get("user", "?")), host=str(doc.get("host", "?")),
                    pid=int(doc.get("pid", 0) or 0), acquired_at=doc.get("acquired_at"), expires_at=expires,
                    operation=str(doc.get("operation", "")), expired=bool(expires and expires < now))


def _fmt(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "?"
