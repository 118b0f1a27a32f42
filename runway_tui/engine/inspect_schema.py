"""The schema view's inference: the field paths of a sample of documents, their types' shares, and the most
common values of a field with few; a redacted field shows its types only."""

from __future__ import annotations

from collections import Counter
from typing import Any

from runway_tui.engine.inspect_redaction import Redactor
from runway_tui.engine.inspect_reports import FieldStat
from runway_tui.engine.inspect_values import type_name
from runway_tui.engine.schema_values import ValueTally, filters_for


def infer_schema(docs: list[dict[str, Any]], redactor: Redactor | None = None) -> list[FieldStat]:
    """Per path: the documents that have it and, among those, the share of each type (a document counts once),
    and the most common values of a field with few (schema_values.py). A redacted field is listed with its
    types, never what it holds (its keys are often data) nor its values."""
    redactor = redactor or Redactor()
    present: Counter[str] = Counter()
    types: dict[str, Counter[str]] = {}
    walk = _SchemaWalk(redactor)
    for doc in docs:
        seen: dict[str, set[str]] = {}
        walk.document(doc, seen)
        for path, kinds in seen.items():
            present[path] += 1
            counter = types.setdefault(path, Counter())
            for kind in kinds:
                counter[kind] += 1
    total = len(docs) or 1
    fields = []
    for path in sorted(present, key=lambda p: (p != "_id", p.lower())):
        count = present[path]
        shares = sorted(((kind, 100.0 * n / count) for kind, n in types[path].items()), key=lambda t: (-t[1], t[0]))
        tally = walk.tallies.get(path)
        values = tally.top(count, redactor.mask) if tally is not None and path not in walk.hidden else []
        always = count > 0 and count >= total
        fields.append(FieldStat(path, count, 100.0 * count / total, shares, values, path in walk.hidden,
                                filters_for(path, always, shares, values, path in walk.hidden,
                                            path in walk.masked)))
    return fields


class _SchemaWalk:
    """One pass over the sample's documents: the paths and types of each, the values of each path."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.tallies: dict[str, ValueTally] = {}
        self.hidden: set[str] = set()  # redacted paths: their values are never read
        self.masked: set[str] = set()  # paths with a masked name: a filter on what is shown would find nothing

    def document(self, doc: dict[str, Any], seen: dict[str, set[str]]) -> None:
        self._walk(doc, "", "", seen, False)

    def _walk(self, value: dict[str, Any], prefix: str, field_prefix: str, seen: dict[str, set[str]],
              masked: bool) -> None:
        """`prefix` is the shown path (`orders[].sku`), `field_prefix` the path redaction knows (`orders.sku`)."""
        for key, item in value.items():
            name = str(key)
            shown = self.redactor.mask(name)
            path = f"{prefix}.{shown}" if prefix else shown
            field = f"{field_prefix}.{name}" if field_prefix else name
            hidden = self.redactor.hides_key(field, name)
            if hidden:
                self.hidden.add(path)
            self._record(path, field, item, seen, not hidden, masked or shown != name)

    def _record(self, path: str, field: str, item: Any, seen: dict[str, set[str]], descend: bool,
                masked: bool) -> None:
        seen.setdefault(path, set()).add(type_name(item))
        if masked:
            self.masked.add(path)
        if not descend:
            return
        if isinstance(item, dict):
            self._walk(item, path, field, seen, masked)
        elif isinstance(item, list):
            for element in item:
                self._record(f"{path}[]", field, element, seen, True, masked)
        else:
            tally = self.tallies.get(path)
            if tally is None:
                tally = self.tallies[path] = ValueTally()
            tally.add(item)
