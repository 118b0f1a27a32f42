"""The explorer runs the query as typed (issue 27): the projection the server sees is the one typed, whatever the
sort, and keyset paging still walks every document once, in order. The engine's reads are watched on the wire.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pymongo import MongoClient

from runway_tui.engine.inspect import DocumentQuery, Inspector, InspectSettings
from tests.support import commands

REDACT = ("password", "*.ssn", "email")
PAGE = 7  # people has 40 documents: six pages of seven, so paging is exercised


@pytest.fixture
def inspector(mongo_client: MongoClient, explorer_db: str) -> Inspector:
    return Inspector(mongo_client[explorer_db], InspectSettings(redact_fields=REDACT, page_size=PAGE))


def walk(inspector: Inspector, query: DocumentQuery) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    after = None
    for _ in range(20):
        page = inspector.documents("people", query, after=after)
        docs += [json.loads(d) for d in page.documents]
        if not page.has_more:
            return docs
        after = page.next_anchor
    raise AssertionError("paging did not end")


def _get(doc: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def _sortable(value: Any) -> Any:
    """The server compares sub-documents field by field (name, then value): as a tuple of items here."""
    return tuple((k, _sortable(v)) for k, v in value.items()) if isinstance(value, dict) else value


def expected_order(mongo_client: MongoClient, explorer_db: str, sort: dict[str, int]) -> list[str]:
    """The names of `people` in the sort's order, then `_id`'s in the same direction (computed here, from the
    full documents)."""
    docs = list(mongo_client[explorer_db].people.find({}))
    (key, direction), = sort.items()
    docs.sort(key=lambda d: (_sortable(_get(d, key)), str(d["_id"])), reverse=direction < 0)
    return [d["name"] for d in docs]


@pytest.mark.parametrize("projection, sort", [
    ('{"name": 1, "address": 1}', '{"address.city": 1}'),  # a sub-field of a projected field: "Path collision"
    ('{"name": 1, "address.city": 1}', '{"address": -1}'),  # the parent of a projected sub-field
    ('{"name": 1}', '{"address.zip": -1}'),  # a field the projection leaves out
    ('{"_id": 0, "name": 1}', '{"address.city": -1}'),  # no _id in what is shown, yet pages follow it
    ('{"address": 0, "profile": 0}', '{"address.city": 1}'),  # an excluded sort key (refused before)
], ids=["sub-field", "parent", "left-out", "no-id", "excluded"])
def test_the_query_runs_as_typed_and_pages_in_order(inspector: Inspector, mongo_client: MongoClient,
                                                    explorer_db: str, projection: str, sort: str) -> None:
    query = DocumentQuery(projection=projection, sort=sort)
    with commands.watch() as seen:
        docs = walk(inspector, query)
    typed = json.loads(projection)
    keys = {**{name: 1 for name in json.loads(sort)}, "_id": 1}
    finds = [c.command.get("projection") for c in seen.named("find") if c.target.endswith(".people")]
    # each page is read with the projection as typed; the sort keys it leaves out are read apart, alone
    assert finds.count(typed) == -(-40 // PAGE) and all(p in (typed, keys) for p in finds), finds
    assert all(c.outcome == "ok" for c in seen.all()), [(c.name, c.reply.get("errmsg")) for c in seen.all()]
    assert [d["name"] for d in docs] == expected_order(mongo_client, explorer_db, json.loads(sort))
    shown = {k for d in docs for k in d}
    if typed.get("_id") == 0:
        assert "_id" not in shown
    if "address" in typed and typed["address"] == 0:
        assert "address" not in shown
