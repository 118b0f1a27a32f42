"""Table cells for the explorer's documents and aggregation results (issue 27).

A cell is its text on one line and its BSON type, so that the TUI can colour it by type and `1`, `true` and
`"yes"` never look alike: strings are quoted, numbers, booleans and null are as JSON writes them. Columns are
field paths, nested ones included (`address.city`): sub-documents are opened into their fields, the most
common first; arrays stay one cell. Everything here works on documents already redacted.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any, NamedTuple

from bson.decimal128 import Decimal128
from bson.objectid import ObjectId

from runway_tui.engine.inspect_values import CELL_CHARS, to_extended_json, type_name

MAX_COLUMNS = 8
OPEN_DEPTH = 3  # sub-documents opened into columns down to `a.b.c`; deeper ones stay one cell
MISSING = object()


class Cell(NamedTuple):
    """One table cell: `text` (one line, cut at CELL_CHARS) and `kind`, the `$type` name of the value."""

    text: str
    kind: str


def cell_of(value: Any, limit: int = CELL_CHARS) -> Cell:
    kind = type_name(value)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)  # quoted: "23" is not 23, "true" is not true
    elif value is None or isinstance(value, bool | int | float):
        text = json.dumps(value)
    elif isinstance(value, ObjectId | Decimal128):
        text = str(value)
    elif isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ", timespec="seconds")
    else:
        text = to_extended_json(value, indent=None)
    text = text.replace("\n", " ")
    return Cell(text if len(text) <= limit else text[: limit - 1] + "…", kind)


def value_at(doc: Any, path: str) -> Any:
    """The value at a dotted path, MISSING where there is none; through an array, the list of what its
    elements hold there (as the server reads `orders.sku`)."""
    value = doc
    parts = path.split(".")
    for index, part in enumerate(parts):
        if isinstance(value, dict):
            if part not in value:
                return MISSING
            value = value[part]
        elif isinstance(value, list) and not part.isdigit():
            rest = ".".join(parts[index:])
            found = [v for v in (value_at(item, rest) for item in value) if v is not MISSING]
            return found if found else MISSING
        elif isinstance(value, list) and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def row_of(doc: dict[str, Any], columns: list[str]) -> list[Cell | None]:
    """The document's cells under `columns` (None where it has no such field)."""
    cells: list[Cell | None] = []
    for path in columns:
        value = value_at(doc, path)
        cells.append(None if value is MISSING else cell_of(value))
    return cells


def field_counts(docs: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """Every column path of these documents with the number that have it, the most common first (`_id`
    leading, then in first-seen order among equals). Sub-documents are opened into their fields."""
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for doc in docs:
        seen: list[str] = []
        _paths(doc, "", 1, seen)
        for path in dict.fromkeys(seen):
            counts[path] += 1
            first.setdefault(path, len(first))
    ranked = sorted(counts, key=lambda p: (p != "_id", -counts[p], first[p]))
    return [(path, counts[path]) for path in ranked]


def _paths(value: dict[str, Any], prefix: str, depth: int, seen: list[str]) -> None:
    for key, item in value.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, dict) and item and depth < OPEN_DEPTH and path != "_id" and "." not in str(key):
            _paths(item, path, depth + 1, seen)
        else:
            seen.append(path)


def top_columns(docs: list[dict[str, Any]], limit: int = MAX_COLUMNS) -> list[str]:
    return [path for path, _ in field_counts(docs)[:limit]]
