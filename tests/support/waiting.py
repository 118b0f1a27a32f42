"""Waiting for a state, never for a time: deadlines that fail with what was awaited, and gates.

`wait_until` polls a check until it holds and, when its deadline passes, fails naming what it waited
for and what it saw last. While it polls, its description is listed in `WAITING`, so the per-test
timeout (pytest-timeout) can report what a hung test was waiting for (see tests/conftest.py).

`Gate` lets a test hold a migration inside its step until the test says so: the migration marks a file
when it has started and waits for another that the test creates. No test depends on how long a step
takes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

#: How long a wait may take before it fails. Only a hang ever reaches it: a state that comes returns at once,
#: so the figure is generous for a loaded machine (four CPU-bound processes beside the suite on 2 cores).
DEADLINE = 60.0
#: What the running test is waiting for right now (innermost last); read when a test times out.
WAITING: list[str] = []
#: The waits that were interrupted by an exception (a timeout), with the last value seen.
INTERRUPTED: list[str] = []


class _Waiting:
    def __init__(self, what: str) -> None:
        self.what, self.last = what, "nothing yet"

    def __enter__(self) -> _Waiting:
        WAITING.append(self.what)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        WAITING.remove(self.what)
        if exc_type is not None:
            INTERRUPTED.append(f"{self.what} (last seen: {self.last})")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 300 else text[:300] + "..."


def wait_until(check: Callable[[], T], what: str, timeout: float = DEADLINE, interval: float = 0.02) -> T:
    """Call `check` until it returns something truthy, and return that; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    with _Waiting(what) as waiting:
        while True:
            value = check()
            if value:
                return value
            waiting.last = _shown(value)
            if time.monotonic() >= deadline:
                raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; last seen: {waiting.last}")
            time.sleep(interval)


async def wait_until_async(check: Callable[[], T], what: str, *, pause: Callable[[], Awaitable[Any]] | None = None,
                           timeout: float = DEADLINE, interval: float = 0.02) -> T:
    """`wait_until` for an event loop (Textual's Pilot): `pause` lets the app process messages between checks."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    with _Waiting(what) as waiting:
        while True:
            if pause is not None:
                await pause()
            value = check()
            if value:
                return value
            waiting.last = _shown(value)
            if loop.time() >= deadline:
                raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; last seen: {waiting.last}")
            await asyncio.sleep(interval)


class Gate:
    """Holds a migration inside its step until the test opens the gate.

    `gate.wait_code()` is Python for a migration's body: it marks `entered`, then waits for `released`
    (failing the step after `limit` seconds, so a forgotten gate cannot hang the suite).
    """

    def __init__(self, folder: Path, name: str = "gate") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.entered = folder / f"{name}.entered"
        self.released = folder / f"{name}.released"

    def wait_code(self, indent: int = 4, limit: float = 60.0) -> str:
        pad = " " * indent
        return "\n".join(f"{pad}{line}" for line in (
            "import pathlib as _pl, time as _t",
            f"_pl.Path({str(self.entered)!r}).touch()",
            f"_until = _t.monotonic() + {limit}",
            f"while not _pl.Path({str(self.released)!r}).exists():",
            "    if _t.monotonic() > _until:",
            "        raise RuntimeError('the test never opened the gate')",
            "    _t.sleep(0.01)",
        )) + "\n"

    def wait_entered(self, timeout: float = DEADLINE) -> None:
        wait_until(self.entered.exists, f"the migration to reach its gate ({self.entered.name})", timeout)

    def open(self) -> None:
        self.released.touch()

    @property
    def is_entered(self) -> bool:
        return self.entered.exists()
