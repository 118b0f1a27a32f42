"""Watching runway's own collections with a change stream: another operator's step, mark or lock shows up
at once instead of at the next poll. The front end runs `wait_for_change` in a thread of its own; every
driver error becomes a `RunwayError` (`ChangeStreamError`, or `ServerUnreachableError` when the server went
away), so the front end falls back to polling without knowing the driver.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pymongo
from pymongo.database import Database
from pymongo.errors import PyMongoError

from runway_tui.engine.errors import RunwayError
from runway_tui.engine.store import driver_errors
from runway_tui.engine.store.collections import AUDIT, LOCK, RECORDS

if TYPE_CHECKING:
    from pymongo.change_stream import DatabaseChangeStream

    from runway_tui.engine.app import MigrationApp

__all__ = ["AUDIT", "EVERYTHING", "LOCK", "RECORDS", "ChangeWatch", "own_collections"]
EVERYTHING = frozenset({RECORDS, AUDIT, LOCK})  # the stream was reopened: anything may have changed
MAX_AWAIT_S = 0.2  # one getMore waits this long for a change: how soon `wait_for_change` notices a stop


def own_collections(app: MigrationApp) -> dict[str, str]:
    """Every collection runway writes, with what a change there means (engine/store/collections.py)."""
    return app.own_collections.meanings()


class ChangeWatch:
    """A change stream on some collections of one database; `wait_for_change` from one thread at a time."""

    def __init__(self, database: Database[dict[str, Any]], collections: dict[str, str], address: str,
                 redact: Callable[[str], str] = str, max_await_s: float = MAX_AWAIT_S) -> None:
        self.database, self.collections, self.address = database, dict(collections), address
        self._redact, self._max_await_ms = redact, max(1, int(max_await_s * 1000))
        self._stream: DatabaseChangeStream[dict[str, Any]] | None = None
        self._closed = False

    def open(self) -> ChangeWatch:
        """Start the stream now (changes from here on are seen); raises where the server has none."""
        pipeline = [{"$match": {"$or": [{"ns.coll": {"$in": sorted(self.collections)}},
                                        {"operationType": {"$in": ["dropDatabase", "invalidate"]}}]}}]
        with self._translated():
            self._stream = self.database.watch(pipeline, max_await_time_ms=self._max_await_ms)
        return self

    def wait_for_change(self, timeout: float) -> frozenset[str]:
        """Block up to about `timeout` seconds (at least one getMore); return what changed as soon as one
        change arrives (RECORDS, AUDIT, LOCK), or an empty set when nothing did."""
        if self._stream is None:
            self.open()
        deadline = time.monotonic() + timeout
        with self._translated():
            while not self._closed:
                assert self._stream is not None
                change = self._stream.try_next()
                if change is not None:
                    return self._meaning(change)
                if not self._stream.alive:  # invalidated (the database was dropped): start again
                    self._reopen()
                    return EVERYTHING
                if time.monotonic() >= deadline:
                    break
        return frozenset()

    def _meaning(self, change: dict[str, Any]) -> frozenset[str]:
        if change.get("operationType") in ("dropDatabase", "invalidate"):
            self._reopen()
            return EVERYTHING
        coll = (change.get("ns") or {}).get("coll")
        return frozenset({self.collections.get(coll, RECORDS)})

    def _reopen(self) -> None:
        self._close_stream()
        self.open()

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(PyMongoError), pymongo.timeout(1.0):
                stream.close()

    def close(self) -> None:
        """Stop watching; call it from the thread that waits (a stream is not shared between threads)."""
        self._closed = True
        self._close_stream()

    def __enter__(self) -> ChangeWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _translated(self) -> Any:
        try:
            yield
        except RunwayError:
            raise
        except PyMongoError as exc:
            raise driver_errors.change_stream_failed(exc, self.address, self.database.name, self._redact) from None
