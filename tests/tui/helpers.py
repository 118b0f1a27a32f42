"""Small helpers shared by the TUI test modules: toasts shown, waiting for a state, a gated migration."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from tests.support.waiting import DEADLINE

GATED = '''"""Waits until the test releases it."""
import time
from pathlib import Path

version = {v}
transactional = False


def upgrade(ctx):
    deadline = time.monotonic() + 60
    while not Path({gate!r}).exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def downgrade(ctx):
    pass
'''


def gated(version: int, gate: Path) -> str:
    """A migration whose upgrade waits (bounded) until the test creates `gate`."""
    return GATED.format(v=version, gate=str(gate))


def toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def notifications(app) -> str:
    return "\n".join(toasts(app))


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = DEADLINE) -> None:
    """Wait for a state with a deadline (never a fixed sleep)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached in time")
