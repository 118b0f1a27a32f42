"""The aggregate view's engine (issue 27): a pipeline in mongosh syntax, its results paged from one server cursor
(a page already read costs nothing to see again), and the ready-made pipelines answering "which legacy_ids
are duplicated", "which values does status take" and "which types does phone take"."""

from __future__ import annotations

import json

import pytest
from pymongo import MongoClient

from runway_tui.engine.aggregate_presets import PRESETS, field_problem
from runway_tui.engine.inspect import Inspector, InspectSettings
from runway_tui.engine.inspect_values import InspectInputError
from tests.support import commands
from tests.support.explorer_data import LOGINS

PRESET = {p.id: p for p in PRESETS}


@pytest.fixture
def inspector(mongo_client: MongoClient, explorer_db: str) -> Inspector:
    return Inspector(mongo_client[explorer_db], InspectSettings(redact_fields=("email",)))


def all_results(inspector: Inspector, collection: str, text: str) -> list[dict]:
    run = inspector.aggregate(collection, text)
    try:
        docs, number = [], 1
        while True:
            page = run.page(number)
            docs += [json.loads(d) for d in page.documents]
            if not page.has_more:
                return docs
            number += 1
    finally:
        run.close()


def test_duplicates_of_a_field(inspector: Inspector) -> None:
    docs = all_results(inspector, LOGINS, PRESET["duplicates"].pipeline("legacy_id"))
    assert sorted(d["_id"] for d in docs) == [f"L{n:03d}" for n in range(10)]
    assert all(d["count"] == 2 and len(d["ids"]) == 2 for d in docs)


def test_values_of_a_field_with_counts(inspector: Inspector) -> None:
    docs = all_results(inspector, LOGINS, PRESET["values"].pipeline("status"))
    assert [(d["_id"], d["count"]) for d in docs][:1] == [("ok", 36)]
    assert sorted((d["_id"], d["count"]) for d in docs) == [("denied", 12), ("locked", 12), ("ok", 36)]


def test_documents_per_type_of_a_field(inspector: Inspector) -> None:
    docs = all_results(inspector, LOGINS, PRESET["types"].pipeline("phone"))
    assert sorted((d["_id"], d["count"]) for d in docs) == [("int", 15), ("long", 15), ("missing", 15),
                                                            ("string", 15)]


def test_a_nested_field_and_a_bad_field_name() -> None:
    assert "$device.os" in PRESET["values"].pipeline("device.os")
    assert field_problem("device.os") is None
    assert field_problem("$status") and field_problem("a b") and field_problem("")


def test_pages_come_from_one_cursor_and_a_page_read_is_kept(inspector: Inspector) -> None:
    with commands.watch() as seen:
        run = inspector.aggregate("counters", "[{$match: {group: {$lt: 5}}}, {$sort: {_id: 1}}]")
        first = run.page(1)
        assert [json.loads(d)["_id"] for d in first.documents][:3] == [0, 1, 2] and first.has_more
        assert len(first.rows) == 50 and first.columns == ["_id", "group"]
        second = run.page(2)
        assert second.first == 50 and json.loads(second.documents[0])["_id"] == 100
        sent = len(seen.all())
        assert run.page(1) is first and len(seen.all()) == sent  # back: no read
        last = run.page(3)
        assert len(last.rows) == 50 and not last.has_more  # 150 documents: exactly three pages
        with pytest.raises(InspectInputError, match="no more results"):
            run.page(4)
        run.close()
    names = [c.name for c in seen.all()]
    assert names.count("aggregate") == 1 and names.count("getMore") == 2  # one run, one batch per new page
    assert not any(c.name in ("insert", "update", "delete") for c in seen.all())


def test_other_columns_relabel_the_pages_read(inspector: Inspector) -> None:
    run = inspector.aggregate("people", "[{$sort: {_id: 1}}]")
    try:
        page = run.page(1, columns=["name", "address.city"])
        assert page.columns == ["name", "address.city"] and page.rows[0][1] == ('"Oslo"', "string")
    finally:
        run.close()


def test_a_closed_run_says_to_run_it_again(inspector: Inspector) -> None:
    run = inspector.aggregate("counters", "[{$sort: {_id: 1}}]")
    run.close()
    with pytest.raises(InspectInputError, match="run it again"):
        run.page(2)


def test_an_empty_pipeline_input_says_what_to_type(inspector: Inspector) -> None:
    with pytest.raises(InspectInputError, match=r"^pipeline: type stages such as"):
        inspector.aggregate("people", "  ")
