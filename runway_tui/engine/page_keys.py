"""Keyset paging under the user's projection, which is sent as typed (issue 27).

Pages follow the sort's keys then `_id`. The next page's anchor is the last shown document's key values, and
the redaction check of the page's order (`QueryGuard.check_order`) needs every document's. When the projection
returns those values whole, they are read from the page itself; otherwise (a sort key left out, excluded, or
only part of it projected: `{"address.city": 1}` under a sort on `address`) they are read apart, by `_id` from
the `_id` index when the page shows `_id`, or by the same query with only the keys projected when it does not.
Adding the keys to the user's projection instead would change the query, and the server refuses a projection
that names a path and its parent ("Path collision").
"""

from __future__ import annotations

from typing import Any


def _truthy(value: Any) -> bool:
    return value not in (0, False)


def _inclusion(projection: dict[str, Any]) -> bool:
    """An inclusion projection (`{"name": 1}`, `{"_id": 1}`), as opposed to an exclusion (`{"blob": 0}`)."""
    others = [v for k, v in projection.items() if k != "_id"]
    return any(_truthy(v) for v in others) if others else _truthy(projection.get("_id", 0))


def _at_or_above(key: str, path: str) -> bool:
    return path == key or path.startswith(key + ".")


def covers(projection: dict[str, Any] | None, path: str) -> bool:
    """The documents returned under `projection` hold `path`'s whole value (or its absence, truly)."""
    if not projection:
        return True
    if path == "_id" or path.startswith("_id."):
        excluded = any(_at_or_above(k, "_id") or k.startswith("_id.") for k, v in projection.items()
                       if not _truthy(v))
        return not excluded
    if _inclusion(projection):
        return any(_at_or_above(key, path) for key, value in projection.items() if _truthy(value) and key != "_id")
    return not any(_at_or_above(key, path) or key.startswith(path + ".")
                   for key, value in projection.items() if not _truthy(value))


def keys_projection(sort: list[tuple[str, int]]) -> dict[str, int]:
    """Only the sort keys (a key under another one is the other's part: naming both is a path collision)."""
    names = [name for name, _ in sort]
    return {name: 1 for name in names if not any(other != name and _at_or_above(other, name) for other in names)}


def value_at(doc: dict[str, Any], path: str) -> Any:
    """The value a keyset condition compares at `path` (through sub-documents; None where it is missing)."""
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
