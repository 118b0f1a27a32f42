"""The aggregate view's pipelines run on documents the server has redacted first (issue 27).

A pipeline can reach a field in more ways than any check of its text can follow (`$$ROOT`, `$objectToArray`,
a sub-document grouped or compared whole), so while `tui.redact_fields` is set the explorer adds one stage,
after the pipeline's leading `$match`, `$limit`, `$skip` and `$project` stages (which reveal nothing and keep
the use of an index), that rebuilds every document with each redacted field's value replaced by `***`. What
follows in the pipeline never sees a redacted value, whatever it computes. The documents a `$lookup` joins
get the same stage first.

The stage walks sub-documents and arrays of sub-documents down to MAX_DEPTH levels; anything deeper, and an
array nested directly in an array that holds documents, is `***` as a whole (hidden rather than unread).
Names match whatever their ASCII case (`$regexMatch` with the `i` option); a glob (`*.ssn`) matches the
dotted path of the field, array positions left out, as `Redactor` does.
"""

from __future__ import annotations

import re
from typing import Any

from runway_tui.engine.inspect_redaction import EXPRESSIONS, REDACTED, Redactor

MAX_DEPTH = 8
DEEP = ["object", "array"]


def glob_regex(pattern: str) -> str:
    """A PCRE for one glob of `tui.redact_fields` over a dotted path, matching the path or anything under it."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[" and "]" in pattern[i + 1:]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1:end]
            body = "^" + body[1:] if body.startswith("!") else body
            out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def document_stage(redactor: Redactor) -> dict[str, Any]:
    """`{$replaceWith: …}`: the whole document with every redacted field `***` (for `$$ROOT`, a join)."""
    return {"$replaceWith": _Builder(redactor).value("$$ROOT", None, MAX_DEPTH)}


def fields_stage(redactor: Redactor, fields: list[str]) -> dict[str, Any]:
    """`{$set: …}`: these top-level fields with what they hold redacted (a missing one stays missing)."""
    builder = _Builder(redactor)
    return {"$set": {name: {"$cond": [{"$eq": [{"$type": f"${name}"}, "missing"]}, "$$REMOVE",
                                      builder.value(f"${name}", name, MAX_DEPTH)]} for name in fields}}


class _Builder:
    def __init__(self, redactor: Redactor) -> None:
        names = sorted(redactor.names)
        self.names = f"(^|\\.)({'|'.join(re.escape(n) for n in names)})(\\.|$)" if names else None
        self.globs = f"^({'|'.join(glob_regex(g) for g in redactor.globs)})(\\..*)?$" if redactor.globs else None

    def hidden(self, key: str, path: Any) -> dict[str, Any]:
        tests: list[Any] = [{"$in": [key, sorted(EXPRESSIONS)]}]
        if self.names:
            tests.append({"$regexMatch": {"input": key, "regex": self.names, "options": "i"}})
        if self.globs:
            tests.append({"$regexMatch": {"input": path, "regex": self.globs, "options": "i"}})
        return {"$or": tests}

    def value(self, x: str, path: Any, depth: int) -> Any:
        """`x` (a variable) with its redacted fields hidden; an array's documents too, through one `$map`."""
        if depth == 0:
            return {"$cond": [{"$in": [{"$type": x}, DEEP]}, REDACTED, x]}
        return {"$cond": [{"$in": [{"$type": x}, DEEP]}, self.deep(x, path, depth), x]}  # a plain value: as it is

    def deep(self, x: str, path: Any, depth: int) -> dict[str, Any]:
        wrapped, mapped, element = f"w{depth}", f"m{depth}", f"e{depth}"
        item = f"$${element}"
        each = {"$switch": {"branches": [
            {"case": {"$eq": [{"$type": item}, "object"]}, "then": self.document(item, path, depth)},
            {"case": {"$isArray": f"$${element}"}, "then": self.nested(f"$${element}")},
        ], "default": f"$${element}"}}
        return {"$let": {"vars": {wrapped: {"$cond": [{"$isArray": x}, x, [x]]}}, "in": {
            "$let": {"vars": {mapped: {"$map": {"input": f"$${wrapped}", "as": element, "in": each}}},
                     "in": {"$cond": [{"$isArray": x}, f"$${mapped}", {"$arrayElemAt": [f"$${mapped}", 0]}]}}}}}

    def document(self, x: str, path: Any, depth: int) -> dict[str, Any]:
        pair = f"kv{depth}"
        key = f"$${pair}.k"
        child = key if path is None else {"$concat": [path, ".", key]}
        if not self.globs:
            child = None  # names need no path: skip building it
        return {"$arrayToObject": {"$map": {"input": {"$objectToArray": x}, "as": pair, "in": {
            "k": key,
            "v": {"$cond": [self.hidden(key, child), REDACTED, self.value(f"$${pair}.v", child, depth - 1)]},
        }}}}

    @staticmethod
    def nested(x: str) -> dict[str, Any]:
        """An array directly inside an array: kept when it holds only plain values (coordinates), else `***`."""
        plain = {"$allElementsTrue": [{"$map": {"input": x, "as": "z", "in": {
            "$not": [{"$in": [{"$type": "$$z"}, DEEP]}]}}}]}
        return {"$cond": [plain, x, REDACTED]}
