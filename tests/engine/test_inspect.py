"""The read-only explorer's engine side, against the real test server and the seeded database."""

from __future__ import annotations

import json

import pytest
from pymongo import MongoClient

from runway_tui.engine.inspect import DocumentQuery, Inspector, InspectSettings, infer_schema
from runway_tui.engine.inspect_redaction import Redactor
from runway_tui.engine.inspect_values import (
    InspectInputError,
    InspectRefusedError,
    InspectTimeoutError,
    parse_json_object,
)
from tests.support.explorer_data import BIG, BIG_COUNT, SECRET_EMAIL, SECRET_PASSWORD, SECRET_SSN

REDACT = ("password", "*.ssn", "email")


@pytest.fixture
def inspector(mongo_client: MongoClient, explorer_db: str) -> Inspector:
    return Inspector(mongo_client[explorer_db], InspectSettings(redact_fields=REDACT))


@pytest.fixture
def big(mongo_client: MongoClient, explorer_big_db: str) -> Inspector:
    """The 100k collection with the suite's 60 s deadline as maxTimeMS: these tests check the order and the
    ends of keyset pages, not the server's speed (a loaded machine took over 5 s for one page)."""
    return Inspector(mongo_client[explorer_big_db], InspectSettings(redact_fields=REDACT, max_time_ms=60_000))


def test_keyset_pages_walk_100k_in_order_without_skip(big: Inspector) -> None:
    """Pages follow `_id`, each after the last one's key; a page deep in the collection costs what the first does."""
    page = big.documents(BIG)
    assert page.columns[0] == "_id" and len(page.rows) == 50 and page.has_more
    seen = [json.loads(d)["_id"] for d in page.documents]
    for _ in range(3):
        page = big.documents(BIG, after=page.next_anchor, columns=page.columns)
        seen += [json.loads(d)["_id"] for d in page.documents]
    assert seen == list(range(200))


def test_last_page_has_no_more(big: Inspector) -> None:
    page = big.documents(BIG, DocumentQuery(filter=f'{{"_id": {{"$gte": {BIG_COUNT - 70}}}}}'))
    assert page.has_more
    last = big.documents(BIG, page.query, after=page.next_anchor)
    assert len(last.rows) == 20 and not last.has_more and last.next_anchor is None


def test_sort_pages_by_the_sort_then_id(inspector: Inspector) -> None:
    query = DocumentQuery(sort='{"group": -1}')
    ids: list[int] = []
    after = None
    while True:
        page = inspector.documents("counters", query, after=after)
        docs = [json.loads(d) for d in page.documents]
        ids += [d["_id"] for d in docs]
        if not page.has_more:
            break
        after = page.next_anchor
    expected = sorted(range(300), key=lambda i: (-(i % 10), -i))
    assert ids == expected


def test_projection_and_extended_json(inspector: Inspector) -> None:
    page = inspector.documents("people", DocumentQuery(projection='{"name": 1, "profile": 1, "orders": 1}'))
    doc = json.loads(page.documents[0])
    assert set(doc) == {"_id", "name", "profile", "orders"}
    assert doc["_id"] == {"$oid": "000000000000000000000001"}
    assert doc["profile"]["since"] == {"$date": "2024-01-02T00:00:00Z"}
    assert doc["orders"][0]["price"] == {"$numberDecimal": "1.05"}


def test_extended_json_filter(inspector: Inspector) -> None:
    page = inspector.documents("people", DocumentQuery(filter='{"_id": {"$oid": "000000000000000000000002"}}'))
    assert [json.loads(d)["name"] for d in page.documents] == ["person 02"]


def test_columns_are_the_most_common_fields_nested_ones_opened(inspector: Inspector) -> None:
    page = inspector.documents("people")
    assert page.columns[0] == "_id" and len(page.columns) == 8
    assert page.columns[:3] == ["_id", "name", "age"]  # every document has them; redacted ones come last
    assert "address.city" in page.columns and "address" not in page.columns  # a sub-document opened
    assert not {"email", "password", "profile.ssn"} & set(page.columns)  # *** says nothing: after the others
    city = page.columns.index("address.city")
    assert page.rows[0][city] == ("\"Oslo\"", "string")  # typed cells: strings quoted
    assert page.rows[0][page.columns.index("age")] == ("21", "int")
    assert dict(page.fields)["status"] == 30  # every path of the page, for the column picker
    page = inspector.documents("people", DocumentQuery(projection='{"name": 1, "status": 1}'))
    assert page.columns == ["_id", "name", "status"]
    status = page.columns.index("status")
    assert page.rows[3][status] is None  # person 04 has no status: an empty cell, not "null"
    page = inspector.documents("people", columns=["name", "orders.sku", "address"])  # the picker's choice
    assert page.columns == ["name", "orders.sku", "address"]
    assert page.rows[1][1] == ('["S2-0"]', "array") and page.rows[1][2].kind == "object"


@pytest.mark.parametrize("text, message", [
    ('{"status": ', "filter: not valid at column 12 (the text ends too soon)"),
    ("[1, 2]", "filter: expected an object such as {status: 'active'}, got an array"),
    ('{"_id": {"$oid": "nope"}}', "filter: not valid extended JSON"),
])
def test_bad_filter_is_one_line(inspector: Inspector, text: str, message: str) -> None:
    with pytest.raises(InspectInputError) as error:
        inspector.documents("people", DocumentQuery(filter=text))
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_unknown_operator_is_refused_in_one_line(inspector: Inspector) -> None:
    with pytest.raises(InspectRefusedError) as error:
        inspector.documents("people", DocumentQuery(filter='{"age": {"$older": 3}}'))
    text = str(error.value)
    assert "$older" in text and "\n" not in text and "full error" not in text


def test_a_read_that_times_out_names_max_time(inspector: Inspector, mongo_client: MongoClient) -> None:
    mongo_client.admin.command("configureFailPoint", "maxTimeAlwaysTimeOut", mode={"times": 1})
    try:
        with pytest.raises(InspectTimeoutError) as error:
            inspector.documents("people", DocumentQuery(filter='{"status": "active"}'))
    finally:
        mongo_client.admin.command("configureFailPoint", "maxTimeAlwaysTimeOut", mode="off")
    assert "maxTimeMS" in str(error.value) and "tui.inspect_max_time_ms" in str(error.value)


def test_counts_estimated_and_exact(inspector: Inspector, big: Inspector) -> None:
    estimated = big.count(BIG)
    assert estimated is not None and not estimated.exact and estimated.count == BIG_COUNT
    assert big.count(BIG, '{"group": 3}') is None  # a filter: only an exact count can answer
    exact = inspector.count("people", '{"status": {"$exists": false}}', exact=True)
    assert exact is not None and exact.exact and exact.count == 10


def test_schema_paths_types_and_shares(inspector: Inspector) -> None:
    report = inspector.schema("people", sample_size=1000)
    assert report.sampled == 40
    fields = {f.path: f for f in report.fields}
    assert report.fields[0].path == "_id" and fields["_id"].types == [("objectId", 100.0)]
    assert fields["status"].percent == 75.0 and not fields["status"].always
    assert fields["address.city"].always and fields["orders[].sku"].present == 40
    age = dict(fields["age"].types)
    assert set(age) == {"int", "string", "null"} and abs(sum(age.values()) - 100) < 1e-6
    assert fields["tags[]"].types == [("string", 100.0)]
    assert fields["orders[].price"].types == [("decimal", 100.0)]


def test_schema_sample_is_bounded(big: Inspector) -> None:
    report = big.schema(BIG, sample_size=300)
    assert report.sampled == 300 and [f.path for f in report.fields] == ["_id", "group", "n"]


def test_indexes_flags_and_usage(inspector: Inspector) -> None:
    report = inspector.indexes("people")
    by_name = {i.name: i for i in report.indexes}
    assert set(by_name) == {"_id_", "email_1", "expires_ttl", "status_partial", "city_sparse"}
    assert by_name["email_1"].unique and by_name["email_1"].flags == ["unique"]
    assert by_name["expires_ttl"].ttl_s == 86400 and "TTL 86400s" in by_name["expires_ttl"].flags
    assert by_name["status_partial"].partial == '{"status": {"$exists": true}}'
    assert by_name["city_sparse"].sparse
    stats = list(inspector.db.people.aggregate([{"$indexStats": {}}]))
    if any((row.get("accesses") or {}).get("since") for row in stats):  # a server that counts (MongoDB)
        assert report.usage_note is None and all(i.ops is not None for i in report.indexes)
        assert by_name["city_sparse"].never_used
    else:  # counts without a date (SecantusDB: always 0): not reported, so nothing reads "never used"
        assert report.usage_note == "usage not reported by this server"
        assert all(i.ops is None and i.since is None and not i.never_used for i in report.indexes)


def test_validation_and_options(inspector: Inspector) -> None:
    rules = inspector.validation("rules")
    assert rules.exists and rules.level == "moderate" and rules.action == "warn"
    assert '"required"' in (rules.validator or "")
    assert '"email": "***"' in (rules.validator or "")  # redaction reaches the validator too
    ring = dict(inspector.validation("ring").options)
    assert ring["capped"].startswith("yes") and "100" in ring["capped"]
    people = inspector.validation("people")
    assert people.validator is None and dict(people.options)["time series"] == "no"
    assert not inspector.validation("no_such_collection").exists


def test_server_report(inspector: Inspector) -> None:
    report = inspector.server("8.0", "replica set", "secantus")
    assert report.members.rows and report.members.rows[0].state == "PRIMARY"
    assert report.members.rows[0].lag_s == 0
    assert report.operations.rows == [] and report.connections.rows
    standalone = inspector.server("8.0", "standalone", None)
    assert standalone.members.rows is None and "standalone" in (standalone.members.note or "")


def test_redaction_reaches_every_value(inspector: Inspector) -> None:
    page = inspector.documents("people", DocumentQuery(filter='{"name": "person 01"}'))
    text = "\n".join(page.documents) + json.dumps(page.rows)
    for secret in (SECRET_EMAIL, SECRET_PASSWORD, SECRET_SSN):
        assert secret not in text
    doc = json.loads(page.documents[0])
    assert doc["email"] == doc["password"] == doc["profile"]["ssn"] == "***"
    assert doc["address"]["city"] == "Oslo"  # only what was asked for is hidden


def test_redactor_patterns() -> None:
    redactor = Redactor(["password", "*.ssn", "a.b"])
    doc = {"password": 1, "ssn": 2, "x": {"ssn": 3, "password": 4}, "a": {"b": 5, "c": 6},
           "list": [{"password": 7}]}
    assert redactor.apply(doc) == {"password": "***", "ssn": 2, "x": {"ssn": "***", "password": "***"},
                                   "a": {"b": "***", "c": 6}, "list": [{"password": "***"}]}


def test_parse_json_object_accepts_extended_json() -> None:
    assert parse_json_object("", "filter") == {}
    value = parse_json_object('{"at": {"$date": "2024-01-01T00:00:00Z"}}', "filter")
    assert value["at"].year == 2024


def test_infer_schema_counts_a_document_once() -> None:
    fields = {f.path: f for f in infer_schema([{"a": [1, "x", 2]}, {"b": 1}])}
    assert fields["a[]"].present == 1 and dict(fields["a[]"].types) == {"int": 100.0, "string": 100.0}
    assert fields["a"].percent == 50.0


def test_collections_named_by_a_migration_source() -> None:
    from runway_tui.engine.inspect_refs import collections_named

    source = '''
def upgrade(ctx):
    ctx.db["users"].update_many({}, {"$set": {"a": 1}}, session=ctx.session)
    ctx.db.orders.create_index("customer_id")
    ctx.db.create_collection("things", session=ctx.session)
    db = ctx.db
    db["audit"].find_one()
    ctx.db.command("ping")
    ctx.db.list_collection_names()
    ctx.db[name_from_elsewhere].find()
    ctx.db.users.find()
'''
    assert collections_named(source) == ["users", "orders", "things", "audit"]
    assert collections_named("def broken(:") == []
