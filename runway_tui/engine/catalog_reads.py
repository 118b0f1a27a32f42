"""Catalog reads (listCollections, listIndexes) sent with a chosen read preference and a time bound.

pymongo sends `list_collections()` and `list_indexes()` to the primary whatever the database's read
preference, so a rehearsal or the explorer told to read from a secondary would still load the primary with
them. These send the same commands as cursors with the preference and `maxTimeMS` given.
"""

from __future__ import annotations

from typing import Any

from pymongo.database import Database
from pymongo.read_preferences import _ServerMode


def list_collections(database: Database[dict[str, Any]], *, read_preference: _ServerMode, max_time_ms: int,
                     filter: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The `listCollections` entries (name, type, options...), optionally only those matching `filter`."""
    command: dict[str, Any] = {"listCollections": 1, "cursor": {}, "maxTimeMS": max_time_ms}
    if filter:
        command["filter"] = filter
    with database.cursor_command(command, read_preference=read_preference) as cursor:
        return [dict(info) for info in cursor]


def list_indexes(database: Database[dict[str, Any]], collection: str, *, read_preference: _ServerMode,
                 max_time_ms: int) -> list[dict[str, Any]]:
    """The collection's index specifications, as `listIndexes` gives them."""
    command = {"listIndexes": collection, "cursor": {}, "maxTimeMS": max_time_ms}
    with database.cursor_command(command, read_preference=read_preference) as cursor:
        return [dict(spec) for spec in cursor]
