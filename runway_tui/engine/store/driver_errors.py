"""Driver errors -> `RunwayError`s: the only module that reads a driver error's text, codes or labels.

Every other module catches `PyMongoError` (or lets it reach an `Operation`) and calls one of these, so a
message is cut, scrubbed and worded the same wherever the error arose: the server's own words (`errmsg`)
when it sent some, else the driver's text without the topology description it appends (", Timeout: ...,
Topology Description: <every server, every option>") or the whole reply (", full error: {...}").
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from pymongo.errors import (
    ClientBulkWriteException,
    ConnectionFailure,
    CursorNotFound,
    ExecutionTimeout,
    OperationFailure,
    PyMongoError,
    WriteConcernError,
    WriteError,
)

from runway_tui.engine.errors import (
    AuthenticationError,
    ChangeStreamError,
    RunwayError,
    ServerUnreachableError,
    StepFailedError,
)

Redact = Callable[[str], str]
MAX_REASON = 300  # characters of a driver's reason kept in a message

AUTH_FAILED = 18
UNAUTHORIZED = frozenset({13})  # Unauthorized (also recognised by its codeName)
MAX_TIME_EXPIRED = 50
CURSOR_NOT_FOUND = 43
WRITE_CONFLICT = 112
NO_CHANGE_STREAMS = frozenset({40573, 136, 20})  # not a replica set / change streams disabled / illegal operation
# A transaction grown past its limits: too big (TransactionTooLarge, BSONObjectTooLarge,
# TransactionTooLargeForCache), too long (TransactionExceededLifetimeLimitSeconds, or the server aborted it
# for that and it is gone: NoSuchTransaction).
TOO_BIG_CODES = frozenset({10334, 257, 332, 290, 251})
COMMIT_UNKNOWN = "UnknownTransactionCommitResult"


def _keep(text: str) -> str:
    return text


# ------------------------------------------------------------------ reading an error
def reason(exc: BaseException, redact: Redact = _keep) -> str:
    """What the server or the driver said, on one bounded line, scrubbed by `redact`."""
    details = getattr(exc, "details", None)
    text = details.get("errmsg") if isinstance(details, dict) else None
    if not isinstance(text, str) or not text:
        text = str(exc).split(", full error:")[0].split(", Timeout:")[0]
    first = text.splitlines()[0] if text else type(exc).__name__
    return redact(first)[:MAX_REASON]


def code_suffix(exc: BaseException) -> str:
    """` (CodeName)` when the server named its error, else nothing."""
    details = getattr(exc, "details", None) or {}
    if not isinstance(details, dict) or details.get("code") is None:
        return ""
    return f" ({details.get('codeName') or details.get('code')})"


def server_said(exc: BaseException) -> str | None:
    """`errmsg (CodeName)` of an error the server sent (not its whole reply), or None for any other error."""
    details = getattr(exc, "details", None)
    if not isinstance(details, dict) or not isinstance(details.get("errmsg"), str):
        return None
    name = details.get("codeName") or details.get("code")
    return details["errmsg"] + (f" ({name})" if name else "")


def cursor_lost(exc: BaseException) -> bool:
    """The server no longer has the cursor (it was idle past the server's cursor timeout)."""
    if isinstance(exc, CursorNotFound) or getattr(exc, "code", None) == CURSOR_NOT_FOUND:
        return True
    text = str(exc).lower()
    return isinstance(exc, PyMongoError) and "cursor" in text and "not found" in text


def unwrapped_bulk_error(exc: ClientBulkWriteException) -> PyMongoError:
    """The error a client bulkWrite wraps, as the separate commands would raise it (a network error stays a
    ConnectionFailure: the step's outcome is then unknown, exit 5)."""
    if isinstance(exc.error, PyMongoError):
        return exc.error
    for error in exc.write_errors or []:
        return WriteError(error.get("errmsg", "write error"), error.get("code"), error)
    for error in exc.write_concern_errors or []:
        return WriteConcernError(error.get("errmsg", "write concern error"), error.get("code"), error)
    return exc


def is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, ConnectionFailure)


def is_driver_error(exc: BaseException) -> bool:
    return isinstance(exc, PyMongoError)


def commit_result_unknown(exc: BaseException) -> bool:
    """The commit may or may not have been applied (the driver's retry label): only the server can tell."""
    return isinstance(exc, PyMongoError) and exc.has_error_label(COMMIT_UNKNOWN)


def transient(exc: BaseException) -> bool:
    """A transaction that may succeed if tried again from its start (a write conflict, an election)."""
    return isinstance(exc, PyMongoError) and (exc.has_error_label("TransientTransactionError")
                                              or getattr(exc, "code", None) == WRITE_CONFLICT)


def too_big(exc: BaseException) -> bool:
    """A server error saying the transaction outgrew its limits (not any error whose text says "too large")."""
    if not isinstance(exc, PyMongoError):
        return False
    if getattr(exc, "code", None) in TOO_BIG_CODES:
        return True
    return any(word in str(exc) for word in ("TransactionTooLarge", "ExceededLifetime"))


def not_permitted(exc: BaseException) -> bool:
    """The user lacks a privilege for this command."""
    return isinstance(exc, OperationFailure) and (
        exc.code in UNAUTHORIZED | {AUTH_FAILED} or (exc.details or {}).get("codeName") == "Unauthorized")


def timed_out(exc: BaseException) -> bool:
    """The server stopped the command at its `maxTimeMS`."""
    return isinstance(exc, ExecutionTimeout) or (isinstance(exc, OperationFailure) and exc.code == MAX_TIME_EXPIRED)


def auth_failed(exc: BaseException) -> bool:
    return isinstance(exc, OperationFailure) and exc.code == AUTH_FAILED


# ------------------------------------------------------------------ translations
def unreachable(address: str, exc: BaseException, redact: Redact = _keep,
                application: str | None = None) -> ServerUnreachableError:
    """The server cannot be reached (`address` is already masked)."""
    of = f" (application {application!r})" if application else ""
    return ServerUnreachableError(f"cannot reach the server at {address}{of}: {reason(exc, redact)}")


def refused(doing: str, exc: BaseException, redact: Redact = _keep) -> StepFailedError:
    """Any other server error: one line saying what was being done, never an 'internal error'."""
    details = getattr(exc, "details", None) or {}
    text = details.get("errmsg") if isinstance(details, dict) else None
    text = text or str(exc).split(", Timeout:")[0]
    return StepFailedError(redact(f"the server refused {doing or 'the operation'}{code_suffix(exc)}: {text}"))


def translate(exc: BaseException, doing: str, *, address: str, redact: Redact = _keep,
              application: str | None = None) -> RunwayError:
    """A driver error of an operation: unreachable, or refused."""
    if isinstance(exc, ConnectionFailure):
        return unreachable(address, exc, redact, application)
    return refused(doing, exc, redact)


@contextlib.contextmanager
def translated(doing: str, *, address: str, redact: Redact = _keep,
               application: str | None = None) -> Iterator[None]:
    """`translate` around a block: driver errors leave it as `RunwayError`s (theirs pass through)."""
    try:
        yield
    except PyMongoError as exc:
        raise translate(exc, doing, address=address, redact=redact, application=application) from None


def connect_failed(shown_uri: str, exc: BaseException, redact: Redact, application: str) -> RunwayError:
    """The first `hello` of a connection failed: a wrong password, an unreachable server, or a refusal."""
    if auth_failed(exc):
        return AuthenticationError(f"{shown_uri}: authentication failed; check the user name and password "
                                   f"(application {application!r})")
    if isinstance(exc, ConnectionFailure):
        return unreachable(shown_uri, exc, redact, application)
    return ServerUnreachableError(f"{shown_uri}: {redact(str(exc))}")


def change_stream_failed(exc: BaseException, address: str, database: str, redact: Redact) -> RunwayError:
    """A change stream that cannot open or broke: unreachable (the TUI reconnects) or `ChangeStreamError`
    (the TUI polls instead)."""
    if isinstance(exc, ConnectionFailure):
        return unreachable(address, exc, redact)
    if isinstance(exc, OperationFailure) and exc.code in NO_CHANGE_STREAMS:
        said = exc.details.get("errmsg") if exc.details else exc
        return ChangeStreamError(f"the server at {address} has no change streams ({said})")
    if isinstance(exc, OperationFailure) and exc.code in UNAUTHORIZED:
        return ChangeStreamError(f"not allowed to watch {database} at {address} (the user needs the changeStream "
                                 "and find privileges)")
    return ChangeStreamError(redact(f"the change stream at {address} failed: {exc}"[:400]))


def log_text(exc: BaseException, redact: Redact = _keep) -> str:
    """A driver error for a log line (a failed heartbeat, a release that will expire by itself)."""
    return redact(str(exc).split(", Timeout:")[0])
