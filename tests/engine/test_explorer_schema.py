"""The Schema view answers the second question (issue 27): it samples what the filter selects, lists the common
values of a field with few (typed, so `1`, `true` and "yes" differ), and offers the filters that select a
field, a type or a value, which then select exactly what the sample said. Redaction holds: a redacted field
lists no values and offers no filter, and a filter reaching one is refused before anything is sent."""

from __future__ import annotations

import pytest
from pymongo import MongoClient

from runway_tui.engine.inspect import Inspector, InspectSettings
from runway_tui.engine.inspect_values import InspectInputError
from runway_tui.engine.schema_values import combine
from tests.support import commands
from tests.support.explorer_data import LOGIN_COUNT, LOGINS

REDACT = ("password", "*.ssn", "email")


@pytest.fixture
def inspector(mongo_client: MongoClient, explorer_db: str) -> Inspector:
    return Inspector(mongo_client[explorer_db], InspectSettings(redact_fields=REDACT))


def fields(inspector: Inspector, filter_text: str = "") -> dict:
    report = inspector.schema(LOGINS, sample_size=1000, filter_text=filter_text)
    return {f.path: f for f in report.fields}


def test_a_low_cardinality_field_lists_its_values_with_counts(inspector: Inspector) -> None:
    schema = fields(inspector)
    status = schema["status"]
    assert [(v.cell.text, v.count) for v in status.values] == [('"ok"', 36), ('"denied"', 12), ('"locked"', 12)]
    assert [(v.cell.text, v.cell.kind) for v in schema["mfa"].values] == [
        ("false", "bool"), ("true", "bool"), ("1", "int"), ('"yes"', "string")]  # never alike
    assert len(schema["user"].values) == 5  # twelve distinct, each five times: the five most common
    assert schema["device.os"].values and schema["_id"].values == []  # unique values: nothing to list
    assert schema["legacy_id"].values == [] and schema["phone"].values == []  # fifty distinct; three types


def test_the_schema_samples_what_the_filter_selects(inspector: Inspector) -> None:
    report = inspector.schema(LOGINS, sample_size=1000, filter_text="{status: 'denied'}")
    assert report.sampled == 12 and report.filter == "{status: 'denied'}"
    status = {f.path: f for f in report.fields}["status"]
    assert [(v.cell.text, v.count) for v in status.values] == [('"denied"', 12)]


def matching(inspector: Inspector, filter_text: str) -> int:
    count = inspector.count(LOGINS, filter_text, exact=True)
    assert count is not None
    return count.count


def test_each_offered_filter_selects_what_the_sample_counted(inspector: Inspector) -> None:
    schema = fields(inspector)
    phone = schema["phone"]
    offered = {f.label: f.text for f in phone.filters}
    assert offered["lacks phone"] == '{"phone": {"$exists": false}}'
    assert offered["phone is long (33%)"] == '{"phone": {"$type": "long"}}'
    assert matching(inspector, offered["lacks phone"]) == LOGIN_COUNT - phone.present
    for kind, share in phone.types:
        text = next(t for label, t in offered.items() if label.startswith(f"phone is {kind} "))
        assert matching(inspector, text) == round(phone.present * share / 100)
    nested = {f.label: f.text for f in schema["device.os"].filters}
    assert matching(inspector, nested['device.os = "web" (20)']) == 20


def test_a_value_filter_matches_exactly_the_values_counted(inspector: Inspector) -> None:
    mfa = fields(inspector)["mfa"]
    for value in mfa.values:
        text = next(f.text for f in mfa.filters if f.label == f"mfa = {value.cell.text} ({value.count})")
        assert matching(inspector, text) == value.count, text


def test_a_redacted_field_lists_no_value_and_offers_no_filter(inspector: Inspector) -> None:
    email = fields(inspector)["email"]
    assert email.redacted and email.values == [] and email.filters == []
    assert "example.com" not in repr(fields(inspector))


def test_a_schema_filter_reaching_a_redacted_path_is_refused_before_any_read(inspector: Inspector) -> None:
    with commands.watch() as seen, pytest.raises(InspectInputError) as error:
        inspector.schema(LOGINS, filter_text="{email: /^user01/}")
    assert str(error.value).startswith("filter: 'email' is redacted")
    assert not seen.named("aggregate", "find")


def test_combine_narrows_the_current_filter() -> None:
    assert combine("", '{"a": 1}') == '{"a": 1}'
    assert combine("{b: 2}", '{"a": 1}') == '{"$and": [{b: 2}, {"a": 1}]}'
