"""One walk over a collection in `_id` order, batch by batch, each batch committed with its checkpoint.

The walk reads `_id`s (or whole documents, for `ctx.batches`) from ONE cursor sorted by `_id`, opened once per
run (again only after a pause): on mongod that is an index scan; on the embedded server, where a range or a
sort reads the whole collection, it costs one scan per run rather than one per batch. Each batch is then
written by `_id` equality (an index read on both), and on a replica set its writes and its checkpoint commit
in one transaction on the operation's session: the session the lease names, so that a runner taking over
after our death ends it, and the checkpoint write is fenced by the record's runner, so that a batch still in
flight after a takeover cannot commit.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pymongo import UpdateOne
from pymongo.errors import OperationFailure, PyMongoError

from runway_tui.engine.backfill.checkpoint import CallCheckpoint
from runway_tui.engine.backfill.control import Request
from runway_tui.engine.backfill.lag import lag_wait, secondary_lag_s
from runway_tui.engine.backfill.pacing import Pacing
from runway_tui.engine.backfill.progress import BackfillFigures, BackfillState
from runway_tui.engine.errors import BackfillCancelled, BackfillUsageError
from runway_tui.engine.interrupts import held
from runway_tui.engine.store import driver_errors

if TYPE_CHECKING:
    from runway_tui.engine.backfill.step import BackfillStep

ATTEMPTS = 5  # a batch whose transaction hits a transient error (a write conflict, an election) is tried again
CURSOR_BATCH = 10_000  # `_id`s fetched per round trip of the walk's cursor


def by_id(value: Any, query: dict[str, Any]) -> dict[str, Any]:
    """One document by `_id`, still matching the walk's filter: `_id` at the top, where every server (the embedded
    one included, which scans for an `_id` inside `$and`) reads it from the index."""
    if "_id" not in query:
        return {"_id": value, **query}
    return {"_id": value, "$and": [query]}


@dataclass(frozen=True)
class BackfillResult:
    """What a walk did, across every run of it (resumes included)."""

    matched: int
    modified: int
    done: int  # documents walked


class Walk:
    """One `ctx.backfill` or `ctx.batches` call of a step (see the module docstring)."""

    def __init__(self, step: BackfillStep, where: str, index: int, collection: Any, query: dict[str, Any],
                 state: CallCheckpoint, pacing: Pacing, projection: dict[str, Any] | None = None) -> None:
        self.step, self.where, self.index = step, where, index
        self.collection, self.query, self.state, self.pacing = collection, query, state, pacing
        self.projection = projection
        self._cursor: Iterator[dict[str, Any]] | None = None

    # ------------------------------------------------------------------ the two kinds of walk
    def updates(self, update: Any) -> BackfillResult:
        """`ctx.backfill`: the server applies `update` to each document of the filter, batch by batch."""
        for batch in self.batches():
            operations = [UpdateOne(by_id(doc["_id"], self.query), update) for doc in batch]
            self.commit(batch, [(self.collection, operations)])
        return self.finish()

    def batches(self) -> Iterator[list[dict[str, Any]]]:
        """The walk's batches, each once the throttle lets it go; the caller commits each (`commit`) before the
        next. `ctx.batches` hands them to the migration, whose `ctx.write_batch` writes commit with it."""
        while (batch := self._next_batch()) is not None:
            yield batch

    # ------------------------------------------------------------------ batches
    def _next_batch(self) -> list[dict[str, Any]] | None:
        if self._wait_between_batches():
            self._close_cursor()  # a long pause would let the server time the cursor out: opened again after it
        cursor = self._open()
        with held():
            batch = list(itertools.islice(cursor, self.pacing.size))
        return batch or None

    def _open(self) -> Iterator[dict[str, Any]]:
        if self._cursor is None:
            after = self.state.last_id
            query = self.query if after is None else (
                {**self.query, "_id": {"$gt": after}} if "_id" not in self.query
                else {"_id": {"$gt": after}, "$and": [self.query]})
            projection = self.projection if self.projection is not None else {"_id": 1}
            self._cursor = self.collection.find(query, projection, sort=[("_id", 1)], batch_size=CURSOR_BATCH)
        return self._cursor

    def _close_cursor(self) -> None:
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            with contextlib.suppress(PyMongoError):
                cursor.close()  # type: ignore[attr-defined]

    def commit(self, batch: list[dict[str, Any]], writes: list[tuple[Any, list[Any]]]) -> None:
        """The batch's writes and its checkpoint: one transaction on a replica set (tried again on a transient
        error), the writes then the checkpoint on a standalone server."""
        step = self.step
        started = time.monotonic()
        with held(), step.parts.guard.engine_writing():
            step.parts.lease.check()
            for attempt in range(ATTEMPTS):
                try:
                    matched, modified = self._write(batch, writes)
                    break
                except PyMongoError as exc:
                    step.abort()
                    if attempt + 1 < ATTEMPTS and driver_errors.transient(exc):
                        time.sleep(0.05 * 2 ** attempt)
                        continue
                    if isinstance(exc, OperationFailure) and not self.state.done:
                        raise BackfillUsageError(f"{self.where}: the server refused the backfill's first batch on "
                                                 f"{self.collection.name}: {driver_errors.log_text(exc)}; fix the "
                                                 "filter or the update (nothing was written)") from exc
                    raise
        self.pacing.observe(len(batch), time.monotonic() - started)
        step.progress(self, BackfillState.RUNNING)

    def _write(self, batch: list[dict[str, Any]], writes: list[tuple[Any, list[Any]]]) -> tuple[int, int]:
        step = self.step
        session = step.parts.session() if step.parts.transactions else None
        if session is not None:
            session.start_transaction()
        matched = modified = 0
        for collection, operations in writes:
            if operations:
                result = collection.bulk_write(operations, ordered=True, session=session)
                matched, modified = matched + result.matched_count, modified + result.modified_count
        state = replace(self.state, last_id=batch[-1]["_id"], done=self.state.done + len(batch),
                        total=max(self.state.total, self.state.done + len(batch)),
                        matched=self.state.matched + matched, modified=self.state.modified + modified)
        checkpoint = step.save(self.index, state, session)
        if session is not None:
            step.commit(session)
            step.adopt(checkpoint)
        self.state = state
        return matched, modified

    def finish(self) -> BackfillResult:
        self._close_cursor()
        self.state = replace(self.state, finished=True, total=self.state.done)
        with held(), self.step.parts.guard.engine_writing():
            self.step.save(self.index, self.state, None)
        self.step.progress(self, BackfillState.DONE)
        self.step.ended(self)
        return BackfillResult(self.state.matched, self.state.modified, self.state.done)

    # ------------------------------------------------------------------ between batches
    def _wait_between_batches(self) -> bool:
        """Pause, cancel, the rate cap and the lag rule, each looked at before a batch; True: the walk waited
        long enough that its cursor should be opened again."""
        step, control = self.step, self.step.parts.control
        long_wait = False
        asked = control.asked()
        if asked.request is Request.PAUSE:
            long_wait = True
            step.paused_in_place(self, asked.by)
            while asked.request is Request.PAUSE:
                asked = control.wait_while_paused(1.0)
                step.parts.lease.check()  # the heartbeat keeps renewing it; a lost lease ends the wait
            if asked.request is Request.RUN:
                step.resumed_in_place(self, asked.by)
        if asked.request is Request.CANCEL:
            raise BackfillCancelled(asked.by or step.parts.identity())
        delay = self.pacing.delay()
        if delay > 0:
            step.progress(self, BackfillState.WAITING, waiting=f"rate cap {self.pacing.rate:g} docs/s")
            control.nap(delay)
            return self._wait_between_batches() or long_wait
        return self._wait_for_lag() or long_wait

    def _wait_for_lag(self) -> bool:
        """With `max_lag_s`: wait while a secondary lags more (read from replSetGetStatus at most once a second)."""
        limit = self.pacing.max_lag_s
        if limit is None or not self.pacing.lag_due():
            return False
        waited = False
        while True:
            status = self.step.parts.replica_status()
            if status is None:
                return waited
            self.pacing.lag_s = secondary_lag_s(status)
            reason = lag_wait(status, limit)
            if reason is None:
                return waited
            waited = True
            self.step.progress(self, BackfillState.WAITING, waiting=reason)
            asked = self.step.parts.control.nap(1.0)
            self.step.parts.lease.check()
            if asked.request is not Request.RUN:
                return True

    def figures(self, state: BackfillState, waiting: str | None = None, paused_by: str | None = None
                ) -> BackfillFigures:
        done, total = self.state.done, max(self.state.total, self.state.done)
        rate = self.pacing.rate_now()
        eta = (total - done) / rate if rate and total > done else None
        return BackfillFigures(collection=self.collection.name, done=done, total=total, matched=self.state.matched,
                               modified=self.state.modified, rate_per_s=rate, eta_s=eta, batch_size=self.pacing.size,
                               lag_s=self.pacing.lag_s, waiting=waiting, state=state, last_id=self.state.last_id,
                               paused_by=paused_by)
