"""Nothing a file, the server or another tool wrote reaches the operator's terminal as a control sequence.

Migration files, records, audit entries and the lock carry OSC 52 (clipboard), OSC 0 (title), 8-bit C1
controls and markup (tests/support/hostile.py). Every command's human output is read as the bytes a
terminal would receive: no control character but `\\n` (and runway's own colours on a terminal); the
payload is shown in its visible form (`\\x1b`). `--json` keeps the exact text, escaped by JSON.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest
from pymongo import MongoClient

from tests.reliability.helpers import run_inproc
from tests.support.cli import REPO_ROOT
from tests.support.hostile import (
    HOSTILE,
    OSC0,
    SHOWN_C1,
    SHOWN_OSC52,
    controls_in,
    forbidden_in,
    hostile_migration,
    seed_database,
)
from tests.support.project import Project

BROKEN_NAME = f"003_broken{OSC0}.py"


def _hostile_project(project: Project) -> None:
    project.write_migration(1, "evil", hostile_migration(1))
    (project.scripts_dir / "002_second.py").write_text(f'"""second {HOSTILE.encode("unicode_escape").decode()}"""'
                                                         "\n\nversion = 2\n\n\ndef upgrade(ctx):\n    pass\n\n\n"
                                                         "def downgrade(ctx):\n    pass\n")


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return [value] if isinstance(value, str) else []


def _assert_safe(what: str, out: str, err: str) -> None:
    for stream, text in (("stdout", out), ("stderr", err)):
        assert controls_in(text) == [], f"{what}: {stream} carries {controls_in(text)}: {text[:2000]!r}"


def test_every_human_command_shows_file_and_database_text_as_visible_escapes(project: Project,
                                                                             mongo_client: MongoClient) -> None:
    _hostile_project(project)
    seen: dict[str, str] = {}

    def run(*args: str, code: int | None = 0) -> str:
        result = run_inproc(project, *args)
        _assert_safe(" ".join(args), result.out, result.err)
        if code is not None:
            assert result.code == code, (args, result.out, result.err)
        seen[" ".join(args)] = result.out + result.err
        return result.out + result.err

    run("plan")
    run("up", "--dry-run")
    run("up")  # progress lines, the migration's own log line and print
    run("status")
    run("up")
    run("down", "--dry-run")
    run("history")
    seed_database(mongo_client[project.db_name])
    (project.scripts_dir / BROKEN_NAME).write_text("version = 3\n")
    (project.scripts_dir / "001_evil.py").write_text(hostile_migration(1) + "\n# edited: drift\n")
    run("status")
    run("check", code=4)
    run("plan", code=None)
    run("unlock")  # the expired lease of "lockuser <OSC 52>" (before a write takes it over)
    run("refresh")
    run("history")
    run("version")
    run("up", code=None)  # blocked: the blockers name the files
    run("accept", "1")
    run("forget", "90")
    run("mark", "2", "--pending")
    run("down", code=None)

    shown = "\n".join(seen.values())
    assert SHOWN_OSC52 in shown and SHOWN_C1 in shown, "the payload is shown in its visible form"
    assert "[link=https://evil.example/]click[/link]" in seen["status"], "markup is shown as written"
    assert "003_broken\\x1b]0;PWNED-TITLE\\x1b\\" in seen["status"], seen["status"]
    assert "lockuser \\x1b]52;" in seen["unlock"], seen["unlock"]


def test_json_keeps_the_exact_text_and_escapes_every_control(project: Project, mongo_client: MongoClient) -> None:
    _hostile_project(project)
    assert run_inproc(project, "up", "--all").code == 0
    seed_database(mongo_client[project.db_name])
    (project.scripts_dir / BROKEN_NAME).write_text("version = 3\n")
    for args in (("status", "--json"), ("history", "--json"), ("plan", "--json"), ("check", "--json")):
        result = run_inproc(project, *args)
        assert controls_in(result.out) == [], (args, controls_in(result.out))
        document = json.loads(result.out)
        assert any(HOSTILE in text for text in _strings(document)), f"{args}: the exact text is kept"
    status = json.loads(run_inproc(project, "status", "--json").out)
    rows = {row["version"]: row for row in status["migrations"]}
    assert rows[1]["description"].startswith(HOSTILE)
    assert any(row["name"] == BROKEN_NAME[:-3] for row in status["migrations"])
    history = json.loads(run_inproc(project, "history", "--json").out)
    assert any(entry["exc_message"] == f"message {HOSTILE}" for entry in history["entries"])


def test_a_failing_step_error_and_a_terminal_with_colours(project: Project) -> None:
    """On a real terminal (colours on), only runway's own colour codes are control sequences; the failing
    step's message, whatever it holds (C1 controls included), is visible text."""
    project.write_migration(1, "evil", hostile_migration(1, fails=True))
    primary, secondary = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    proc = subprocess.run([sys.executable, "-m", "runway_tui", "--config", str(project.config_path), "up"],
                          stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary, env=env, timeout=60)
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    data = b"".join(chunks)
    assert proc.returncode == 1
    assert forbidden_in(data) == [], forbidden_in(data)
    text = data.decode("utf-8", "replace").replace("\r\n", "\n")
    assert controls_in(text, allow_sgr=True) == [], controls_in(text, allow_sgr=True)
    assert "\x1b[31m" in text, "colours are on: this is the terminal path"
    assert "failed A\\x1b]52;c;" in text, text[-3000:]


@pytest.mark.parametrize("command", [("status",), ("plan",), ("history",), ("check",)])
def test_a_record_written_by_another_tool_is_shown_safely(command: tuple[str, ...], project: Project,
                                                          mongo_client: MongoClient) -> None:
    seed_database(mongo_client[project.db_name])
    result = run_inproc(project, *command)
    _assert_safe(command[0], result.out, result.err)
    assert "\\x1b]52;c;" in result.out + result.err


def test_a_real_process_prints_no_control_character_from_the_data(project: Project, mongo_client: MongoClient,
                                                                   cli) -> None:
    """A real `runway-tui` process: what Python's logging prints to stderr by itself (no handler configured:
    the engine's warnings) is made visible too, not only what the printer writes."""
    seed_database(mongo_client[project.db_name])
    for args in (("forget", "90"), ("mark", "91", "--pending"), ("unlock",), ("status",)):
        result = cli(*args)
        assert result.returncode == 0, (args, result.stderr)
        _assert_safe(" ".join(args), result.stdout, result.stderr)
