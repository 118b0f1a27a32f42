"""Driver errors are read in one module (engine/store/driver_errors.py): no other module of the package
cuts a driver's message (", Timeout: ..." and its topology description), reads a server reply's `errmsg`,
or matches an error label, so every front end sees the same words for the same failure."""

from __future__ import annotations

import re
from pathlib import Path

import pymongo
import pytest
from pymongo.errors import OperationFailure, ServerSelectionTimeoutError

import runway_tui
from runway_tui.engine.errors import ServerUnreachableError, StepFailedError
from runway_tui.engine.store import driver_errors

PACKAGE = Path(runway_tui.__file__).parent
HOME = PACKAGE / "engine" / "store" / "driver_errors.py"
READS_DRIVER_TEXT = re.compile(r"Timeout:|[\"']errmsg[\"']|has_error_label|full error:")


def test_no_module_but_driver_errors_reads_a_driver_message():
    readers = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                     if path != HOME and READS_DRIVER_TEXT.search(path.read_text(encoding="utf-8")))
    assert readers == []


def test_an_unreachable_server_is_one_line_without_the_topology_description():
    with (pymongo.MongoClient("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=100") as client,
          pytest.raises(ServerSelectionTimeoutError) as raised):
        client.admin.command("ping")
    assert "Topology Description" in str(raised.value)  # what the driver says
    error = driver_errors.translate(raised.value, "the ping", address="127.0.0.1:1", application="prod")
    assert isinstance(error, ServerUnreachableError)
    assert str(error).startswith("cannot reach the server at 127.0.0.1:1 (application 'prod'): ")
    assert "Topology Description" not in str(error) and "\n" not in str(error)


def test_a_refusal_says_what_was_being_done_in_the_servers_words():
    refusal = OperationFailure("not master, full error: {...}", 10107,
                               {"ok": 0, "errmsg": "not primary", "code": 10107, "codeName": "NotWritablePrimary",
                                "secret": "s3cr3t"})
    error = driver_errors.translate(refusal, "mark", address="db", redact=lambda text: text.replace("mark", "m*"))
    assert isinstance(error, StepFailedError)
    assert str(error) == "the server refused m* (NotWritablePrimary): not primary"
