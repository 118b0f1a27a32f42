"""What a migration prints goes to the live log, never to our stdout.

`print()` in a migration would otherwise land in the middle of `up --json`. While a step runs,
`sys.stdout` and `sys.stderr` are replaced by routers: text written by the step's own thread becomes
log lines (`StepLogEvent`: the live log, and stderr in the CLI); other threads (the TUI's) keep the
streams they had.

Output never fails a step: a line that cannot be delivered (a handler that raises, a full disk under
stderr) is dropped, and whatever the delivery itself writes to stdout/stderr (a handler's print, the
warning logged about a failing handler) goes to the original stream instead of coming back as a new
line, which would loop for ever.
"""

from __future__ import annotations

import contextlib
import io
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TextIO

MAX_LINE = 2000  # characters of one captured line; the rest is cut
_MAX_BUFFER = 64 * 1024  # an unterminated line is emitted once it grows past this


class _Router(io.TextIOBase):
    """A text stream that sends the owner thread's writes to `emit`, line by line."""

    def __init__(self, original: TextIO, owner: int, emit: Callable[[str], None]) -> None:
        super().__init__()
        self._original = original
        self._owner = owner
        self._emit = emit
        self._buffer = ""
        self._delivering = False  # set while `emit` runs: its own writes go to the original stream

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def write(self, text: str) -> int:  # type: ignore[override]
        if threading.get_ident() != self._owner or self._delivering:
            return self._original.write(text)
        text = text if isinstance(text, str) else str(text)
        self._buffer += text
        while "\n" in self._buffer or len(self._buffer) > _MAX_BUFFER:
            line, sep, rest = self._buffer.partition("\n")
            if not sep:
                line, rest = self._buffer[:_MAX_BUFFER], self._buffer[_MAX_BUFFER:]
            self._buffer = rest
            self._line(line)
        return len(text)

    def flush(self) -> None:
        if threading.get_ident() != self._owner or self._delivering:
            self._original.flush()

    def drain(self) -> None:
        if self._buffer:
            line, self._buffer = self._buffer, ""
            self._line(line)

    def _line(self, line: str) -> None:
        line = line.rstrip("\r")
        if not line.strip():
            return
        self._delivering = True
        try:
            self._emit(line if len(line) <= MAX_LINE else line[:MAX_LINE] + f"… [{len(line)} characters, cut]")
        except Exception:  # noqa: BLE001, S110 - the step's output is lost, the step is not
            pass
        finally:
            self._delivering = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


@contextlib.contextmanager
def captured_output(emit: Callable[[str], None]) -> Iterator[None]:
    """Route this thread's stdout/stderr writes to `emit` (one call per line) while the block runs."""
    owner = threading.get_ident()
    saved_out, saved_err = sys.stdout, sys.stderr
    out = _Router(saved_out, owner, emit)
    err = _Router(saved_err, owner, emit)
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved_out, saved_err
        for router in (out, err):
            with contextlib.suppress(Exception):
                router.drain()
