"""Read-only description of the database for the "Database state" pane."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from bson import json_util
from pymongo.errors import OperationFailure

if TYPE_CHECKING:
    from runway_tui.engine.app import MigrationApp

MAX_VALUE_CHARS = 200


def collections_list(app: MigrationApp) -> list[dict[str, Any]]:
    """One row per collection from a single cheap command; statistics are left empty (see `collection_stats`)."""
    own = app.own_collections
    rows = []
    for info in sorted(app.database.list_collections(), key=lambda c: c["name"]):
        name = info["name"]
        rows.append({"name": name, "type": info.get("type", "collection"),
                     "validator": bool(info.get("options", {}).get("validator")), "ours": own.label(name),
                     "count": None, "size": None, "indexes": None})
    return rows


def collection_stats(app: MigrationApp, name: str) -> dict[str, Any]:
    """Count, size and index count of one collection (may be slow on a big collection: call it in the background)."""
    try:
        stats = app.database.command("collStats", name)
        return {"count": stats.get("count"), "size": stats.get("size"), "indexes": stats.get("nindexes")}
    except OperationFailure:
        coll = app.database[name]
        return {"count": coll.estimated_document_count(), "size": None, "indexes": len(list(coll.list_indexes()))}


def collections_overview(app: MigrationApp) -> list[dict[str, Any]]:
    """One row per collection: estimated count, size, indexes, validator, and whether it is ours."""
    rows = collections_list(app)
    for row in rows:
        if row["type"] == "collection":
            row.update(collection_stats(app, row["name"]))
    return rows


def collection_detail(app: MigrationApp, name: str, sample: int = 5) -> dict[str, Any]:
    """Indexes, validator and a few documents (values truncated), all as JSON text."""
    coll = app.database[name]
    info = next(iter(app.database.list_collections(filter={"name": name})), None)
    if info is None:
        return {"name": name, "exists": False, "indexes": [], "validator": None, "sample": []}
    indexes = [_json(ix) for ix in coll.list_indexes()]
    validator = info.get("options", {}).get("validator")
    docs = [_json(_truncate(doc)) for doc in coll.find({}).limit(sample)]
    return {"name": name, "exists": True, "indexes": indexes, "validator": _json(validator) if validator else None,
            "sample": docs}


def _json(value: Any) -> str:
    return document_json(value)


def document_json(value: Any) -> str:
    """A BSON document as indented Extended JSON, for front ends that must not import bson."""
    return json.dumps(json.loads(json_util.dumps(value)), indent=2, ensure_ascii=False)


def _truncate(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _truncate(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_truncate(v) for v in value[:20]]
        return items + ([f"... {len(value) - 20} more"] if len(value) > 20 else [])
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[:MAX_VALUE_CHARS] + f"... ({len(value)} chars)"
    if isinstance(value, bytes) and len(value) > MAX_VALUE_CHARS:
        return f"<{len(value)} bytes>"
    return value
