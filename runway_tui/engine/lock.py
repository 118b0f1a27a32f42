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

import dataclasses
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
from runway_tui.engine.models import LeaseStep, LockInfo
from runway_tui.engine.runners import pid_namespace, process_running
from runway_tui.engine.store import driver_errors
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
                 pid: int, ttl_s: float, wait_s: float, poll_s: float = 0.25, client: str = "api") -> None:
        self.collection = collection
        self.clock = clock
        self.owner = uuid.uuid4().hex
        self.user, self.host, self.pid, self.client = user, host, pid, client
        self.pid_ns = pid_namespace()
        self.ttl_s, self.wait_s, self.poll_s = ttl_s, wait_s, poll_s
        self._held = False
        self._lost: str | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()  # the heartbeat writes now: the step in progress changed
        self._heartbeat: threading.Thread | None = None
        self._depth = 0
        self._valid_until = 0.0  # monotonic time our lease surely lasts until (last renewal + TTL)
        self.token: str | None = None  # fencing token of the current acquisition
        self._step: dict[str, Any] | None = None  # the step in progress, written into the lease by the heartbeat
        self._step_written: tuple[Any, ...] | None = None
        self.took_over: LockInfo | None = None  # the expired lease our last acquisition replaced
        self._taken_for: tuple[str, dict[str, Any] | None] = ("", None)  # (operation, txn_session) of acquire

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
        return self._info(doc, self.clock.now())

    def _info(self, doc: dict[str, Any], now: dt.datetime) -> LockInfo:
        info = _info(doc, now)
        same_machine = info.host == self.host and (doc.get("pid_ns") is None or self.pid_ns is None
                                                   or doc.get("pid_ns") == self.pid_ns)
        gone = same_machine and info.owner != self.owner and not process_running(info.pid)
        return dataclasses.replace(info, process_gone=gone) if gone else info

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
                          "pid_ns": self.pid_ns, "client": self.client, "operation": operation, "acquired_at": now,
                          "txn_session": txn_session, "expires_at": now + dt.timedelta(seconds=self.ttl_s),
                          "heartbeat_at": now, "step": None}},
                upsert=True, return_document=ReturnDocument.BEFORE)
        except DuplicateKeyError:
            holder = self.info()
            if holder is None:  # released between our attempt and the read: try again at once
                return self.try_acquire(operation, txn_session)
            return holder
        self.token = token
        self._step = None
        self._step_written = None
        self.took_over = None
        if previous and previous.get("owner") not in (None, self.owner):
            # We took over an expired lease: end the transaction its runner may still have open (dead, or
            # stopped and about to resume), whose locks would block our writes and whose commit must fail.
            self.took_over = _info(previous, now)
            self._end_session_of(previous)
        return None

    def _end_session_of(self, previous: dict[str, Any]) -> None:
        if not previous.get("txn_session"):
            return
        try:
            self.collection.database.client.admin.command("killSessions", [previous["txn_session"]])
        except PyMongoError as exc:
            logger.warning("could not end the transaction left by %s: %s", visible(str(previous.get("owner"))),
                           visible(driver_errors.log_text(exc)))

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

    def announce(self, step: dict[str, Any] | None) -> None:
        """The step we now run (`version`, `name`, `direction`, `since`), or None between steps: the heartbeat
        writes it into the lease at once, off the step's path, so other operators see what runs (engine/runners.py)."""
        self._step = dict(step) if step is not None else None
        self._wake.set()

    def progress(self, done: int, total: int) -> None:
        """The running step's progress: carried by the next regular heartbeat (no extra write)."""
        step = self._step
        if step is not None:
            step["done"], step["total"] = done, total

    def paused_by(self, who: str | None) -> None:
        """A backfill paused in place (or resumed: None): written at once, so other operators see who paused it."""
        step = self._step
        if step is not None and step.get("paused_by") != who:
            step["paused_by"] = who
            self._wake.set()

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
        """Take the lease (re-entrant), waiting up to `wait_s`; start the heartbeat.

        A holder that looks dead (its process is gone on this host, or its heartbeat stopped) is waited for
        only until its lease expires, when that comes within the wait; otherwise we refuse at once, saying so."""
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
            expires_in = _seconds_until(holder.expires_at, self.clock.now())
            if holder.looks_dead and expires_in is not None and expires_in > self.wait_s - waited:
                raise LockTimeoutError(self._dead_holder(holder, expires_in, waited))
            if waited >= self.wait_s:
                raise LockTimeoutError(self._live_holder(holder, waited))
            if on_wait and waited - last_report >= 1.0:
                last_report = waited
                on_wait(holder, waited)
            time.sleep(min(self.poll_s, max(0.01, self.wait_s - waited)))
        self._held, self._lost, self._depth = True, None, 1
        self._taken_for = (operation, txn_session)
        self._stop.clear()
        self._start_heartbeat()

    def _start_heartbeat(self) -> None:
        self._wake.clear()
        self._heartbeat = threading.Thread(target=self._beat, name="runway-lock-heartbeat", daemon=True)
        self._heartbeat.start()

    @property
    def heartbeat_ident(self) -> int | None:
        """The heartbeat's thread: its renewals are the one write to runway's collections while a step runs."""
        return self._heartbeat.ident if self._heartbeat is not None else None

    def reclaim(self) -> bool:
        """Take our lease again after a migration deleted it under us (engine/guard.py), unless another runner
        holds it now: then it is lost, as when taken away."""
        if not self._held:
            return False
        if self.holds_on_server():
            return True
        if self.try_acquire(*self._taken_for) is not None:
            return False
        self._lost = None
        if self._heartbeat is None or not self._heartbeat.is_alive():
            self._start_heartbeat()
        return True

    def _dead_holder(self, holder: LockInfo, expires_in: float, waited: float) -> str:
        return (f"the migration lock is held by {holder.who} for '{holder.operation}' since "
                f"{_fmt(holder.acquired_at)}, but {holder.gone_reason()}: that runner looks dead, and its lease "
                f"expires at {_fmt(holder.expires_at)} (in {expires_in:.0f}s), after the lock wait of "
                f"{self.wait_s:g}s; nothing was run (waited {waited:.0f}s). Retry once it has expired, or remove "
                f"it now if that runner is surely gone: {remedy('unlock-force')}")

    def _live_holder(self, holder: LockInfo, waited: float) -> str:
        doing = ""
        if holder.step is not None:
            progress = f", {holder.step.done}/{holder.step.total}" if holder.step.done is not None \
                and holder.step.total else ""
            doing = f", running {holder.step.direction} {holder.step.name} since {_fmt(holder.step.since)}{progress}"
        beat = _seconds_until(self.clock.now(), holder.heartbeat_at) if holder.heartbeat_at else None
        alive = f"; it renewed its lease {beat:.0f}s ago" if beat is not None else ""
        return (f"the migration lock is held by {holder.who} for '{holder.operation}' since "
                f"{_fmt(holder.acquired_at)}{doing} (expires {_fmt(holder.expires_at)}){alive}; waited "
                f"{waited:.0f}s: nothing was run. The lock is released when that run finishes: retry then; to wait "
                f"longer: {remedy('lock-wait')}")

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
        self._wake.set()
        if self._heartbeat:
            self._heartbeat.join(timeout=5)
        self._held = False
        try:
            with pymongo.timeout(max(1.0, min(self.ttl_s / 2, 5.0))):  # bounded: the server may be gone
                self.collection.delete_one({"_id": LOCK_ID, "owner": self.owner})
        except PyMongoError as exc:  # the lease will expire by itself
            logger.warning("could not release the migration lock (it expires in %ss): %s", self.ttl_s,
                           visible(driver_errors.log_text(exc)))

    def _beat(self) -> None:
        interval = max(0.05, self.ttl_s / 3)
        last = time.monotonic()
        while True:
            woke = self._wake.wait(max(0.0, interval - (time.monotonic() - last)))
            if self._stop.is_set():
                return
            if woke:
                self._wake.clear()
                if self._step_key() == self._step_written:
                    continue  # nothing new to say before the regular beat
                if self._stop.wait(min(0.2, interval / 4)):  # a burst of short steps: one write for their last
                    return  # state; a release never waits for it
            last = time.monotonic()
            try:
                sent = time.monotonic()
                now = self.clock.now()
                step, key = self._step, self._step_key()
                result = self.collection.update_one(
                    {"_id": LOCK_ID, "owner": self.owner},
                    {"$set": {"expires_at": now + dt.timedelta(seconds=self.ttl_s), "heartbeat_at": now,
                              "step": dict(step) if step is not None else None}})
                self._step_written = key
                if result.matched_count == 0:  # which of the two, the beat cannot tell: a forced unlock, with a
                    # step running, is noticed by the beat or by the step's fenced write, whichever comes first
                    self._lost = ("the migration lock was taken away while we held it (taken over by another "
                                  "runner after our lease expired, or removed by a forced unlock)")
                    return
                self._valid_until = sent + self.ttl_s
            except PyMongoError as exc:  # transient: the next beat retries before the lease runs out
                logger.warning("lock heartbeat failed: %s", visible(driver_errors.log_text(exc)))
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

    def _step_key(self) -> tuple[Any, ...] | None:
        step = self._step
        return None if step is None else (step.get("version"), step.get("direction"), step.get("done"),
                                          step.get("paused_by"))


def _info(doc: dict[str, Any], now: dt.datetime) -> LockInfo:
    expires = doc.get("expires_at")
    heartbeat = doc.get("heartbeat_at") or doc.get("acquired_at")
    silent: float | None = None
    if isinstance(heartbeat, dt.datetime) and isinstance(expires, dt.datetime) and expires > heartbeat:
        # the holder renews every third of its TTL (expires_at - heartbeat_at): two beats missed is silence
        ttl = (expires - heartbeat).total_seconds()
        since = (now - heartbeat).total_seconds()
        silent = since if since > ttl * 2 / 3 else None
    return LockInfo(owner=str(doc.get("owner")), user=str(doc.get("user", "?")), host=str(doc.get("host", "?")),
                    pid=int(doc.get("pid", 0) or 0), acquired_at=doc.get("acquired_at"), expires_at=expires,
                    operation=str(doc.get("operation", "")), expired=bool(expires and expires < now),
                    client=doc.get("client"), heartbeat_at=doc.get("heartbeat_at"),
                    step=LeaseStep.from_document(doc.get("step")), silent_s=silent)


def _seconds_until(later: dt.datetime | None, now: dt.datetime | None) -> float | None:
    if not isinstance(later, dt.datetime) or not isinstance(now, dt.datetime):
        return None
    return (later - now).total_seconds()


def _fmt(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "?"
