"""Redaction that holds (issue 25), through the explorer's engine API against the real test server.

The attacker types into the filter, projection and sort inputs and wrote some of the documents. A redacted
path never influences what is shown: a projection only includes or excludes fields, a filter or sort that
reaches a redacted path (directly, by a case variant, through a dotted or positional path, `$elemMatch`, a
literal sub-document, or an operator that reads fields without naming them) is refused with one line before
any command is sent (the command listener proves it), nothing below a redacted field reaches any view, and a
MongoDB URI's password and the configuration's known secrets are masked in every view.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from pymongo import MongoClient

from runway_tui.engine.inspect import DocumentQuery, Inspector, InspectSettings
from runway_tui.engine.inspect_values import InspectInputError
from tests.support import commands
from tests.support.redaction_data import (
    ACCOUNTS,
    API_KEY,
    CASE_EMAIL,
    CASE_PASSWORD,
    CASE_SSN,
    CONFIG_SECRET,
    EMAIL,
    KEYED,
    MAP_KEY,
    REDACT_FIELDS,
    SECRETS,
    SSN,
    URI_PASSWORD,
    seed_redaction,
)

READS = ("find", "aggregate", "count", "distinct", "getMore")


@pytest.fixture(scope="module")
def redaction_db(mongo_client: MongoClient) -> Iterator[str]:
    name = f"runway_redaction_{uuid.uuid4().hex[:8]}"
    seed_redaction(mongo_client, name)
    yield name
    mongo_client.drop_database(name)


@pytest.fixture
def inspector(mongo_client: MongoClient, redaction_db: str) -> Inspector:
    return Inspector(mongo_client[redaction_db], InspectSettings(redact_fields=REDACT_FIELDS),
                     secrets=[CONFIG_SECRET])


def no_secret_in(text: str) -> None:
    leaked = [secret for secret in SECRETS if secret.casefold() in text.casefold()]
    assert not leaked, f"shown in clear: {leaked}"


def page_text(page) -> str:
    return "\n".join(page.documents) + json.dumps(page.rows) + json.dumps(page.columns)


def refused(inspector: Inspector, query: DocumentQuery, what: str, count: bool = False) -> str:
    """The read is refused with one line starting with `what`, and no read reached the server."""
    with commands.watch() as seen, pytest.raises(InspectInputError) as error:
        if count:
            inspector.count(ACCOUNTS, query.filter, exact=True)
        else:
            inspector.documents(ACCOUNTS, query)
    message = str(error.value)
    assert message.startswith(f"{what}: ") and "\n" not in message and len(message) < 300, message
    assert not seen.named(*READS), [c.name for c in seen.all()]
    no_secret_in(message)
    return message


# ------------------------------------------------------------------ projections: include or exclude only
COMPUTING = {
    "field path": '{"e": "$email"}',
    "$concat": '{"e": {"$concat": ["$email", "!"]}}',
    "$getField": '{"e": {"$getField": "email"}}',
    "$toUpper": '{"e": {"$toUpper": "$email"}}',
    "$objectToArray of $$ROOT": '{"e": {"$objectToArray": "$$ROOT"}}',
    "$objectToArray of a map": '{"e": {"$objectToArray": "$apikeys"}}',
    "$substrCP of a URI": '{"e": {"$substrCP": ["$note", 20, 14]}}',
    "$literal": '{"e": {"$literal": "x"}}',
    "$elemMatch": '{"orders": {"$elemMatch": {"email": {"$exists": true}}}}',
    "$slice": '{"orders": {"$slice": 1}}',
    "$meta": '{"s": {"$meta": "textScore"}}',
    "positional": '{"orders.$": 1}',
    "a string": '{"name": "yes"}',
    "a number other than 0 and 1": '{"name": 2}',
    "a sub-document": '{"profile": {"since": 1}}',
}


@pytest.mark.parametrize("projection", COMPUTING.values(), ids=COMPUTING.keys())
def test_a_projection_that_computes_is_refused_before_any_read(inspector: Inspector, projection: str) -> None:
    message = refused(inspector, DocumentQuery(projection=projection), "projection")
    assert "1 (include) or 0 (exclude)" in message


@pytest.mark.parametrize("projection", [json.dumps({f"apikeys.{MAP_KEY}": 1}), '{"APIKEYS.x": 0}',
                                        '{"profile.ssn.x": 1}'], ids=["map key", "case variant", "glob"])
def test_a_projection_inside_a_redacted_field_is_refused(inspector: Inspector, projection: str) -> None:
    message = refused(inspector, DocumentQuery(projection=projection), "projection")
    assert "redacted" in message and "tui.redact_fields" in message


def test_including_and_excluding_fields_still_works(inspector: Inspector) -> None:
    page = inspector.documents(ACCOUNTS, DocumentQuery(projection='{"name": 1, "email": true, "EMAIL": 1}'))
    docs = [json.loads(d) for d in page.documents]
    assert docs[0] == {"_id": 1, "name": "ada", "email": "***"}
    assert docs[1] == {"_id": 2, "name": "bob", "EMAIL": "***"}
    page = inspector.documents(ACCOUNTS, DocumentQuery(projection='{"apikeys": 0, "orders": 0, "links": 0}'))
    assert "apikeys" not in json.loads(page.documents[0]) and json.loads(page.documents[0])["email"] == "***"
    no_secret_in(page_text(page))


# ------------------------------------------------------------------ filters and the exact count
REACHING = {
    "the field": {"email": EMAIL},
    "a case variant": {"EMAIL": CASE_EMAIL},
    "$regex": {"email": {"$regex": "^ada"}},
    "$exists": {"password": {"$exists": True}},
    "$type": {"Password": {"$type": "string"}},
    "inside $or": {"$or": [{"name": "nobody"}, {"email": EMAIL}]},
    "inside $nor": {"$nor": [{"email": EMAIL}]},
    "inside $and, a glob path": {"$and": [{"name": "ada"}, {"profile.ssn": SSN}]},
    "a glob path, case variant": {"Profile.SSN": CASE_SSN},
    "below a redacted field": {f"apikeys.{MAP_KEY}": {"$exists": True}},
    "a positional path": {"orders.0.email": {"$regex": "^orders"}},
    "$elemMatch": {"orders": {"$elemMatch": {"email": {"$regex": "^o"}}}},
    "$all of $elemMatch": {"orders": {"$all": [{"$elemMatch": {"email": {"$exists": True}}}]}},
    "$not": {"email": {"$not": {"$regex": "^b"}}},
    "a literal sub-document": {"profile": {"ssn": SSN, "since": 2020}},
    "a literal in $in": {"orders": {"$in": [{"sku": "A1", "email": "x"}]}},
    "$expr with a field path": {"$expr": {"$eq": ["$email", EMAIL]}},
    "$expr with $getField": {"$expr": {"$eq": [{"$getField": "email"}, EMAIL]}},
    "$expr with $objectToArray": {"$expr": {"$gt": [{"$size": {"$objectToArray": "$apikeys"}}, 0]}},
    "$expr on another field": {"$expr": {"$eq": ["$name", "ada"]}},
    "$expr nested in $and": {"$and": [{"$expr": {"$eq": [{"$toLower": "$EMAIL"}, "x"]}}]},
    "$where": {"$where": f"this.email == '{EMAIL}'"},
    "$jsonSchema properties": {"$jsonSchema": {"properties": {"email": {"pattern": "^ada"}}}},
    "$jsonSchema patternProperties": {"$jsonSchema": {"patternProperties": {"^e": {"pattern": "^ada"}}}},
    "$text": {"$text": {"$search": "ada"}},
}


@pytest.mark.parametrize("condition", REACHING.values(), ids=REACHING.keys())
def test_a_filter_reaching_a_redacted_path_is_refused_before_any_read(inspector: Inspector,
                                                                        condition: dict) -> None:
    filter_text = json.dumps(condition)
    message = refused(inspector, DocumentQuery(filter=filter_text), "filter")
    assert "tui.redact_fields" in message
    assert refused(inspector, DocumentQuery(filter=filter_text), "filter", count=True) == message


def test_a_right_guess_and_a_wrong_one_read_the_same(inspector: Inspector) -> None:
    """The exact count after a filter on a redacted field cannot tell a right guess from a wrong one."""
    answers = set()
    for guess in (EMAIL, "nobody@secret.example"):
        for count in (False, True):
            answers.add(refused(inspector, DocumentQuery(filter=json.dumps({"email": guess})), "filter", count))
    assert len(answers) == 1


def test_filters_on_other_fields_still_work(inspector: Inspector) -> None:
    cases = {'{"name": "ada"}': [1], '{"orders": {"$elemMatch": {"sku": "A1"}}}': [1],
             '{"profile.since": {"$gte": 2021}}': [3], '{"tier": {"$in": ["gold"]}, "orders.sku": "A2"}': [1],
             '{"$or": [{"name": "bob"}, {"orders": {"$size": 0}}]}': [2, 3]}
    for filter_text, ids in cases.items():
        page = inspector.documents(ACCOUNTS, DocumentQuery(filter=filter_text))
        assert [json.loads(d)["_id"] for d in page.documents] == ids, filter_text
        count = inspector.count(ACCOUNTS, filter_text, exact=True)
        assert count is not None and count.count == len(ids)
        no_secret_in(page_text(page))


# ------------------------------------------------------------------ sorts
@pytest.mark.parametrize("sort", ['{"email": 1}', '{"Email": -1}', '{"profile.ssn": 1}',
                                  json.dumps({f"apikeys.{MAP_KEY}": 1}), '{"orders.0.email": 1}',
                                  '{"orders.email": -1}'],
                         ids=["field", "case variant", "glob", "below", "positional", "through an array"])
def test_a_sort_on_a_redacted_path_is_refused_before_any_read(inspector: Inspector, sort: str) -> None:
    message = refused(inspector, DocumentQuery(sort=sort), "sort")
    assert "tui.redact_fields" in message


@pytest.mark.parametrize("sort", ['{"profile": 1}', '{"Profile": -1}', '{"orders": 1}'],
                         ids=["a sub-document", "a case variant", "an array of documents"])
def test_a_sort_on_a_field_that_holds_a_redacted_one_shows_nothing(inspector: Inspector, sort: str) -> None:
    """The order would follow the redacted values inside: refused once the page shows it, nothing returned."""
    with pytest.raises(InspectInputError) as error:
        inspector.documents(ACCOUNTS, DocumentQuery(sort=sort))
    message = str(error.value)
    assert message.startswith("sort: ") and "redacted" in message and "\n" not in message
    no_secret_in(message)


def test_sorting_by_other_fields_still_works(inspector: Inspector) -> None:
    page = inspector.documents(ACCOUNTS, DocumentQuery(sort='{"name": -1}'))
    assert [json.loads(d)["_id"] for d in page.documents] == [3, 2, 1]
    page = inspector.documents(ACCOUNTS, DocumentQuery(sort='{"orders.sku": 1}'))
    assert [json.loads(d)["_id"] for d in page.documents] == [3, 1, 2]


def test_an_id_that_holds_a_redacted_field_orders_nothing(inspector: Inspector) -> None:
    """Pages follow `_id`: when it holds a redacted field the rows would be in the order of its values."""
    with pytest.raises(InspectInputError) as error:
        inspector.documents(KEYED)
    message = str(error.value)
    assert "_id" in message and "redacted" in message and "\n" not in message
    no_secret_in(message)


# ------------------------------------------------------------------ what every view shows
def test_names_differing_only_by_case_are_redacted(inspector: Inspector) -> None:
    page = inspector.documents(ACCOUNTS)
    bob = json.loads(page.documents[1])
    assert bob["EMAIL"] == bob["PassWord"] == bob["Profile"]["SSN"] == "***"
    for secret in (CASE_EMAIL, CASE_PASSWORD, CASE_SSN):
        assert secret not in page_text(page)


def test_the_schema_lists_nothing_inside_a_redacted_field(inspector: Inspector) -> None:
    report = inspector.schema(ACCOUNTS)
    paths = [f.path for f in report.fields]
    assert "apikeys" in paths and not any(p.startswith("apikeys.") for p in paths), paths
    assert "orders[].sku" in paths and "orders[].email" in paths and "profile.ssn" in paths
    no_secret_in(repr(report))


def test_uris_with_a_password_and_known_secrets_are_masked_in_every_view(inspector: Inspector) -> None:
    page = inspector.documents(ACCOUNTS)
    ada, bob, carol = (json.loads(d) for d in page.documents)
    assert ada["note"] == "connect with mongodb://bob:***@db.example:27017/app?authSource=admin"
    assert ada["links"]["primary"].startswith("mongodb://bob:***@")
    assert bob["note"] == "the shared secret is ***"
    assert carol["note"] == "mongodb://reader:***@db.example/app (no password: shown as it is)"  # as mask_uri does
    texts = [page_text(page), repr(inspector.schema(ACCOUNTS)), repr(inspector.indexes(ACCOUNTS)),
             repr(inspector.validation(ACCOUNTS))]
    for text in texts:
        no_secret_in(text)
    assert URI_PASSWORD not in "".join(texts) and CONFIG_SECRET not in "".join(texts) and API_KEY not in texts[0]
