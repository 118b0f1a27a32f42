"""`EngineSession`: the engine the app works through, as a plain object (no widgets, no worker): which engine
is open, how a new one is made, whether a write is running now (exit waits for it), and closing it once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runway_tui.engine.app import MigrationApp


class EngineSession:
    def __init__(self, factory: Callable[[], MigrationApp]) -> None:
        self.factory = factory
        self.engine: MigrationApp | None = None
        self.idle = threading.Event()  # cleared while a write runs in a worker: closing waits for it
        self.idle.set()
        self.running = ""  # what runs now, as the header said it when it started
        self._close_lock = threading.Lock()
        self._closed = False

    @contextmanager
    def operating(self, label: str) -> Iterator[None]:
        """In a worker, around one mutating engine call."""
        self.running = label
        self.idle.clear()
        try:
            yield
        finally:
            self.idle.set()

    def close(self, say: Callable[[str], object], before: Callable[[], object]) -> None:
        """Once, whoever asks first (the exit path or the hang-up watchdog): a write still running is waited
        for (`say` tells the user what for), then `before` (the watching thread leaves), then the engine
        releases its lock and stops its embedded daemon."""
        with self._close_lock:
            if self._closed:
                return
            if not self.idle.is_set():
                say(f"runway-tui: waiting for the running operation to end ({self.running}); "
                    "then the lock is released and the embedded database stopped")
                self.idle.wait()
            before()
            if self.engine is not None:
                self.engine.close()
            self._closed = True
