"""Pause, resume and cancel: asked by a front end on its own thread, seen by the backfill between batches.

Nothing here touches the database: the front end only sets a flag, and the worker running the step does
the writes (the checkpoint's `paused_by`, the audit entry) when it reaches the end of its current batch.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum


class Request(StrEnum):
    """What a front end last asked of the running backfill."""

    RUN = "run"  # go on (the default, and what `resume` asks)
    PAUSE = "pause"  # stop after the current batch and wait, lease held and renewed
    CANCEL = "cancel"  # stop after the current batch: the migration is left `paused`, the lease released


@dataclass(frozen=True)
class Asked:
    request: Request
    by: str  # "alice@host": who asked, shown to other operators


class BackfillControl:
    """One per `MigrationApp`; thread-safe. The backfill polls `asked()` between batches."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._asked = Asked(Request.RUN, "")

    def pause(self, by: str) -> None:
        self._set(Asked(Request.PAUSE, by))

    def resume(self, by: str = "") -> None:
        self._set(Asked(Request.RUN, by))

    def cancel(self, by: str) -> None:
        self._set(Asked(Request.CANCEL, by))

    def asked(self) -> Asked:
        with self._lock:
            return self._asked

    def wait_while_paused(self, timeout_s: float) -> Asked:
        """Block while a pause is asked, at most `timeout_s` (so the caller can renew its lease); the latest ask."""
        with self._changed:
            if self._asked.request is Request.PAUSE:
                self._changed.wait(timeout_s)
            return self._asked

    def nap(self, seconds: float) -> Asked:
        """Sleep up to `seconds` (the rate cap, a lagging secondary), waking at once when a front end asks anything."""
        with self._changed:
            before = self._asked
            if seconds > 0:
                self._changed.wait_for(lambda: self._asked is not before, seconds)
            return self._asked

    def reset(self) -> None:
        """A new step starts with nothing asked."""
        self._set(Asked(Request.RUN, ""))

    def _set(self, asked: Asked) -> None:
        with self._changed:
            self._asked = asked
            self._changed.notify_all()
