"""Texts the engine shows and records: never a control sequence for the terminal, errors on one bounded line.

`visible` is the one place where text from a file, a server or a document is made safe to show: every
C0 and C1 control character (and the Unicode controls that reorder or break lines) becomes its visible
escape, `\\x1b` for ESC, `\\x9b` for an 8-bit CSI, `\\u202e` for a bidi override; `\\n` and `\\t` are
kept only where a layout asks for them. Front ends apply it where text reaches a terminal (the CLI's
printer, the TUI's cells and texts); JSON output keeps the exact text (JSON escapes it).

A migration may raise anything: an exception whose `__str__` raises, a 17 MB message, a multi-line
one, `sys.exit(3)`. Whatever it is, the text we store in the audit log and print is one line of at
most `MAX_MESSAGE` characters, with every known secret scrubbed before it is cut.
"""

from __future__ import annotations

import os
import re
import traceback
from collections.abc import Callable
from pathlib import Path

MAX_MESSAGE = 500  # characters of one error message (the audit log and the CLI line)
_SCAN_LIMIT = 64 * 1024  # longer texts are cut to this before scrubbing (a secret past it is cut anyway)
_BREAKS = re.compile(r"\s*[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+\s*")
# C0 (but the kept layout characters), DEL, C1; the line and paragraph separators; bidi embeddings,
# overrides and isolates; lone surrogates (a file name that is not UTF-8): none reaches a terminal as it is.
_OTHER_UNSAFE = "\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = {  # (keep_newlines, keep_tabs) -> what is escaped
    (False, False): re.compile(f"[\x00-\x0a{_OTHER_UNSAFE}]"),
    (False, True): re.compile(f"[\x00-\x08\x0a{_OTHER_UNSAFE}]"),
    (True, False): re.compile(f"[\x00-\x09{_OTHER_UNSAFE}]"),
    (True, True): re.compile(f"[\x00-\x08{_OTHER_UNSAFE}]"),
}


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape): the byte itself
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def unsafe_pattern(*, keep_newlines: bool = False, keep_tabs: bool = False) -> re.Pattern[str]:
    """What `visible` replaces (front ends that keep styled spans find the characters with it)."""
    return _UNSAFE[keep_newlines, keep_tabs]


def visible(text: str, *, keep_newlines: bool = False, keep_tabs: bool = False) -> str:
    """`text` with every control character shown as its escape (`ESC` -> the four characters `\\x1b`).

    `keep_newlines` keeps line breaks (`\\r\\n` becomes `\\n`) for multi-line views (a source, a document);
    `keep_tabs` keeps tabs where a layout expands them. A text with nothing to escape is returned as it is
    (the same object), so the common case costs one scan. Backslashes are not escaped: applying it twice
    changes nothing."""
    pattern = unsafe_pattern(keep_newlines=keep_newlines, keep_tabs=keep_tabs)
    if pattern.search(text) is None:
        return text
    if keep_newlines:
        text = text.replace("\r\n", "\n")
    return pattern.sub(_escape, text)


def safe_str(value: object) -> str:
    """`str(value)`, or a description when its `__str__` raises or returns a non-string."""
    try:
        text = str(value)
        if isinstance(text, str):
            return text
    except BaseException:  # noqa: BLE001, S110 - a hostile __str__ must not break error reporting
        pass
    return f"<unprintable {type(value).__name__}>"


def one_line(text: str, limit: int = MAX_MESSAGE, redact: Callable[[str], str] | None = None) -> str:
    """Line breaks become ' | ', secrets '***', other control characters their visible escape (`visible`),
    and the result is cut to `limit`."""
    total = len(text)
    if total > _SCAN_LIMIT:
        text = text[:_SCAN_LIMIT]
    if redact is not None:
        text = redact(text)
    text = visible(_BREAKS.sub(" | ", text.strip()), keep_tabs=True)
    if len(text) > limit or total > _SCAN_LIMIT:
        cut = text[:limit].rstrip()
        return f"{cut}… [{total} characters, cut]"
    return text


def exception_message(exc: BaseException, redact: Callable[[str], str] | None = None) -> str:
    """What went wrong, without the type name (the audit log's `exc_message`)."""
    if isinstance(exc, SystemExit):
        code = exc.code
        shown = "" if code is None else safe_str(code) if isinstance(code, str) else repr(code)
        text = (f"the migration called sys.exit({shown}); a migration fails by raising an exception "
                "(the step was not completed)")
        return one_line(text, redact=redact)
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C or SIGTERM) while the step was running"
    from runway_tui.engine.store.driver_errors import server_said

    said = server_said(exc)  # a server error: its words, not its whole reply
    return one_line(said if said is not None else safe_str(exc), redact=redact)


def exception_line(exc: BaseException, redact: Callable[[str], str] | None = None) -> str:
    """`TypeName: message`, one bounded line."""
    message = exception_message(exc, redact)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def format_traceback(exc: BaseException, redact: Callable[[str], str]) -> str:
    """A traceback (`--debug`, `verbose_exc`) with every secret scrubbed: exception texts, chained causes and
    the source lines shown may all hold a password."""
    import traceback

    try:
        text = "".join(traceback.format_exception(exc))
    except BaseException:  # noqa: BLE001 - a hostile __str__ in the chain
        text = f"{type(exc).__name__}: {safe_str(exc)}\n"
    return redact(text)


def print_traceback(exc: BaseException, redact: Callable[[str], str]) -> None:
    """`format_traceback` on stderr, its control characters visible (source lines come from files)."""
    import sys

    sys.stderr.write(visible(format_traceback(exc, redact), keep_newlines=True, keep_tabs=True))


TRACEBACK_CHARS = 8000  # the end of it: the migration's own frames and the error


def project_traceback(exc: BaseException, project: Path, redact: Callable[[str], str]) -> str:
    """A step's failure traceback, secrets scrubbed, for the detail screen (the `error` stays one line). It starts
    at the first frame in the project (the migration, then what it called), not in runway-tui's runner, and
    names the project's files relative to it, as the user knows them."""
    root = str(project) + os.sep
    start = exc.__traceback__
    while start is not None and not start.tb_frame.f_code.co_filename.startswith(root):
        start = start.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, start or exc.__traceback__))
    return redact(text.replace(f'File "{root}', 'File "'))[-TRACEBACK_CHARS:]
