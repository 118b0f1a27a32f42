"""mongosh syntax in the explorer's inputs (issue 27): what people paste from mongosh becomes the same BSON
values the server would get from mongosh, and a bad input is one line naming the column and what is accepted."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from bson import Binary, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp
from pymongo import MongoClient

from runway_tui.engine.inspect import DocumentQuery, Inspector, InspectSettings
from runway_tui.engine.inspect_values import InspectInputError
from runway_tui.engine.mongosh_syntax import InputSyntaxError, parse_object, parse_value


@pytest.mark.parametrize("text, expected", [
    ("{status: 'active', n: 1,}", {"status": "active", "n": 1}),  # unquoted keys, single quotes, trailing comma
    ('{"status": "active"}', {"status": "active"}),  # plain JSON
    ("{$or: [{a: 1}, {'b.c': 2}]} // a comment", {"$or": [{"a": 1}, {"b.c": 2}]}),
    ('{_id: ObjectId("65f0c0ffee00000000000001")}', {"_id": ObjectId("65f0c0ffee00000000000001")}),
    ('{"_id": {"$oid": "65f0c0ffee00000000000001"}}', {"_id": ObjectId("65f0c0ffee00000000000001")}),
    ("{at: ISODate('2024-01-31')}", {"at": dt.datetime(2024, 1, 31)}),
    ('{at: ISODate("2024-01-31T10:00:00Z")}', {"at": dt.datetime(2024, 1, 31, 10)}),
    ('{at: new Date("2024-01-31T12:00:00+02:00")}', {"at": dt.datetime(2024, 1, 31, 10)}),
    ("{at: new Date(0)}", {"at": dt.datetime(1970, 1, 1)}),
    ("{n: NumberLong(5), m: NumberLong('9007199254740993')}", {"n": Int64(5), "m": Int64(9007199254740993)}),
    ("{n: NumberInt(7)}", {"n": 7}),
    ("{d: NumberDecimal('19.990')}", {"d": Decimal128("19.990")}),
    ("{u: UUID('0e9a3b5c-1d2e-4f60-8a7b-9c0d1e2f3a4b')}",
     {"u": Binary.from_uuid(uuid.UUID("0e9a3b5c-1d2e-4f60-8a7b-9c0d1e2f3a4b"))}),
    ("{b: BinData(0, 'aGVsbG8=')}", {"b": Binary(b"hello", 0)}),
    ("{t: Timestamp(1700000000, 2)}", {"t": Timestamp(1700000000, 2)}),
    ("{lo: MinKey(), hi: MaxKey()}", {"lo": MinKey(), "hi": MaxKey()}),
    ("{name: /^ada/i}", {"name": Regex("^ada", "i")}),
    (r"{path: /^a\/b[/]c/}", {"path": Regex(r"^a\/b[/]c", "")}),  # an escaped / and one in a class
    ("{name: RegExp('^ada', 'i')}", {"name": Regex("^ada", "i")}),
    ("{note: 'a /slash/ and ObjectId(\"x\") in a string'}", {"note": 'a /slash/ and ObjectId("x") in a string'}),
])
def test_mongosh_and_json_forms_read_as_bson(text: str, expected: dict) -> None:
    value = parse_object(text)
    assert value == expected
    assert [type(v) for v in value.values()] == [type(v) for v in expected.values()]


def test_a_pipeline_reads_as_a_list_of_stages() -> None:
    text = "[\n  {$match: {status: 'active'}},  // first\n  {$group: {_id: '$city', n: {$sum: 1}}},\n]"
    assert parse_value(text) == [{"$match": {"status": "active"}}, {"$group": {"_id": "$city", "n": {"$sum": 1}}}]


@pytest.mark.parametrize("text, expected", [
    ("{a: }", "not valid at column 5 (unexpected \"}\")"),
    ("{a: 1", "not valid at column 6 (the text ends too soon)"),
    ("{\n a: 1,\n b: ObjectId('00000000000000000000000a'), c: }", "not valid at column 46 of line 3"),
    ("{a: ObjectId('xyz')}", 'ObjectId("xyz"): '),
    ("{a: ISODate('2024-13-01')}", 'ISODate("2024-13-01"): month must be in 1..12'),
    ("{a: NumberDecimal(1.5)}", "NumberDecimal(1.5): write the number as a string"),
    ("{a: Foo(1)}", "Foo(…) is not a constructor the explorer reads; use BinData"),
    ("{a: /x/g}", "/x/g: flag 'g' is not one MongoDB reads"),
    ("{a: /unclosed}", "a regular expression at column 5 has no closing '/'"),
    ("{a: 1, a: 2}", "the key 'a' appears twice in one object"),
    ("{a: 99999999999999999999}", "99999999999999999999 does not fit in a 64-bit integer"),
    ('{"_id": {"$oid": "nope"}}', "not valid extended JSON"),
])
def test_a_bad_input_is_one_line_naming_the_column_or_the_value(text: str, expected: str) -> None:
    with pytest.raises(InputSyntaxError) as error:
        parse_object(text)
    message = str(error.value)
    assert message.startswith(expected) and "\n" not in message and len(message) < 300, message


def test_a_syntax_error_says_what_is_accepted() -> None:
    with pytest.raises(InputSyntaxError) as error:
        parse_object("{status: active'}")
    assert "mongosh syntax such as {status: 'active'" in str(error.value) and "ObjectId(" in str(error.value)


@pytest.fixture
def inspector(mongo_client: MongoClient, explorer_db: str) -> Inspector:
    return Inspector(mongo_client[explorer_db], InspectSettings(redact_fields=("password",)))


def names(inspector: Inspector, filter_text: str, sort: str = "") -> list[str]:
    page = inspector.documents("people", DocumentQuery(filter=filter_text, sort=sort))
    return [json.loads(doc)["name"] for doc in page.documents]


@pytest.mark.parametrize("mongosh, extended", [
    ("{_id: ObjectId('000000000000000000000002')}", '{"_id": {"$oid": "000000000000000000000002"}}'),
    ("{'profile.since': {$lt: ISODate('2024-01-05')}}",
     '{"profile.since": {"$lt": {"$date": "2024-01-05T00:00:00Z"}}}'),
    ("{'orders.price': NumberDecimal('2.05')}", '{"orders.price": {"$numberDecimal": "2.05"}}'),
    ("{name: /^person 0[1-3]$/}", '{"name": {"$regex": "^person 0[1-3]$"}}'),
    ("{name: /^PERSON 1/i, age: {$type: 'int'},}", '{"name": {"$regex": "^PERSON 1", "$options": "i"}, '
                                                 '"age": {"$type": "int"}}'),
], ids=["ObjectId", "ISODate", "NumberDecimal", "regex", "regex-flags-trailing-comma"])
def test_a_mongosh_filter_selects_what_its_extended_json_does(inspector: Inspector, mongosh: str,
                                                              extended: str) -> None:
    expected = names(inspector, extended)
    assert expected and names(inspector, mongosh) == expected


def test_sort_and_projection_take_mongosh_syntax(inspector: Inspector) -> None:
    page = inspector.documents("people", DocumentQuery(filter="{age: {$type: 'int'}}", projection="{name: 1, age: 1}",
                                                       sort="{age: -1,}"))
    docs = [json.loads(d) for d in page.documents]
    assert set(docs[0]) == {"_id", "name", "age"} and docs[0]["age"] == max(d["age"] for d in docs)


def test_a_bad_mongosh_input_names_the_input(inspector: Inspector) -> None:
    with pytest.raises(InspectInputError) as error:
        inspector.documents("people", DocumentQuery(sort="{age: -1"))
    assert str(error.value).startswith("sort: not valid at column 9")
