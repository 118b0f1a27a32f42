"""What a migration's `upgrade(ctx)` / `downgrade(ctx)` receives."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.database import Database

if TYPE_CHECKING:
    from runway_tui.engine.backfill.step import BackfillStep
    from runway_tui.engine.backfill.walk import BackfillResult

PROGRESS_INTERVAL_S = 0.05  # at most 20 progress events a second reach the front ends


@dataclass
class MigrationContext:
    """The database handles plus `log` and `progress` channels to the live log.

    `session` is the step's transaction session, or None when the step runs without one;
    always pass `session=ctx.session` so writes join the transaction when there is one.
    """

    db: Database[dict[str, Any]]
    client: MongoClient[dict[str, Any]]
    session: ClientSession | None
    application: str
    version: int
    name: str
    direction: str
    _on_log: Callable[[str], None] = field(repr=False, default=lambda message: None)
    _on_progress: Callable[[int, int], None] = field(repr=False, default=lambda done, total: None)
    _last_progress: float = field(default=0.0, repr=False)
    _backfill: BackfillStep | None = field(default=None, repr=False)  # engine/backfill/step.py

    @property
    def in_transaction(self) -> bool:
        return self.session is not None

    def log(self, message: str) -> None:
        """Write a line to the live log (and the CLI's output)."""
        self._on_log(str(message))

    def progress(self, done: int, total: int) -> None:
        """Report progress of a long data migration; cheap to call often (throttled)."""
        now = time.monotonic()
        if done >= total or now - self._last_progress >= PROGRESS_INTERVAL_S:
            self._last_progress = now
            self._on_progress(int(done), int(total))

    # ------------------------------------------------------------------ big collections (engine/backfill/)
    def backfill(self, collection: Any, filter: dict[str, Any], update: dict[str, Any] | list[Any], *,  # noqa: A002
                 batch_size: int | None = None, max_docs_per_s: float | None = None,
                 max_lag_s: float | None = None) -> BackfillResult:
        """Apply `update` (an update document or a pipeline) to every document of `filter` in `collection` (a
        name, or a collection of `ctx.db`), in `_id` order, batch by batch; each batch commits with a checkpoint,
        so an interrupted step resumes where it stopped. Returns the counts (matched, modified, done)."""
        return self._backfills(_caller()).backfill(_caller(), collection, filter, update, batch_size=batch_size,
                                                    max_docs_per_s=max_docs_per_s, max_lag_s=max_lag_s)

    def batches(self, collection: Any, filter: dict[str, Any], *, batch_size: int | None = None,  # noqa: A002
                projection: dict[str, Any] | None = None, max_docs_per_s: float | None = None,
                max_lag_s: float | None = None) -> Iterator[list[dict[str, Any]]]:
        """The documents of `filter` in `_id` order, a list per batch, for a transform in Python: write each
        batch's changes with `ctx.write_batch`; they commit with the batch's checkpoint."""
        return self._backfills(_caller()).batches(_caller(), collection, filter, projection, batch_size=batch_size,
                                                  max_docs_per_s=max_docs_per_s, max_lag_s=max_lag_s)

    def write_batch(self, collection: Any, operations: Iterable[Any]) -> int:
        """Queue the current batch's writes (pymongo's UpdateOne, InsertOne, ...): they commit, all or none, with
        its checkpoint when the loop asks for the next batch. Returns how many were queued."""
        return self._backfills(_caller()).write_batch(_caller(), collection, operations)

    def _backfills(self, where: str) -> BackfillStep:
        if self._backfill is None:
            from runway_tui.engine.errors import BackfillUsageError

            raise BackfillUsageError(f"{where}: backfills run only in a migration's step (not in a rehearsal, "
                                     "a Mongorunway file's business rule or outside a run)")
        return self._backfill


def _caller() -> str:
    """`017_backfill.py:12`: where the migration called us (two frames up: the method, then its caller)."""
    frame = sys._getframe(2)
    return f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno}"
