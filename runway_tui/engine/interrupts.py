"""Holding Ctrl-C and SIGTERM while the engine records a step.

An interrupt may land anywhere in a migration's own code: the step then fails and is recorded. It must
not land inside the engine's bookkeeping (marking a step `applying`, writing its outcome, its audit
entry, the commit), or a step could be left `applying` with no error and no audit entry. Inside
`deferred()` a SIGINT/SIGTERM is only noted; it is delivered, through the handler that was in place,
as soon as the bookkeeping is done. Each bookkeeping write is bounded by the client's timeouts.

Python runs signal handlers in the main thread only, so this matters (and acts) only there: a step
running in a worker thread (the TUI) is never interrupted by a signal.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_depth = [0]  # nesting of deferred() in the main thread


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Within the block, SIGINT/SIGTERM wait; on leaving it they are raised again (re-entrant)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _depth[0]:
        _depth[0] += 1
        try:
            yield
        finally:
            _depth[0] -= 1
        return
    pending: list[int] = []
    saved: dict[int, Any] = {}
    for sig in _SIGNALS:
        handler = signal.getsignal(sig)
        if handler is None:  # installed outside Python: leave it alone
            continue
        saved[sig] = handler
        signal.signal(sig, lambda signum, _frame: pending.append(signum))
    _depth[0] = 1
    try:
        yield
    finally:
        _depth[0] = 0
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        if pending:
            signal.raise_signal(pending[0])  # one is enough: the handler in place decides what it does
