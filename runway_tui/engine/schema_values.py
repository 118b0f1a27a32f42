"""The Schema view's second question (issue 27): which values a field takes, and the filter that selects a field,
a type or a value from the sample.

A field with few distinct scalar values in the sample (a status, a flag, a country) lists its most common
ones with their counts; one with many (ids, names, dates) lists none, since a handful of them would say
nothing about the rest. A redacted field never lists values, and a value the masking changed (a URI's
password, a configuration secret) is shown masked and offers no filter. The filters are text in the
explorer's own syntax, ready for the filter input: `{"phone": {"$type": "long"}}`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from runway_tui.engine.document_cells import Cell, cell_of
from runway_tui.engine.inspect_values import to_extended_json, type_name

TOP_VALUES = 5
LOW_CARDINALITY = 12  # at most this many distinct values in the sample, each seen at least twice on average
TRACKED = 64  # distinct values remembered per path before it counts as high-cardinality (bounded memory)
SCALARS = ("string", "int", "long", "double", "decimal", "bool", "null", "objectId", "date")
# $type names the server filters by; a DBRef is stored as an object, and "dbPointer" is not its $type
_FILTER_TYPES = {"dbPointer": "object"}


@dataclass(frozen=True)
class TopValue:
    """One of a field's most common values: as a table shows it, how often it occurs, its filter value."""

    cell: Cell
    count: int
    filter_value: str | None  # extended JSON of the value, None when masking changed what is shown


class ValueTally:
    """The scalar values one path takes in the sample (bounded: past TRACKED distinct values it stops)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, Any]] = Counter()
        self.values: dict[tuple[str, Any], Any] = {}
        self.overflow = False

    def add(self, value: Any) -> None:
        if self.overflow:
            return
        kind = type_name(value)
        if kind not in SCALARS:
            return
        key = (kind, value if kind in ("string", "int", "long", "double", "bool", "null") else str(value))
        if key not in self.counts and len(self.counts) >= TRACKED:
            self.overflow = True
            self.counts.clear()
            self.values.clear()
            return
        self.counts[key] += 1
        self.values.setdefault(key, value)

    def top(self, present: int, mask: Any) -> list[TopValue]:
        """The most common values when the field has few (`mask` is the redactor's string masking)."""
        distinct = len(self.counts)
        if self.overflow or not distinct or distinct > LOW_CARDINALITY or distinct * 2 > max(present, 1):
            return []
        shown = []
        ranked = sorted(self.counts.items(), key=lambda item: (-item[1], str(item[0])))  # ties: a stable order
        for key, count in ranked[:TOP_VALUES]:
            value = self.values[key]
            masked = mask(value) if isinstance(value, str) else value
            exact = masked == value
            shown.append(TopValue(cell_of(masked, 30), count, to_extended_json(value, indent=None) if exact else None))
        return shown


@dataclass(frozen=True)
class SchemaFilter:
    """A filter the Schema view offers for a field: what it selects, and its text for the filter input."""

    label: str
    text: str


def query_path(shown_path: str) -> str:
    """The dotted path the server reads for a schema path: `orders[].sku` is `orders.sku`."""
    return shown_path.replace("[]", "")


def filters_for(path: str, always: bool, types: list[tuple[str, float]], values: list[TopValue],
                redacted: bool, masked_name: bool = False) -> list[SchemaFilter]:
    """The filters for one field of the schema: present or missing, each type, each common value."""
    if redacted or masked_name:
        return []
    name = query_path(path)
    key = json.dumps(name, ensure_ascii=False)
    found = [SchemaFilter(f"has {name}", f'{{{key}: {{"$exists": true}}}}'),
             SchemaFilter(f"lacks {name}", f'{{{key}: {{"$exists": false}}}}')] if not always else []
    for kind, share in types:
        alias = _FILTER_TYPES.get(kind, kind)
        found.append(SchemaFilter(f"{name} is {alias} ({share:.0f}%)", f'{{{key}: {{"$type": "{alias}"}}}}'))
    for value in values:
        if value.filter_value is not None:
            found.append(SchemaFilter(f"{name} = {value.cell.text} ({value.count})",
                                      f"{{{key}: {value.filter_value}}}"))
    return found


def combine(current: str, extra: str) -> str:
    """The filter input's text narrowed by `extra` (both in the explorer's syntax)."""
    current = current.strip()
    if not current or current in ("{}",):
        return extra
    return f'{{"$and": [{current}, {extra}]}}'
