"""The query plan of the Documents view's query, and exports of what a view shows (issue 27), against the real
server: the plan names the server's stages and the index used; an export holds every selected document,
redacted as shown, as JSON lines or CSV, and never replaces a file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from pymongo import MongoClient

from runway_tui.engine.document_export import ExportError, export_documents, export_pipeline
from runway_tui.engine.inspect import DocumentQuery, Inspector, InspectSettings
from runway_tui.engine.inspect_values import InspectInputError
from tests.support import commands
from tests.support.explorer_data import LOGIN_COUNT, LOGINS, SECRET_EMAIL, SECRET_PASSWORD, SECRET_SSN

REDACT = ("password", "*.ssn", "email")


@pytest.fixture
def inspector(mongo_client: MongoClient, explorer_db: str) -> Inspector:
    return Inspector(mongo_client[explorer_db], InspectSettings(redact_fields=REDACT))


def stages(stage) -> list[str]:
    return [stage.stage, *[name for child in stage.children for name in stages(child)]]


def test_the_plan_names_the_stages_and_the_index_used(inspector: Inspector) -> None:
    plan = inspector.explain(LOGINS, DocumentQuery(filter="{legacy_id: 'L007'}"))
    assert "IXSCAN" in stages(plan.winning) and plan.indexes == ["legacy_id_1"] and not plan.collection_scan
    scan = inspector.explain(LOGINS, DocumentQuery(filter="{status: 'denied'}", sort="{at: -1}"))
    assert "COLLSCAN" in stages(scan.winning) and scan.collection_scan and scan.totals == []


def test_execution_stats_count_what_was_examined(inspector: Inspector) -> None:
    plan = inspector.explain(LOGINS, DocumentQuery(filter="{status: 'denied'}"), "executionStats")
    totals = dict(plan.totals)
    assert totals["documents examined"] == f"{LOGIN_COUNT:,}" and totals["returned"] == "12"


def test_explain_of_a_redacted_filter_is_refused_before_any_command(inspector: Inspector) -> None:
    with commands.watch() as seen, pytest.raises(InspectInputError, match="^filter: 'email' is redacted"):
        inspector.explain(LOGINS, DocumentQuery(filter="{email: 'x'}"))
    assert not seen.all()


def test_export_documents_as_json_lines_and_csv(inspector: Inspector, tmp_path: Path) -> None:
    query = DocumentQuery(filter="{}", sort="{_id: 1}")
    lines = tmp_path / "people.jsonl"
    result = export_documents(inspector, "people", query, lines, ["_id", "name"])
    docs = [json.loads(line) for line in lines.read_text().splitlines()]
    assert result.count == 40 and not result.truncated and len(docs) == 40
    assert docs[0]["email"] == docs[0]["password"] == docs[0]["profile"]["ssn"] == "***"
    sheet = tmp_path / "logins.csv"
    export_documents(inspector, LOGINS, DocumentQuery(), sheet, ["_id", "phone", "mfa", "city", "at"])
    rows = list(csv.reader(sheet.open()))
    assert rows[0] == ["_id", "phone", "mfa", "city", "at"] and len(rows) == LOGIN_COUNT + 1
    assert rows[1] == ["0", "33600000000", "true", "東京都", "2026-03-01T00:00:00.000Z"]
    assert rows[2][1] == "'+33 6 00 00 00 01" and rows[4][1] == ""  # a formula-looking text; a missing phone
    text = lines.read_text() + sheet.read_text()
    for secret in (SECRET_EMAIL, SECRET_PASSWORD, SECRET_SSN):
        assert secret not in text


def test_export_pipeline_results(inspector: Inspector, tmp_path: Path) -> None:
    out = tmp_path / "status.csv"
    result = export_pipeline(inspector, LOGINS, "[{$sortByCount: '$status'}]", out, ["_id", "count"])
    assert result.count == 3 and list(csv.reader(out.open()))[1] == ["ok", "36"]


def test_an_export_never_replaces_a_file_and_is_capped(inspector: Inspector, tmp_path: Path) -> None:
    taken = tmp_path / "taken.jsonl"
    taken.write_text("keep me\n")
    with pytest.raises(ExportError, match="exists; choose another name"):
        export_documents(inspector, "people", DocumentQuery(), taken, ["_id"])
    assert taken.read_text() == "keep me\n"
    with pytest.raises(ExportError, match=r"end the name with \.jsonl"):
        export_documents(inspector, "people", DocumentQuery(), tmp_path / "x.txt", ["_id"])
    capped = export_documents(inspector, "counters", DocumentQuery(), tmp_path / "c.jsonl", ["_id"], limit=100)
    assert capped.count == 100 and capped.truncated
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl", "taken.jsonl"]  # no temporary file left


def test_an_export_of_a_refused_query_sends_nothing(inspector: Inspector, tmp_path: Path) -> None:
    with commands.watch() as seen, pytest.raises(InspectInputError):
        export_pipeline(inspector, "people", "[{$group: {_id: '$email'}}]", tmp_path / "x.jsonl", ["_id"])
    assert not seen.all() and not list(tmp_path.iterdir())
