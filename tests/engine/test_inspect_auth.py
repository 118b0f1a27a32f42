"""The explorer with a user that holds only `read` on the database (`--auth` on the test server):
documents, schema and indexes work; what needs more privilege says "not permitted", never raises."""

from __future__ import annotations

import pytest
from pymongo import MongoClient

from runway_tui.engine.inspect import NOT_PERMITTED, Inspector, InspectSettings


@pytest.fixture
def reader(auth_server: dict[str, str]) -> Inspector:
    client: MongoClient = MongoClient(auth_server["reader"], serverSelectionTimeoutMS=5000)
    return Inspector(client[auth_server["database"]], InspectSettings(redact_fields=("email",)))


def test_read_role_reads_documents_schema_indexes(reader: Inspector) -> None:
    assert len(reader.documents("people").rows) == 40
    assert reader.schema("people").sampled == 40
    assert reader.count("people") is not None
    assert {i.name for i in reader.indexes("people").indexes} >= {"_id_", "email_1"}
    assert reader.validation("rules").level == "moderate"


def test_server_sections_degrade_to_not_permitted(reader: Inspector) -> None:
    report = reader.server("8.2", "replica set", "secantus")
    assert report.operations.rows is None and report.operations.note == NOT_PERMITTED
    assert report.connections.rows is None and report.connections.note == NOT_PERMITTED
    assert report.members.rows is not None or report.members.note == NOT_PERMITTED


def test_the_reader_cannot_write(auth_server: dict[str, str]) -> None:
    """Control: the privilege limit is real (so "read works" above means the read role suffices)."""
    from pymongo.errors import OperationFailure

    with MongoClient(auth_server["reader"], serverSelectionTimeoutMS=5000) as client, \
            pytest.raises(OperationFailure) as error:
        client[auth_server["database"]].people.insert_one({"x": 1})
    assert error.value.code == 13
