"""A closed terminal (SIGHUP) ends the TUI whatever its event loop is doing.

asyncio runs a signal's callback on the event loop, so a render that takes minutes (a huge document once
did) kept the process running long after its terminal was gone. The hang-up is handled here at the Python
level instead: the handler runs in the main thread between two bytecodes, even in the middle of a render.
It asks the app to leave (as `q` does) and starts a watchdog thread; if the process is still there after
`GRACE_S`, the watchdog does what leaving does (waits for a running step to end, releases the lock, closes
the engine, which stops an embedded daemon it started) and ends the process with 128 + SIGHUP.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runway_tui.tui.host import Host

GRACE_S = 3.0  # time the normal way out has before the watchdog takes over
EXIT_CODE = 128 + signal.SIGHUP


class HangUp:
    def __init__(self, app: Host, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.loop = loop
        self.watchdog: threading.Thread | None = None

    def install(self) -> None:
        signal.signal(signal.SIGHUP, self._on_hangup)

    def _on_hangup(self, signum: int, frame: FrameType | None) -> None:
        if self.watchdog is not None:
            return
        self.watchdog = threading.Thread(target=self._watch, name="hangup-watchdog", daemon=True)
        self.watchdog.start()
        with contextlib.suppress(RuntimeError):  # the loop is already closed: the watchdog ends it
            self.loop.call_soon_threadsafe(self.app.exit, EXIT_CODE)

    def _watch(self) -> None:
        threading.Event().wait(GRACE_S)  # the normal way out ends the process before this returns
        with contextlib.suppress(Exception):  # the terminal is gone: nobody to tell, end regardless
            self.app.shutdown_engine(say=lambda _text: None)
        os._exit(EXIT_CODE)
