"""`BackfillStep`: the backfills of one step's attempt, behind `ctx.backfill`, `ctx.batches` and `ctx.write_batch`.

It owns the step's checkpoint (engine/backfill/checkpoint.py), checks each call before anything is written
(the file and line of the call name every refusal), writes the audit entries of a backfill's life (start,
pause, resume, end, with the counts) and the progress events the front ends show. The runner asks it, when
the step ends early, for the checkpoint to leave the migration `paused` with.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pymongo.collection import Collection
from pymongo.errors import PyMongoError

from runway_tui.engine.backfill.checkpoint import CallCheckpoint, Checkpoint, PauseReason
from runway_tui.engine.backfill.pacing import Pacing
from runway_tui.engine.backfill.progress import BackfillFigures, BackfillState
from runway_tui.engine.backfill.throttle import ThrottleSettings, settings_problem
from runway_tui.engine.backfill.walk import BackfillResult, Walk
from runway_tui.engine.errors import BackfillUsageError
from runway_tui.engine.run.session import commit
from runway_tui.engine.store import driver_errors

if TYPE_CHECKING:
    from pymongo.client_session import ClientSession
    from pymongo.database import Database

    from runway_tui.engine.backfill.control import BackfillControl
    from runway_tui.engine.guard import OwnCollectionsGuard
    from runway_tui.engine.lock import MigrationLock
    from runway_tui.engine.models import MigrationAuditlogEntry, MigrationReadModel
    from runway_tui.engine.store.protocol import MigrationStore

COUNT_BUDGET_MS = 5_000  # the first estimate of the total: an exact count if it comes quickly, else the estimate
EMIT_EVERY_S = 0.1  # progress events: at most ten a second, and every change of state
START, PAUSE, RESUME, END = ("BackfillStartTransaction", "BackfillPauseTransaction", "BackfillResumeTransaction",
                             "BackfillEndTransaction")


@dataclass(frozen=True)
class BackfillParts:
    """What the backfills of a step use (from the runner's `RunDeps`): never the app."""

    database: Database[dict[str, Any]]
    session: Callable[[], ClientSession]  # the operation's session: the lease names it
    transactions: bool
    store: MigrationStore
    lease: MigrationLock
    control: BackfillControl
    settings: ThrottleSettings
    guard: OwnCollectionsGuard
    identity: Callable[[], str]  # "alice@host"
    clock: Callable[[], dt.datetime]
    entry: Callable[..., MigrationAuditlogEntry]
    emit: Callable[[BackfillFigures], None]
    log: Callable[[str, str], None]


@dataclass(frozen=True)
class StepFacts:
    """The step the backfills belong to."""

    version: int
    direction: str
    checksum: str
    model: MigrationReadModel
    in_transaction: bool  # the step runs in a transaction: a backfill cannot (it commits per batch)
    in_group: bool  # a `--group` run: all or nothing cannot hold a resumable walk


class BackfillStep:
    """See the module docstring. One per attempt of a step; the runner keeps it for the step's end."""

    def __init__(self, parts: BackfillParts, facts: StepFacts, stored: Checkpoint | None) -> None:
        self.parts, self.facts = parts, facts
        resumable = stored is not None and stored.direction == facts.direction
        self.checkpoint = (stored.running() if resumable and stored is not None else
                           Checkpoint(facts.direction, facts.checksum, replica_set=parts.transactions))
        self.stored = resumable  # a checkpoint is in the record: an early end leaves the migration paused
        self.resumed_from = stored if resumable else None
        self._calls = 0
        self._pending: list[tuple[Any, list[Any]]] | None = None  # ctx.write_batch's, for the current batch
        self._open: tuple[Walk, list[dict[str, Any]]] | None = None  # the batch ctx.batches gave, not yet committed
        self._emitted = 0.0
        self._last_state: BackfillState | None = None
        self.figures: BackfillFigures | None = None

    # ------------------------------------------------------------------ the context's calls
    def backfill(self, where: str, collection: Any, query: Any, update: Any, **throttle: Any) -> BackfillResult:
        if not isinstance(update, dict | list) or not update:
            raise BackfillUsageError(f"{where}: ctx.backfill's update must be an update document or an aggregation "
                                     f"pipeline (a list), not {update!r}")
        walk = self._walk(where, "ctx.backfill", collection, query, None, throttle)
        if isinstance(walk, BackfillResult):
            return walk
        return walk.updates(update)

    def batches(self, where: str, collection: Any, query: Any, projection: Any, **throttle: Any
                ) -> Iterator[list[dict[str, Any]]]:
        if projection is not None and not isinstance(projection, dict):
            raise BackfillUsageError(f"{where}: ctx.batches' projection must be a mapping, not {projection!r}")
        walk = self._walk(where, "ctx.batches", collection, query, projection, throttle)
        if isinstance(walk, BackfillResult):
            return iter(())
        return self._documents(walk)

    def _documents(self, walk: Walk) -> Iterator[list[dict[str, Any]]]:
        self._pending = []
        try:
            for batch in walk.batches():
                self._open = (walk, batch)
                yield batch
                self._open = None
                walk.commit(batch, self._take_pending())
            walk.finish()
        finally:
            self._pending = None

    def write_batch(self, where: str, collection: Any, operations: Any) -> int:
        """Queue `operations` (pymongo's UpdateOne, InsertOne, ...) to commit with the current batch's checkpoint."""
        if self._pending is None:
            raise BackfillUsageError(f"{where}: ctx.write_batch writes the batch that ctx.batches just gave: call it "
                                     "inside the loop over ctx.batches(...)")
        ops = list(operations)
        self._pending.append((self._collection(where, collection), ops))
        return len(ops)

    def _take_pending(self) -> list[tuple[Any, list[Any]]]:
        pending, self._pending = self._pending or [], []
        return pending

    # ------------------------------------------------------------------ checks before anything is written
    def _walk(self, where: str, what: str, collection: Any, query: Any, projection: dict[str, Any] | None,
              throttle: dict[str, Any]) -> Walk | BackfillResult:
        facts = self.facts
        if facts.in_transaction:
            raise BackfillUsageError(f"{where}: {what} commits each batch in a transaction of its own, so the "
                                     "migration cannot run in one: set `transactional = False` in the file")
        if facts.in_group:
            raise BackfillUsageError(f"{where}: {what} cannot run inside a --group run (all or nothing cannot "
                                     "hold a resumable walk): run this migration without --group")
        target = self._collection(where, collection)
        if not isinstance(query, dict):
            raise BackfillUsageError(f"{where}: {what}'s filter must be a mapping (use {{}} for every document), "
                                     f"not {query!r}")
        settings = self.parts.settings.overridden(**throttle)
        problem = settings_problem(settings)
        if problem is not None:
            raise BackfillUsageError(f"{where}: {what}: {problem}")
        index, self._calls = self._calls, self._calls + 1
        prior = self.checkpoint.calls[index] if index < len(self.checkpoint.calls) else None
        if prior is not None and prior.collection != target.name:
            raise BackfillUsageError(f"{where}: the file's backfills changed since it paused (call {index + 1} "
                                     f"walked {prior.collection!r}, now {target.name!r}); revert the file to "
                                     "resume, or mark the migration once its data is checked")
        if prior is not None and prior.finished:
            return BackfillResult(prior.matched, prior.modified, prior.done)
        with self._engine():
            if target.name not in target.database.list_collection_names(filter={"name": target.name}):
                raise BackfillUsageError(f"{where}: {what}: collection {target.name!r} does not exist in database "
                                         f"{target.database.name!r}; check its name (nothing was written)")
            state = prior or CallCheckpoint(target.name, total=self._estimate(target, query))
        walk = Walk(self, where, index, target, query, state, Pacing(settings), projection)
        with self._engine():
            if prior is None:
                self.save(index, state, None)
                standalone = "" if self.parts.transactions else (
                    "; standalone server: no transactions, so after a crash the last batch may be applied twice")
                self._audit(START, f"backfill of {target.name} started: about {state.total:,} documents{standalone}")
                if not self.parts.transactions:
                    self.parts.log("warning", f"{where}: the server has no transactions (standalone): a batch's "
                                   "writes and its checkpoint are two writes, so after a crash the last batch may be "
                                   "applied twice; use a filter that excludes finished documents")
            else:
                self._audit(RESUME, f"backfill of {target.name} resumed by {self.parts.identity()} at "
                                    f"{_share(prior)}, after _id {prior.last_id!r}")
        return walk

    def _collection(self, where: str, collection: Any) -> Collection[dict[str, Any]]:
        if isinstance(collection, Collection):
            return collection
        if isinstance(collection, str) and collection:
            return self.parts.database[collection]
        raise BackfillUsageError(f"{where}: the collection must be a name (\"items\") or a collection of ctx.db "
                                 f"(ctx.db.items), not {collection!r}")

    def _estimate(self, collection: Collection[dict[str, Any]], query: dict[str, Any]) -> int:
        """An exact count when the server answers within COUNT_BUDGET_MS, else the collection's estimated size."""
        try:
            return collection.count_documents(query, maxTimeMS=COUNT_BUDGET_MS)
        except PyMongoError as exc:
            if driver_errors.timed_out(exc):
                return collection.estimated_document_count()
            raise

    # ------------------------------------------------------------------ checkpoints and transactions
    def save(self, index: int, state: CallCheckpoint, session: ClientSession | None) -> Checkpoint:
        """The checkpoint, fenced by the record's runner: after a takeover it no longer matches, nothing commits.
        In a transaction (`session`) it counts only once committed: the walk then `adopt`s it."""
        checkpoint = self.checkpoint.with_call(index, state)
        written = self.parts.store.records.update(self.facts.version, {"backfill": checkpoint.to_document()},
                                                  session=session, expect={"runner.owner": self.parts.lease.owner})
        if not written:
            raise self.parts.lease.taken_away()
        if session is None:
            self.adopt(checkpoint)
        return checkpoint

    def adopt(self, checkpoint: Checkpoint) -> None:
        self.checkpoint, self.stored = checkpoint, True

    def flush(self) -> None:
        """A loop over `ctx.batches` left before its end (`break`): its current batch's writes commit now."""
        current, self._open = self._open, None
        if current is not None:
            walk, batch = current
            walk.commit(batch, self._take_pending())

    def commit(self, session: ClientSession) -> None:
        commit(session)  # tried again while the outcome is unknown (engine/run/session.py)

    def abort(self) -> None:
        """End a batch's open transaction (a failed write, the step ending): its writes and checkpoint are gone."""
        if not self.parts.transactions:
            return
        session = self.parts.session()
        if session is not None and session.in_transaction:
            with contextlib.suppress(PyMongoError):
                session.abort_transaction()

    # ------------------------------------------------------------------ what others see
    def progress(self, walk: Walk, state: BackfillState, *, waiting: str | None = None,
                 paused_by: str | None = None) -> None:
        figures = walk.figures(state, waiting, paused_by)
        self.figures = figures
        self.parts.lease.progress(figures.done, figures.total)
        now = time.monotonic()
        if state is self._last_state and state is BackfillState.RUNNING and now - self._emitted < EMIT_EVERY_S:
            return
        self._emitted, self._last_state = now, state
        self.parts.emit(figures)

    def paused_in_place(self, walk: Walk, by: str) -> None:
        self.parts.lease.paused_by(by)
        with self._engine():
            self._audit(PAUSE, f"backfill of {walk.collection.name} paused by {by} at {_share(walk.state)} "
                               "(lease held)")
        self.progress(walk, BackfillState.PAUSED, paused_by=by)

    def resumed_in_place(self, walk: Walk, by: str) -> None:
        self.parts.lease.paused_by(None)
        with self._engine():
            self._audit(RESUME, f"backfill of {walk.collection.name} resumed by {by or self.parts.identity()} at "
                                f"{_share(walk.state)}")
        self.progress(walk, BackfillState.RUNNING)

    def ended(self, walk: Walk) -> None:
        state = walk.state
        with self._engine():
            self._audit(END, f"backfill of {walk.collection.name} done: {state.done:,} documents walked, "
                             f"{state.matched:,} matched, {state.modified:,} modified")

    def paused_checkpoint(self, reason: PauseReason, by: str) -> Checkpoint:
        return self.checkpoint.paused(reason, by, self.parts.clock())

    def pause_entry(self, reason: PauseReason, by: str, error: BaseException | None) -> MigrationAuditlogEntry:
        """The audit entry of a step that ends paused (the runner writes it with the record's new state)."""
        cp = self.checkpoint
        detail = f"backfill paused ({reason.value}) by {by} at {cp.progress_text()}"
        return self.parts.entry(PAUSE, self.facts.model, detail=detail, exc=error)

    def _audit(self, name: str, detail: str) -> None:
        self.parts.store.audit.append(self.parts.entry(name, self.facts.model, detail=detail))

    def _engine(self) -> contextlib.AbstractContextManager[None]:
        return self.parts.guard.engine_writing()


def _share(state: CallCheckpoint) -> str:
    total = max(state.total, state.done)
    percent = state.done * 100 // total if total else 0
    return f"{percent}% ({state.done:,} of {total:,})"

