"""Ready-made pipelines for the aggregate view's commonest questions (issue 27), as text in mongosh syntax that
the user sees in the pipeline input and may edit before running it again."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_FIELD = re.compile(r"^[^$.\s][^\s]*$")


@dataclass(frozen=True)
class Preset:
    id: str
    title: str
    help: str

    def pipeline(self, field: str) -> str:
        path = json.dumps(f"${field}", ensure_ascii=False)
        name = json.dumps(field, ensure_ascii=False)
        if self.id == "duplicates":
            return (f"[{{$match: {{{name}: {{$exists: true}}}}}}, "
                    f"{{$group: {{_id: {path}, count: {{$sum: 1}}, ids: {{$push: '$_id'}}}}}}, "
                    "{$match: {count: {$gt: 1}}}, {$sort: {count: -1}}, "
                    "{$set: {ids: {$slice: ['$ids', 5]}}}]")
        if self.id == "values":
            return f"[{{$sortByCount: {path}}}]"
        return f"[{{$group: {{_id: {{$type: {path}}}, count: {{$sum: 1}}}}}}, {{$sort: {{count: -1}}}}]"


PRESETS = (
    Preset("duplicates", "Duplicates of a field", "the values of a field that more than one document holds, "
           "with how many and the first ids"),
    Preset("values", "Values of a field", "each value of a field with how many documents hold it, most first"),
    Preset("types", "Types of a field", "documents per type: how many documents hold each BSON type in a field "
           "(missing included)"),
)


def field_problem(text: str) -> str | None:
    """Why `text` is not a field path for a preset (None when it is one)."""
    if not text:
        return "a field path such as legacy_id or address.city"
    if not _FIELD.match(text) or ".." in text or text.endswith("."):
        return "a field path such as legacy_id or address.city (no $, no spaces)"
    return None
