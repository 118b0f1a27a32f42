"""The command's standard streams: a closed one stops the command before anything runs; a failing one
(a full disk under `>/dev/full`, a reader that left) never fails what the command does.

A stream closed by the shell (`>&-`) is dangerous, not only missing: the next file or socket opened takes
its descriptor, and what we print would land in it. So the check runs first, before anything is opened.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from typing import TextIO

STREAMS = ((1, "stdout", ">&-", ">/dev/null"), (2, "stderr", "2>&-", "2>/dev/null"))


def closed_streams() -> list[str]:
    """The names of the standard output streams the process was started without ("stdout", "stderr")."""
    closed = []
    for fd, name, _closed_by, _instead in STREAMS:
        if getattr(sys, name) is None:  # Python found the descriptor closed at start-up
            closed.append(name)
            continue
        try:
            os.fstat(fd)
        except OSError:
            closed.append(name)
    return closed


def closed_stream_problem(closed: list[str]) -> str:
    """One line saying which stream is closed and what to do instead."""
    shown = [(name, by, instead) for _fd, name, by, instead in STREAMS if name in closed]
    names = " and ".join(name for name, _by, _instead in shown)
    verb = "are" if len(shown) > 1 else "is"
    return (f"{names} {verb} closed ({' '.join(by for _n, by, _i in shown)}): nothing was run; send it to a file or "
            f"to {' '.join(instead for _n, _b, instead in shown)} instead")


class StreamWriter:
    """Writes lines to stdout and stderr, never raising: a stream that fails is remembered and skipped.

    A reader that left (`| head`, EPIPE) is not an error of ours; any other failure (ENOSPC, EIO) is kept
    in `lost` so the command can say so once it has done its work (exit code 6, README).
    """

    def __init__(self, out: TextIO | None, err: TextIO | None) -> None:
        self.streams = {"stdout": out, "stderr": err}
        self.lost: dict[str, str] = {}  # stream name -> why it could not be written
        self.left: set[str] = set()  # streams whose reader left (EPIPE): quietly dropped
        self.first_lost_line = ""  # the first line stdout should have shown

    def write(self, name: str, text: str) -> None:
        stream = self.streams[name]
        if name in self.lost or name in self.left:
            return
        try:
            if stream is None:
                raise OSError(errno.EBADF, "the stream is closed")
            stream.write(text + "\n")
            stream.flush()
        except BrokenPipeError:
            self.left.add(name)
            _point_at_devnull(stream)
        except (OSError, ValueError) as exc:  # ValueError: a closed file object
            self.lost[name] = (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)) or "error"
            if name == "stdout":
                self.first_lost_line = text.splitlines()[0] if text else ""


def _point_at_devnull(stream: TextIO | None) -> None:
    """After EPIPE, later writes (and the final flush) go nowhere instead of failing again."""
    with contextlib.suppress(Exception):
        fd = stream.fileno()  # type: ignore[union-attr]
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
