"""Exception texts the engine shows and records: always one line, bounded, and never an error of their own.

A migration may raise anything: an exception whose `__str__` raises, a 17 MB message, a multi-line
one, `sys.exit(3)`. Whatever it is, the text we store in the audit log and print is one line of at
most `MAX_MESSAGE` characters, with every known secret scrubbed before it is cut.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MAX_MESSAGE = 500  # characters of one error message (the audit log and the CLI line)
_SCAN_LIMIT = 64 * 1024  # longer texts are cut to this before scrubbing (a secret past it is cut anyway)
_BREAKS = re.compile(r"\s*[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+\s*")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


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
    """Line breaks become ' | ', control characters '?', secrets '***', and the result is cut to `limit`."""
    total = len(text)
    if total > _SCAN_LIMIT:
        text = text[:_SCAN_LIMIT]
    if redact is not None:
        text = redact(text)
    text = _CONTROL.sub("?", _BREAKS.sub(" | ", text.strip()))
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
    details = getattr(exc, "details", None)
    if isinstance(details, dict) and isinstance(details.get("errmsg"), str):  # a server error: not its whole reply
        name = details.get("codeName") or details.get("code")
        return one_line(details["errmsg"] + (f" ({name})" if name else ""), redact=redact)
    return one_line(safe_str(exc), redact=redact)


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
    import sys

    sys.stderr.write(format_traceback(exc, redact))
