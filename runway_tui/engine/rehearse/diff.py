"""What a step did to the scratch: snapshots of its collections and the difference of two of them.

Documents are matched by `_id` and compared by value and BSON type, field order aside (a `$rename` there and
back moves a field to the end: the same document to every query). A reversal is judged the same way, with the
indexes, the validator and the collection options besides.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from bson.decimal128 import Decimal128
from bson.int64 import Int64

from runway_tui.engine.inspect import infer_schema
from runway_tui.engine.inspect_redaction import Redactor
from runway_tui.engine.inspect_values import to_extended_json

MAX_EXAMPLES = 3
_VALIDATION_KEYS = ("validator", "validationLevel", "validationAction")


def canonical(value: Any) -> Any:
    """A comparable form of a BSON value: keys sorted, every scalar tagged with its type (1, 1.0, Int64(1)
    and True differ, as they do to `$type`)."""
    if isinstance(value, dict):
        return ("doc", tuple(sorted((str(k), canonical(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("arr", tuple(canonical(v) for v in value))
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, Int64):
        return ("long", int(value))
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("double", repr(value))
    if isinstance(value, Decimal128):
        return ("decimal", str(value))
    if isinstance(value, dt.datetime):
        return ("date", value.isoformat())
    if value is None:
        return ("null", None)
    return (type(value).__name__, to_extended_json(value, indent=None))


def id_key(value: Any) -> str:
    return to_extended_json(value, indent=None)


@dataclass
class CollectionState:
    """One collection of the scratch at one moment."""

    documents: dict[str, dict[str, Any]]  # by id_key, in `_id` order
    forms: dict[str, Any]  # id_key -> canonical(document)
    indexes: dict[str, Any]  # name -> canonical(spec without v/ns)
    validation: Any  # canonical of validator, level and action
    options: Any  # canonical of the other options
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> the index as listed
    validator: dict[str, Any] = field(default_factory=dict)  # as listed


@dataclass
class Snapshot:
    collections: dict[str, CollectionState] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)  # every collection there, read or not


def take_snapshot(database: Any, own: set[str], watched: set[str] | None = None,
                  known: set[str] | None = None) -> Snapshot:
    """The collections of the scratch but runway's own (the state the engine keeps there): those `watched`
    (a step's named collections; None: all of them) and any not in `known` (created since)."""
    snapshot = Snapshot()
    for info in database.list_collections():
        name = info["name"]
        if name in own or name.startswith("system.") or info.get("type") == "view":
            continue
        snapshot.names.add(name)
        if watched is not None and name not in watched and (known is None or name in known):
            continue
        docs = list(database[name].find({}).sort("_id", 1))
        documents = {id_key(d.get("_id")): d for d in docs}
        forms = {k: canonical(d) for k, d in documents.items()}
        indexes, specs = {}, {}
        for index in database[name].list_indexes():
            spec = {k: v for k, v in index.items() if k not in ("v", "ns")}
            indexes[str(index["name"])] = canonical(spec)
            specs[str(index["name"])] = spec
        options = dict(info.get("options", {}))
        validation = {k: options.pop(k) for k in _VALIDATION_KEYS if k in options}
        options.pop("uuid", None)
        snapshot.collections[name] = CollectionState(documents, forms, indexes, canonical(validation),
                                                     canonical(options), specs, dict(validation.get("validator", {})))
    return snapshot


@dataclass
class CollectionDiff:
    """One collection before and after a step, on the sample."""

    name: str
    sampled: int  # documents in the scratch before the step
    total: int  # documents in production (estimated count)
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    schema_added: list[str] = field(default_factory=list)
    schema_removed: list[str] = field(default_factory=list)
    schema_changed: list[dict[str, Any]] = field(default_factory=list)
    indexes_added: list[str] = field(default_factory=list)
    indexes_removed: list[str] = field(default_factory=list)
    validator_changed: bool = False
    created: bool = False
    dropped: bool = False
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.deleted or self.schema_added or self.schema_removed
                    or self.schema_changed or self.indexes_added or self.indexes_removed or self.validator_changed
                    or self.created or self.dropped)

    def to_json(self) -> dict[str, Any]:
        return {"sampled": self.sampled, "total": self.total, "inserted": self.inserted, "updated": self.updated,
                "deleted": self.deleted, "unchanged": self.unchanged,
                "schema": {"added": self.schema_added, "removed": self.schema_removed,
                           "changed": self.schema_changed},
                "indexes": {"added": self.indexes_added, "removed": self.indexes_removed},
                "validator_changed": self.validator_changed, "created": self.created, "dropped": self.dropped,
                "examples": self.examples}


_EMPTY = CollectionState({}, {}, {}, canonical({}), canonical({}))


def diff_collection(name: str, before: CollectionState | None, after: CollectionState | None, total: int,
                    redactor: Redactor) -> CollectionDiff:
    old, new = before or _EMPTY, after or _EMPTY
    result = CollectionDiff(name, len(old.documents), total, created=before is None and after is not None,
                            dropped=before is not None and after is None)
    examples: list[tuple[int, dict[str, Any]]] = []
    for key, doc in old.documents.items():
        if key not in new.documents:
            result.deleted += 1
            examples.append((2, _example(doc, None, redactor)))
        elif new.forms[key] != old.forms[key]:
            result.updated += 1
            examples.append((0, _example(doc, new.documents[key], redactor)))
        else:
            result.unchanged += 1
    for key, doc in new.documents.items():
        if key not in old.documents:
            result.inserted += 1
            examples.append((1, _example(None, doc, redactor)))
    examples.sort(key=lambda pair: pair[0])  # updates first: what a reviewer most wants to see
    result.examples = [e for _, e in examples[:MAX_EXAMPLES]]
    result.schema_added, result.schema_removed, result.schema_changed = _schema_diff(
        list(old.documents.values()), list(new.documents.values()), redactor)
    result.indexes_added = sorted(n for n, spec in new.indexes.items() if old.indexes.get(n) != spec)
    result.indexes_removed = sorted(n for n, spec in old.indexes.items() if new.indexes.get(n) != spec)
    result.validator_changed = old.validation != new.validation
    return result


def _schema_diff(before: list[dict[str, Any]], after: list[dict[str, Any]],
                 redactor: Redactor) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    """Field paths added and removed, and the paths whose type shares changed (the Schema view's inference)."""
    old = {f.path: dict(f.types) for f in infer_schema(before, redactor)}
    new = {f.path: dict(f.types) for f in infer_schema(after, redactor)}
    changed = []
    for path in old:
        if path in new and _rounded(old[path]) != _rounded(new[path]):
            changed.append({"path": path, "before": _rounded(old[path]), "after": _rounded(new[path])})
    return sorted(set(new) - set(old)), sorted(set(old) - set(new)), changed


def _rounded(types: dict[str, float]) -> dict[str, float]:
    return {kind: round(share, 1) for kind, share in sorted(types.items())}


def _example(before: dict[str, Any] | None, after: dict[str, Any] | None, redactor: Redactor) -> dict[str, Any]:
    """One document before and after, redacted (`tui.redact_fields` and the config's secrets), as relaxed
    extended JSON objects."""
    ident = (before or after or {}).get("_id")
    return {"_id": _plain(redactor.apply({"_id": ident})["_id"]),
            "before": None if before is None else _plain(redactor.apply(before)),
            "after": None if after is None else _plain(redactor.apply(after))}


def _plain(value: Any) -> Any:
    return json.loads(to_extended_json(value, indent=None))


def reversal_differences(before: Snapshot, after: Snapshot, redactor: Redactor) -> list[str]:
    """What the down did not put back, one line each; [] when the sample is exactly as it was."""
    lines: list[str] = []
    for name in sorted(before.names | after.names):
        old, new = before.collections.get(name), after.collections.get(name)
        if name not in before.names:
            lines.append(f"{name}: created by the up and still there after the down")
            continue
        if name not in after.names:
            lines.append(f"{name}: gone after the down")
            continue
        if old is None or new is None:  # not watched: its documents were not compared
            continue
        missing = [k for k in old.forms if k not in new.forms]
        extra = [k for k in new.forms if k not in old.forms]
        differ = [k for k in old.forms if k in new.forms and new.forms[k] != old.forms[k]]
        for what, keys in (("documents differ", differ), ("documents missing", missing),
                           ("documents added", extra)):
            if keys:
                first = (old.documents.get(keys[0]) or new.documents[keys[0]]).get("_id")
                shown = id_key(redactor.apply({"_id": first})["_id"])
                lines.append(f"{name}: {len(keys)} {what} (first _id {shown})")
        for index in sorted(set(old.indexes) | set(new.indexes)):
            if old.indexes.get(index) != new.indexes.get(index):
                state = "missing" if index not in new.indexes else "added" if index not in old.indexes else "changed"
                lines.append(f"{name}: index {index} {state}")
        if old.validation != new.validation:
            lines.append(f"{name}: validator changed")
        if old.options != new.options:
            lines.append(f"{name}: collection options changed")
    return lines
