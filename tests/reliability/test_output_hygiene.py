"""What a migration prints never reaches stdout (so `--json` stays parseable), and whatever a migration
raises becomes one bounded line that is printed and recorded (audit entry, record), on both topologies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from pymongo import MongoClient

from runway_tui.engine.messages import MAX_MESSAGE
from tests.reliability.helpers import no_traceback, one_line_error, record_figures, run_inproc, spawn_cli
from tests.support.project import Project

PRINTING = '''"""Printing step {v}"""
import sys

print("printed at import {v}")
version = {v}


def upgrade(ctx):
    print("hello from upgrade {v}")
    print("two", "lines\\nof output {v}")
    sys.stdout.write("no newline at the end {v}")
    print("to stderr {v}", file=sys.stderr)
    ctx.db.markers.insert_one({{"v": {v}}}, session=ctx.session)


def downgrade(ctx):
    print("bye {v}")
    ctx.db.markers.delete_one({{"v": {v}}}, session=ctx.session)
'''


@pytest.mark.parametrize("command", [("up", "--all", "--json"), ("down", "--all", "--json")])
def test_print_in_a_migration_does_not_corrupt_json(command: tuple[str, ...], project: Project) -> None:
    for v in (1, 2):
        project.write_migration(v, "printing", PRINTING.format(v=v))
    if command[0] == "down":
        assert run_inproc(project, "up", "--all").code == 0
    proc = spawn_cli(project, *command)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    document = json.loads(out)  # the whole of stdout is the JSON document
    assert document["ok"] is True and len(document["completed"]) == 2
    if command[0] == "up":
        for text in ("printed at import 1", "hello from upgrade 2", "lines", "of output 1", "no newline at the end 2",
                     "to stderr 1"):
            assert text in err, err
    else:
        assert "bye 1" in err and "bye 2" in err


HOSTILE = '''"""Hostile message"""
version = 1


class Weird(Exception):
    def __str__(self):
        {str_body}


def upgrade(ctx):
    ctx.db.markers.insert_one({{"v": 1}}, session=ctx.session)
    {raise_line}


def downgrade(ctx):
    pass
'''


@dataclass(frozen=True)
class Message:
    id: str
    raise_line: str
    str_body: str = "return 'weird'"
    says: str = ""


MESSAGES = [
    Message("multi-line", 'raise ValueError("first line\\nsecond line\\r\\nthird\\x00line")', says="first line"),
    Message("str-raises", "raise Weird()", str_body="raise RuntimeError('no str for you')", says="unprintable Weird"),
    Message("str-returns-non-string", "raise Weird()", str_body="return 42", says="unprintable Weird"),
    Message("seventeen-megabytes", 'raise ValueError("x" * (17 * 1024 * 1024))', says="characters, cut"),
    Message("empty", "raise ValueError()", says="ValueError"),
    Message("control-characters", 'raise ValueError("bell\\x07 escape\\x1b[31m red")', says="bell"),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.id)
def test_every_error_message_is_one_bounded_recorded_line(message: Message, any_project: Project) -> None:
    any_project.write_migration(1, "hostile", HOSTILE.format(raise_line=message.raise_line,
                                                             str_body=message.str_body))
    result = run_inproc(any_project, "up")
    no_traceback(result.out, result.err)
    assert result.code == 1, result.err
    line = one_line_error(result.err)
    assert "internal error" not in line and "001_hostile" in line and message.says in line, line[:500]
    assert len(line) < MAX_MESSAGE + 400, len(line)
    assert "\x00" not in line and "\x1b" not in line and "\x07" not in line
    with MongoClient(any_project.uri, serverSelectionTimeoutMS=5000) as client:
        db = client[any_project.db_name]
        entries = list(db.auditlog.find({"migration_read_model.version": 1}))
        record = db.migrations.find_one({"_id": 1})
    assert len(entries) == 1 and entries[0]["exc_name"] in ("ValueError", "Weird"), entries
    for text in (entries[0]["exc_message"] or "", record["error"]):
        assert "\n" not in text and "\r" not in text and len(text) <= MAX_MESSAGE + 100, text[:200]
    assert record["state"] == ("pending" if any_project.topology == "replica-set" else "failed")  # type: ignore[attr-defined]
    record_figures("output-hygiene", case=message.id, topology=any_project.topology, held=True)  # type: ignore[attr-defined]


def test_a_failing_json_run_prints_only_json_on_stdout(project: Project) -> None:
    project.write_migration(1, "hostile", HOSTILE.format(raise_line='print("noise"); raise ValueError("a\\nb")',
                                                         str_body="return ''"))
    result = run_inproc(project, "up", "--json")
    assert result.code == 1
    document = json.loads(result.out)
    assert document["ok"] is False and "\n" not in document["error"]
    assert "noise" in result.err
