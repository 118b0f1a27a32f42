"""Database handles bound to a session: every call made through them joins the step's transaction.

Mongorunway's commands (and the custom commands of its users) call `ctx.database...insert_one(...)`
without `session=`, so the step's session is passed for them: a bound client, database or collection
adds `session=` to each method that takes one, unless the caller gave one, and binds the handles it
returns (`db["c"]`, `db.get_collection("c")`, `collection.database`).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.database import Database

_HANDLES = (MongoClient, Database, Collection)
# These take `session` only through **kwargs.
_KWARGS_SESSION = frozenset({"find", "find_one", "find_raw_batches"})
# Reads MongoDB refuses inside a transaction (listCollections, listIndexes, count): they run beside it.
_OUTSIDE_TRANSACTION = frozenset({
    "list_collection_names", "list_collections", "list_indexes", "index_information", "options",
    "estimated_document_count", "list_database_names", "list_databases", "server_info",
})


def bind(handle: Any, session: ClientSession | None) -> Any:
    """`handle` itself without a session; else a stand-in that passes `session` to every call."""
    if session is None or type(handle) is SessionBound or not isinstance(handle, _HANDLES):
        return handle
    return SessionBound(handle, session)


@functools.cache
def _signature(cls: type, name: str) -> inspect.Signature | None:
    function = inspect.getattr_static(cls, name, None)
    if not callable(function):
        return None
    try:
        return inspect.signature(function)
    except (TypeError, ValueError):
        return None


class SessionBound:
    """A pymongo client, database or collection whose calls join `session` (isinstance still holds)."""

    __slots__ = ("_session", "_target")

    def __init__(self, target: Any, session: ClientSession) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_session", session)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # noqa: D105 - isinstance(ctx.database, Database) stays true
        return type(self._target)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if isinstance(value, _HANDLES):
            return SessionBound(value, self._session)
        if not callable(value) or name.startswith("_") or name in _OUTSIDE_TRANSACTION:
            return value
        signature = _signature(type(self._target), name)
        takes_session = name in _KWARGS_SESSION or (signature is not None and "session" in signature.parameters)
        session = self._session

        def call(*args: Any, **kwargs: Any) -> Any:
            if takes_session and "session" not in kwargs and not _given(signature, args, kwargs):
                kwargs["session"] = session
            return bind(value(*args, **kwargs), session)

        call.__name__ = name
        call.__doc__ = value.__doc__
        return call

    def __getitem__(self, name: str) -> Any:
        return bind(self._target[name], self._session)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self._target).__name__} attributes cannot be set")

    def __eq__(self, other: object) -> bool:
        other = other._target if isinstance(other, SessionBound) else other  # noqa: SLF001
        return bool(self._target == other)

    def __hash__(self) -> int:
        return hash(self._target)

    def __repr__(self) -> str:
        return repr(self._target)


def _given(signature: inspect.Signature | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether the caller already passed `session` positionally."""
    if signature is None or "session" not in signature.parameters:
        return False
    try:
        bound = signature.bind_partial(None, *args, **kwargs)  # None: `self`
    except TypeError:
        return True  # a wrong call: let pymongo say what is wrong, with nothing added
    return "session" in bound.arguments
