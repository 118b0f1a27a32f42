"""`RunSession`: the client session an operation runs its steps in, and its replacement.

The lease names the session (its `txn_session`), so that a runner taking over an expired lease can end a
transaction left open. A commit whose outcome is unknown leaves the server's transaction alive (its locks
would block our next writes): the session is then killed and replaced, once, here; nothing else assigns it.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pymongo
from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.errors import PyMongoError

from runway_tui.engine.store import driver_errors


class RunSession:
    """The operation's session: opened with the lock, replaced after an unknown commit, ended with the lock."""

    def __init__(self, client: MongoClient[dict[str, Any]]) -> None:
        self._client = client
        self._session: ClientSession | None = None

    @property
    def current(self) -> ClientSession | None:
        """The session steps run in now (None: no operation holds the lock)."""
        return self._session

    def open(self) -> ClientSession:
        self.end()
        self._session = self._client.start_session()
        return self._session

    def replace_after_unknown_commit(self) -> ClientSession:
        """End the server's transaction of the current session now (`killSessions`: its locks would block our
        writes, and a late commit must fail) and start a fresh session for the next step."""
        if self._session is not None:
            with contextlib.suppress(PyMongoError):
                self._client.admin.command("killSessions", [self._session.session_id])
        self._session = self._client.start_session()  # the killed one cannot run the next step
        return self._session

    def end(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            with contextlib.suppress(PyMongoError), pymongo.timeout(1.0):  # the server may be gone
                session.end_session()


def commit(session: ClientSession, attempts: int = 3) -> None:
    """Commit the session's transaction, trying again while the driver says the outcome is unknown (a commit is
    idempotent on the server): one rule for a step's, a `--group` run's and a backfill batch's commit."""
    for attempt in range(attempts):
        try:
            session.commit_transaction()
            return
        except PyMongoError as exc:
            if attempt + 1 < attempts and driver_errors.commit_result_unknown(exc):
                continue
            raise
