"""Reading and writing the project's own files: only regular files, of a bounded size, never waiting.

Anything in the project folder may be named like one of our files: a FIFO named `mongorunway.yaml` would
hang every command on `open`, a link to `/dev/zero` or a huge log renamed by mistake would exhaust
memory. So every file runway reads from the project (configurations, migration files, the scan cache,
the embedded daemon's state) is opened without blocking, checked to be a regular file, and read up to a
limit. A refusal is an `OSError` whose `strerror` says why, so callers that already turn an unreadable
file into one line ("cannot read the file: ...") need nothing more.

Files we write are written to a temporary name and renamed; a write that fails (a full disk) removes
the temporary file, so no command leaves litter behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

KIND = {stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
        stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder"}


MAX_MIGRATION_BYTES = 1024 * 1024  # a migration larger than 1 MiB is almost surely a mistake (data belongs elsewhere)


class NotReadable(OSError):
    """A project file we refuse to read: not a regular file, or over its size limit."""

    def __init__(self, reason: str) -> None:
        super().__init__(errno.EINVAL, reason)


def size_text(size: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}" if size % scale else f"{size // scale} {unit}"
    return f"{size} bytes"


def not_regular(mode: int) -> str | None:
    """Why a file of this mode cannot be read as one of ours (None: it is a regular file)."""
    if stat.S_ISREG(mode):
        return None
    return f"is {KIND.get(stat.S_IFMT(mode), 'not a regular file')}, not a regular file"


def check_regular(path: Path) -> None:
    """Raise `FileNotFoundError` (missing) or `NotReadable` (a FIFO, a device, a folder...), following links."""
    problem = not_regular(os.stat(path).st_mode)
    if problem:
        raise NotReadable(problem)


def read_bytes(path: Path, limit: int, what: str = "file") -> bytes:
    """The whole file, if it is a regular file of at most `limit` bytes (`what` names it in the refusal)."""
    check_regular(path)  # before opening: opening some devices has effects of its own
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)  # a FIFO never blocks open
    try:
        status = os.fstat(fd)  # the file opened, not the one checked (it may have been swapped since)
        problem = not_regular(status.st_mode)
        if problem:
            raise NotReadable(problem)
        if status.st_size > limit:
            raise NotReadable(_too_large(status.st_size, limit, what))
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1024 * 1024, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew while we read
            raise NotReadable(_too_large(size, limit, what))
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: Path, limit: int, what: str = "file", errors: str = "strict") -> str:
    return read_bytes(path, limit, what).decode("utf-8", errors=errors)


def read_tail(path: Path, limit: int) -> bytes:
    """The last `limit` bytes of a regular file (a log that may be long)."""
    check_regular(path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        status = os.fstat(fd)
        problem = not_regular(status.st_mode)
        if problem:
            raise NotReadable(problem)
        os.lseek(fd, max(0, status.st_size - limit), os.SEEK_SET)
        return os.read(fd, limit)
    finally:
        os.close(fd)


def _too_large(size: int, limit: int, what: str) -> str:
    return f"is {size_text(size)}, over the {size_text(limit)} limit for a {what}"


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`; on failure nothing is left."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
