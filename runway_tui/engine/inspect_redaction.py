"""What the explorer hides, and the inputs it refuses so that nothing hidden can be inferred (issue 25).

`tui.redact_fields` names fields (hidden at any depth) or glob paths (`*.ssn`); names match whatever their
case, since `Email` holds an e-mail as surely as `email` does. The rule is that a redacted path never
influences what is shown:

- `Redactor.apply` is the only way a value leaves the explorer's engine: everything at or below a redacted
  path becomes `***` (a dotted key such as `"apikeys.k"` in a validator too, and an expression such as
  `$expr`, whose literals may be a redacted field's values), and every string, keys included, has the
  password of any MongoDB URI and the configuration's known secrets masked.
- `QueryGuard` checks what the user typed before anything is sent: a projection only includes or excludes
  fields (a computed one would copy a redacted value under another name), and a filter or a sort that
  reaches a redacted path, however it reaches it, is refused with one line. After a read it refuses a page
  whose order followed a redacted value held inside a sort key (`{"profile": 1}` over `profile.ssn`).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

from bson.code import Code
from bson.regex import Regex

from runway_tui.engine.inspect_values import InspectInputError
from runway_tui.engine.uri import scrub

REDACTED = "***"
SETTING = "tui.redact_fields"
CACHED_PATHS = 10_000
# Filter operators that read fields without naming them (or name them in a way no check can follow):
# refused whenever something is redacted.
READS_ANY_FIELD = {
    "$expr": "an expression can read a redacted field under another name",
    "$where": "JavaScript can read every field",
    "$function": "JavaScript can read every field",
    "$accumulator": "JavaScript can read every field",
    "$jsonSchema": "a schema can test every field, redacted ones too",
    "$text": "a text search reads every text-indexed field",
}

# Shown as `***` in a validator, a partial filter or an operation while something is redacted: the literals
# of an expression cannot be told apart from a redacted field's values they are compared with.
EXPRESSIONS = frozenset({"$expr", "$where", "$function", "$accumulator"})


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


class Redactor:
    """`tui.redact_fields` plus the configuration's known secrets: what is hidden, and hiding it."""

    def __init__(self, patterns: Iterable[str] = (), secrets: Iterable[str] = ()) -> None:
        folded = [p.strip().casefold() for p in patterns if p.strip()]
        self.names = frozenset(p for p in folded if not any(c in p for c in "*?[."))
        globs = [p for p in folded if p not in self.names]
        self._globs = re.compile("|".join(fnmatch.translate(g) for g in globs)) if globs else None
        self.secrets = [s for s in secrets if s]
        self._needles = [v for s in self.secrets for v in (s, quote(s, safe=""))]
        self._hides: dict[str, bool] = {}  # the same paths come back in every document of a page or sample

    @property
    def active(self) -> bool:
        """Something is redacted (masking URIs and secrets is always on)."""
        return bool(self.names or self._globs)

    def hides(self, path: str) -> bool:
        """This dotted path (array positions left out) is redacted: its last name, or the whole path by glob."""
        known = self._hides.get(path)
        if known is None:
            folded = path.casefold()
            known = folded.rsplit(".", 1)[-1] in self.names or bool(self._globs and self._globs.match(folded))
            if len(self._hides) >= CACHED_PATHS:
                self._hides.clear()  # keys that are data (a map keyed by e-mail) must not grow it without end
            self._hides[path] = known
        return known

    def covering(self, path: str) -> str | None:
        """The redacted path at or above `path`, as written there, or None. A numeric part counts both as a
        field name and as an array position (`orders.0.email` is `orders.email` too)."""
        parts = path.split(".")
        variants = [parts]
        positionless = [p for p in parts if not p.isdigit()]
        if positionless != parts:
            variants.append(positionless)
        for variant in variants:
            for end in range(1, len(variant) + 1):
                prefix = ".".join(variant[:end])
                if self.hides(prefix):
                    return prefix
        return None

    def mask(self, text: str) -> str:
        """URI passwords and the configuration's known secrets become `***`."""
        if "://" not in text and not any(needle in text for needle in self._needles):
            return text  # the common case, and a schema of 1000 documents asks for every key
        return scrub(text, self.secrets)

    def apply(self, value: Any, prefix: str = "", redact: bool = True) -> Any:
        """A copy of `value` with every redacted field's value `***` and every string masked."""
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                name = str(key)
                path = _join(prefix, name)
                hidden = redact and self.hides_key(path, name)
                out[self.mask(name)] = REDACTED if hidden else self.apply(item, path, redact)
            return out
        if isinstance(value, list | tuple):
            return [self.apply(item, prefix, redact) for item in value]
        if isinstance(value, Code):
            return Code(self.mask(str(value)), self.apply(value.scope, prefix, redact) if value.scope else None)
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, Regex):
            return Regex(self.mask(value.pattern), value.flags)
        return value

    def hides_key(self, path: str, name: str) -> bool:
        """The value under key `name`, at `path`, is hidden (a dotted key may name a path inside a redacted one)."""
        if name in EXPRESSIONS:
            return self.active
        return self.covering(path) is not None if "." in name else self.hides(path)

    def masked(self, value: Any) -> Any:
        """A copy of `value` with every string masked, nothing redacted: metadata (index keys, options)."""
        return self.apply(value, redact=False)

    def hidden_inside(self, value: Any, path: str) -> str | None:
        """The first redacted path at or inside `value` (found at `path`), masked, or None."""
        found = self.covering(path)
        if found is not None:
            return self.mask(found)
        if isinstance(value, dict):
            for key, item in value.items():
                found = self.hidden_inside(item, _join(path, str(key)))
                if found is not None:
                    return found
        elif isinstance(value, list | tuple):
            for item in value:
                found = self.hidden_inside(item, path)
                if found is not None:
                    return found
        return None


class QueryGuard:
    """The user's projection, filter and sort, checked against what is redacted before anything is sent."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor

    def check(self, spec: dict[str, Any], projection: dict[str, Any] | None,
              sort: list[tuple[str, int]]) -> None:
        self.check_projection(projection or {})
        self.check_filter(spec)
        self.check_sort(sort)

    def check_projection(self, projection: dict[str, Any]) -> None:
        """Include (1) or exclude (0) named fields, nothing else, and nothing inside a redacted field."""
        for key, value in projection.items():
            if "$" in key:
                raise InspectInputError(f"projection: {key!r}: positional and operator projections are refused; "
                                        "name each field with 1 (include) or 0 (exclude)")
            if not _includes_or_excludes(value):
                raise InspectInputError(f"projection: {key!r} must be 1 (include) or 0 (exclude): the explorer "
                                        "never computes a field (expressions, $slice, $elemMatch, $meta)")
            hidden = self.redactor.covering(key)
            if hidden is not None and hidden != key:
                raise InspectInputError(f"projection: a field inside the redacted field {hidden!r} ({SETTING}) is "
                                        f"refused; include or exclude {hidden!r} itself")

    def check_filter(self, spec: dict[str, Any]) -> None:
        if self.redactor.active:
            self._check_condition(spec, "")

    def _check_condition(self, value: Any, prefix: str) -> None:
        """Every field a condition names, composed with where it stands (inside `$elemMatch`, a literal
        sub-document, `$in`'s documents...); operator keys keep the path they stand on."""
        if isinstance(value, dict):
            for key, item in value.items():
                name = str(key)
                if name.startswith("$"):
                    if name in READS_ANY_FIELD:
                        raise InspectInputError(
                            f"filter: {name} is refused while {SETTING} is set ({READS_ANY_FIELD[name]}); "
                            'filter with conditions on fields, such as {"age": {"$gt": 30}}')
                    self._check_condition(item, prefix)
                    continue
                path = _join(prefix, name)
                hidden = self.redactor.covering(path)
                if hidden is not None:
                    raise InspectInputError(f"filter: {hidden!r} is redacted ({SETTING}), and a condition on it or "
                                            "inside it would tell its values apart; filter on other fields")
                self._check_condition(item, path)
        elif isinstance(value, list | tuple):
            for item in value:
                self._check_condition(item, prefix)

    def check_sort(self, sort: list[tuple[str, int]]) -> None:
        if not self.redactor.active:
            return
        for name, _ in sort:
            hidden = self.redactor.covering(name)
            if hidden is not None:
                raise InspectInputError(f"sort: {hidden!r} is redacted ({SETTING}), and the order would tell its "
                                        "values apart; sort by another field")

    def check_order(self, docs: list[dict[str, Any]], sort: list[tuple[str, int]]) -> None:
        """After a read, before anything is shown: no sort key's value held a redacted field, so the page's
        order and its membership follow only what is shown."""
        if not self.redactor.active:
            return
        for name, _ in sort:
            for doc in docs:
                for path, value in _values_at(doc, name.split("."), ""):
                    hidden = self.redactor.hidden_inside(value, path)
                    if hidden is None:
                        continue
                    if name == "_id":
                        raise InspectInputError(
                            f"documents: pages follow '_id', which holds the redacted field {hidden!r} ({SETTING}), "
                            "so their order would tell its values apart; this collection cannot be browsed "
                            "while that field is redacted")
                    raise InspectInputError(f"sort: {name!r} holds the redacted field {hidden!r} ({SETTING}), so "
                                            "the order would follow its values; sort by another field")


def _includes_or_excludes(value: Any) -> bool:
    return isinstance(value, bool) or (isinstance(value, int | float) and value in (0, 1))


def _values_at(value: Any, parts: list[str], path: str) -> Iterator[tuple[str, Any]]:
    """The values a sort on `parts` compares, found the server's way (through arrays, a number also as a
    position), each with its path (array positions left out)."""
    if not parts:
        yield path, value
        return
    head, rest = parts[0], parts[1:]
    if isinstance(value, dict):
        if head in value:
            yield from _values_at(value[head], rest, _join(path, head))
    elif isinstance(value, list):
        if head.isdigit() and int(head) < len(value):
            yield from _values_at(value[int(head)], rest, path)
        for item in value:
            if isinstance(item, dict):
                yield from _values_at(item, parts, path)
