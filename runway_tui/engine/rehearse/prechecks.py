"""Pre-checks on production, derived from what a step did in the scratch (where it can be known).

Each is one read-only aggregation or count on the whole production collection, bounded by `maxTimeMS`:

- a unique index the step created: the duplicate keys production already holds (the build would fail there);
- a validator the step set: the production documents that violate it (`$nor: [validator]`);
- an index the step dropped: flagged when production's `$indexStats` says queries use it;
- a field the step removed (renamed or unset) that one of production's remaining indexes or its validator
  uses: flagged;
- the migration's own `def check(ctx)`: run against production through a read-only view, its problem strings.
"""

from __future__ import annotations

import ast
import types
from pathlib import Path
from typing import Any

from pymongo.errors import PyMongoError

from runway_tui.engine.inspect_redaction import Redactor
from runway_tui.engine.project_files import MAX_MIGRATION_BYTES, read_text
from runway_tui.engine.rehearse.diff import CollectionDiff, CollectionState, _plain
from runway_tui.engine.rehearse.production import CollectionShape, ProductionReader
from runway_tui.engine.rehearse.report import Precheck

MAX_EXAMPLES = 3


def derived_checks(version: int, diff: CollectionDiff, after: CollectionState | None,
                   shape: CollectionShape | None, reader: ProductionReader, redactor: Redactor) -> list[Precheck]:
    """The pre-checks one step's change to one collection calls for; none when production lacks it."""
    if shape is None or shape.kind == "view":
        return []
    checks: list[Precheck] = []
    name = diff.name
    for index in diff.indexes_added:
        spec = after.specs.get(index, {}) if after else {}
        if spec.get("unique"):
            checks.append(_duplicates(version, name, index, spec, reader, redactor))
    if diff.validator_changed and after is not None and after.validator:
        checks.append(_violations(version, name, after.validator, reader))
    in_production = {str(i.get("name")): i for i in shape.indexes}
    for index in diff.indexes_removed:
        if index in in_production and index != "_id_":
            checks.append(_index_use(version, name, index, reader))
    if diff.schema_removed:
        checks.extend(_fields_in_use(version, name, diff, after, shape))
    return checks


def _guarded(version: int, kind: str, collection: str, read: Any) -> Precheck:
    try:
        return read()
    except PyMongoError as exc:
        text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return Precheck(version, kind, collection, False, 0, [], f"could not be checked on production: {text}")


def _duplicates(version: int, name: str, index: str, spec: dict[str, Any], reader: ProductionReader,
                redactor: Redactor) -> Precheck:
    fields = list(spec.get("key", {}))

    def read() -> Precheck:
        pipeline: list[dict[str, Any]] = []
        if spec.get("partialFilterExpression"):
            pipeline.append({"$match": spec["partialFilterExpression"]})
        if spec.get("sparse"):
            pipeline.append({"$match": {"$or": [{f: {"$exists": True}} for f in fields]}})
        group_id = {f"k{i}": f"${f}" for i, f in enumerate(fields)}
        pipeline += [{"$group": {"_id": group_id, "n": {"$sum": 1}}}, {"$match": {"n": {"$gt": 1}}},
                     {"$facet": {"count": [{"$count": "n"}], "examples": [{"$limit": MAX_EXAMPLES}]}}]
        result = reader.aggregate(name, pipeline)
        facet = result[0] if result else {}
        count = facet.get("count", [{}])[0].get("n", 0) if facet.get("count") else 0
        examples = []
        for group in facet.get("examples", []):
            key = {f: group["_id"].get(f"k{i}") for i, f in enumerate(fields)}
            examples.append({"key": _plain(redactor.apply(key)), "documents": group["n"]})
        detail = (f"unique index {index} on {', '.join(fields)}: {count} key value(s) already held by more than one "
                  f"document in production" if count else f"unique index {index}: no duplicate keys in production")
        return Precheck(version, "unique_index", name, count == 0, count, examples, detail)

    return _guarded(version, "unique_index", name, read)


def _violations(version: int, name: str, validator: dict[str, Any], reader: ProductionReader) -> Precheck:
    def read() -> Precheck:
        condition = {"$nor": [validator]}
        count = reader.count(name, condition)
        examples = [_plain(d["_id"]) for d in reader.aggregate(name, [{"$match": condition}, {"$limit": MAX_EXAMPLES},
                                                                      {"$project": {"_id": 1}}])] if count else []
        detail = (f"{count} production document(s) violate the new validator" if count
                  else "every production document passes the new validator")
        return Precheck(version, "validator", name, count == 0, count, examples, detail)

    return _guarded(version, "validator", name, read)


def _index_use(version: int, name: str, index: str, reader: ProductionReader) -> Precheck:
    def read() -> Precheck:
        stats = reader.aggregate(name, [{"$indexStats": {}}, {"$match": {"name": index}}])
        if not any((s.get("accesses") or {}).get("since") for s in stats):  # a server that counts no use
            return Precheck(version, "index_in_use", name, False, 0, [],
                            f"index {index} is dropped and this server does not report whether queries use it "
                            f"($indexStats has no 'since'): check production's query plans before running it")
        ops = sum(int((s.get("accesses") or {}).get("ops", 0) or 0) for s in stats)
        detail = (f"index {index} is dropped, yet production used it {ops} time(s) since {_since(stats)}" if ops
                  else f"index {index} is dropped; production's $indexStats shows no use of it")
        return Precheck(version, "index_in_use", name, ops == 0, ops, [], detail)

    return _guarded(version, "index_in_use", name, read)


def _since(stats: list[dict[str, Any]]) -> str:
    for s in stats:
        since = (s.get("accesses") or {}).get("since")
        if since is not None:
            return str(since)[:19]
    return "the server started"


def _fields_in_use(version: int, name: str, diff: CollectionDiff, after: CollectionState | None,
                   shape: CollectionShape) -> list[Precheck]:
    checks = []
    remaining = set(after.specs) if after else set()
    validator_fields = _names_in(shape.options.get("validator", {}))
    for path in diff.schema_removed:
        field = path.replace("[]", "")
        users = [str(i["name"]) for i in shape.indexes if str(i.get("name")) in remaining
                 and any(k == field or k.startswith(field + ".") for k in i.get("key", {}))]
        in_validator = field in validator_fields and not diff.validator_changed
        if users or in_validator:
            what = ([f"index {', '.join(users)}"] if users else []) + (["the validator"] if in_validator else [])
            checks.append(Precheck(version, "field_in_use", name, False, len(users) + int(in_validator), users,
                                   f"field {field} is removed from the sample, yet production's "
                                   f"{' and '.join(what)} use it"))
    return checks


def _names_in(value: Any) -> set[str]:
    """Field names a validator mentions: its keys (query form), `required` and `properties` ($jsonSchema)."""
    names: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if not str(key).startswith("$"):
                names.add(str(key))
            if key == "required" and isinstance(item, list):
                names.update(str(i) for i in item)
            names |= _names_in(item)
    elif isinstance(value, list):
        for item in value:
            names |= _names_in(item)
    return names


# ---------------------------------------------------------------------- def check(ctx)
def defines_check(path: Path) -> bool:
    """The file has a module-level `def check(ctx)` (read with `ast`)."""
    try:
        tree = ast.parse(read_text(path, MAX_MIGRATION_BYTES, errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return False
    return any(isinstance(n, ast.FunctionDef) and n.name == "check" for n in tree.body)


def touches(path: Path) -> list[str] | None:
    """The file's `touches = ["orders", ...]` (literal names given for those built at run time), or None."""
    try:
        tree = ast.parse(read_text(path, MAX_MIGRATION_BYTES, errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "touches" for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return None
            if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
                return list(value)
    return None


class CheckContext:
    """What `check(ctx)` gets: `ctx.db`, production through a read-only view; `ctx.log` collects lines."""

    def __init__(self, db: Any) -> None:
        self.db = self.database = db
        self.session = None
        self.lines: list[str] = []

    def log(self, message: str) -> None:
        self.lines.append(str(message))


def run_check(version: int, path: Path, reader: ProductionReader, redact: Any) -> Precheck:
    """Run the file's `check(ctx)` against production (read-only); its problem strings are the violations."""
    module = types.ModuleType(f"runway_check_{version}")
    module.__file__ = str(path)
    try:
        text = read_text(path, MAX_MIGRATION_BYTES)
        exec(compile(text.removeprefix("\ufeff"), str(path), "exec"), module.__dict__)  # noqa: S102
        problems = module.check(CheckContext(reader.read_only_view())) or []
        problems = [redact(str(p)) for p in problems]
    except Exception as exc:  # the project's code: any failure is the check's own result
        line = redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return Precheck(version, "check", "", False, 1, [], f"check(ctx) failed: {type(exc).__name__}: {line}"[:300])
    detail = f"check(ctx): {len(problems)} problem(s)" if problems else "check(ctx): no problem"
    return Precheck(version, "check", "", not problems, len(problems), problems[:10], detail)
