"""What a migration's `upgrade(ctx)` / `downgrade(ctx)` receives."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.database import Database

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
