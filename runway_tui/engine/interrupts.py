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


class _State:
    depth = 0  # nesting of deferred() in the main thread
    saved: dict[int, Any] = {}  # the handlers in place before the outermost deferred()
    pending: list[int] = []  # signals received while deferred


def _note(signum: int, _frame: Any) -> None:
    _State.pending.append(signum)


def _deliver() -> None:
    """With the saved handlers back in place, raise what arrived (one is enough: the handler decides)."""
    if _State.pending:
        signum = _State.pending[0]
        _State.pending = []
        signal.raise_signal(signum)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Within the block, SIGINT/SIGTERM wait; on leaving the outermost block they are raised again."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _State.depth:
        _State.depth += 1
        try:
            yield
        finally:
            _State.depth -= 1
        return
    _State.saved, _State.pending = {}, []
    for sig in _SIGNALS:
        handler = signal.getsignal(sig)
        if handler is None:  # installed outside Python: leave it alone
            continue
        _State.saved[sig] = handler
        signal.signal(sig, _note)
    _State.depth = 1
    try:
        yield
    finally:
        _State.depth = 0
        for sig, handler in _State.saved.items():
            signal.signal(sig, handler)
        _deliver()


@contextlib.contextmanager
def allowed() -> Iterator[None]:
    """Inside deferred(): a window where signals act at once (the migration's own code). What arrived
    before is delivered on entering it, so it lands where a failed attempt is recorded."""
    if threading.current_thread() is not threading.main_thread() or not _State.depth:
        yield
        return
    for sig, handler in _State.saved.items():
        signal.signal(sig, handler)
    try:
        _deliver()
        yield
    finally:
        for sig in _State.saved:
            signal.signal(sig, _note)


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Inside the migration's own code (`allowed()`): the engine's own short critical section there, a backfill's
    batch and its checkpoint, which an interrupt must not split. What arrives waits for its end."""
    if threading.current_thread() is not threading.main_thread() or not _State.depth:
        yield
        return
    outer = {sig: signal.getsignal(sig) for sig in _State.saved}
    before = list(_State.pending)
    for sig in outer:
        signal.signal(sig, _note)
    try:
        yield
    finally:
        for sig, handler in outer.items():
            signal.signal(sig, handler)
        if outer and outer != dict.fromkeys(outer, _note) and len(_State.pending) > len(before):
            signum = _State.pending[len(before)]
            del _State.pending[len(before):]
            signal.raise_signal(signum)
