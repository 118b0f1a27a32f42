"""A migration that ends or replaces its step's transaction (`ctx.session`) itself: told apart from a failure.

After the migration returns, the step's session must still be in the step's own transaction: if the migration
aborted it, its writes are gone (a plain failure); if it committed or restarted it, its writes may be in the
database and the step cannot be rolled back.
"""

from __future__ import annotations

from typing import Any

from runway_tui.engine.errors import StepFailedError


class SessionMisuseError(StepFailedError):
    """The migration ended or replaced the step's transaction (`ctx.session`) itself."""

    def __init__(self, message: str, committed: bool) -> None:
        super().__init__(message)
        self.committed = committed  # its writes may be in the database: the step cannot be rolled back


def _transaction_number(session: Any) -> Any:
    server_session = getattr(session, "_server_session", None)
    return getattr(server_session, "transaction_id", None)


def _session_misuse(session: Any, transaction: Any) -> SessionMisuseError | None:
    """After the migration returned: is `ctx.session` still in the step's own transaction?"""
    if session.in_transaction and _transaction_number(session) == transaction:
        return None
    state = getattr(getattr(session, "_transaction", None), "state", None)
    aborted = not session.in_transaction and state == _TXN_ABORTED
    if aborted:
        return SessionMisuseError("the migration aborted the step's transaction (ctx.session.abort_transaction()); "
                                  "its writes were discarded. A migration fails by raising an exception",
                                  committed=False)
    return SessionMisuseError("the migration ended the step's transaction itself (commit_transaction(), or a "
                              "transaction of its own on ctx.session): its writes may be in the database, so the "
                              "step cannot be rolled back. Never end or restart ctx.session's transaction",
                              committed=True)


_TXN_ABORTED = 6  # pymongo's _TxnState.ABORTED
