"""Bad input, one test each: broken configs, broken migration folders and CLI misuse.

Every case must give exactly one `runway-tui: error:` line naming what is wrong and where, the documented
exit code (2 bad input, 4 validation/blocked, 1 a step failed, 5 unreachable), no traceback, and leave
the database as it was (a failed step may only add its failure record and audit entry).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from tests.reliability.helpers import GOOD, no_traceback, run_inproc, set_config
from tests.support.cli import run_cli
from tests.support.project import Project


def _snapshot(client: MongoClient, db: str) -> dict[str, Any]:
    database = client[db]
    return {name: sorted((str(d) for d in database[name].find({})), key=str)
            for name in database.list_collection_names()}


def _effects_and_states(client: MongoClient, db: str) -> tuple[list[int], dict[int, Any]]:
    database = client[db]
    return (sorted(d["v"] for d in database.markers.find({})),
            {d["_id"]: (d.get("state"), d.get("is_applied"), d.get("checksum")) for d in database.migrations.find({})})


@dataclass(frozen=True)
class Case:
    id: str
    setup: Callable[[Project], list[str] | None]  # may return the CLI args (default: `up`)
    code: int
    says: tuple[str, ...]  # substrings the one error line must contain (what and where)
    step_attempt: bool = False  # a step ran and failed: only its failure record/audit may be added


def config(text: str) -> Callable[[Project], None]:
    def setup(p: Project) -> None:
        p.config_path.write_text(text.replace("URI", p.uri).replace("DB", p.db_name))
    return setup


def edit_config(old: str, new: str, args: tuple[str, ...] = ("status",)) -> Callable[[Project], list[str]]:
    def setup(p: Project) -> list[str]:
        text = p.config_path.read_text()
        assert old in text
        p.config_path.write_text(text.replace(old, new, 1))
        return list(args)
    return setup


def files(*pairs: tuple[str, str | bytes], args: tuple[str, ...] = ("up",)) -> Callable[[Project], list[str]]:
    def setup(p: Project) -> list[str]:
        for name, body in pairs:
            path = p.scripts_dir / name
            path.write_bytes(body if isinstance(body, bytes) else body.encode())
        return list(args)
    return setup


def then(action: Callable[[Project], None], args: tuple[str, ...]) -> Callable[[Project], list[str]]:
    def setup(p: Project) -> list[str]:
        action(p)
        return list(args)
    return setup


def cli_args(*args: str) -> Callable[[Project], list[str]]:
    return lambda p: list(args)


def _edit_applied(p: Project) -> None:
    path = p.scripts_dir / "001_good.py"
    path.write_text(path.read_text() + "\n# edited after it was applied\n")


def _older_pending(p: Project) -> None:
    p.write_migration(5, "good", GOOD.format(v=5))
    assert run_inproc(p, "up").code == 0
    p.write_migration(3, "merged_late", GOOD.format(v=3))


def _failing_downgrade(p: Project) -> None:
    p.write_migration(3, "boom", '"""x"""\nversion = 3\n\n\ndef upgrade(ctx):\n    pass\n\n\n'
                                 'def downgrade(ctx):\n    raise KeyError("cannot undo")\n')
    assert run_inproc(p, "up").code == 0


def _unwritable(p: Project) -> None:
    if os.geteuid() == 0:  # root writes anywhere a normal folder is: use a kernel folder nobody can write to
        set_config(p, scripts_dir="/proc/sys")
    else:
        p.scripts_dir.chmod(0o500)


BAD_VERSION = '"""x"""\nversion = {}\n\n\ndef upgrade(ctx):\n    pass\n\n\ndef downgrade(ctx):\n    pass\n'
CASES = [
    # ---------------------------------------------------------------- configuration
    Case("config-not-yaml", config("applications: [unclosed\n  - {\n"), 2, ("runway.yaml:2", "YAML")),
    Case("config-empty", config(""), 2, ("runway.yaml", "empty")),
    Case("config-top-level-list", config("- a\n- b\n"), 2, ("runway.yaml",)),
    Case("config-wrong-type-number", edit_config("lock_wait_s: 5", "lock_wait_s: soon"), 2,
         ("runway.yaml:17", "lock_wait_s", "soon")),
    Case("config-wrong-type-bool", edit_config("read_only: false", "read_only: maybe"), 2,
         ("runway.yaml", "read_only")),
    Case("config-wrong-type-list", edit_config("production: false", "production: [1, 2]"), 2,
         ("runway.yaml", "production")),
    Case("config-unknown-key", edit_config("    database:", "    databse: x\n    database:"), 2,
         ("runway.yaml", "databse", "database")),
    Case("config-unknown-top-key", edit_config("scripts_dir:", "script_dir: x\nscripts_dir:"), 2,
         ("runway.yaml", "script_dir")),
    Case("config-missing-required", edit_config("    database:", "    # database:"), 2, ("runway.yaml", "database")),
    Case("config-unknown-application", cli_args("--app", "prod", "status"), 2, ("prod", "test")),
    Case("config-unknown-application-env", lambda p: ["status"], 2, ("nosuchapp",)),
    Case("config-missing-variable", edit_config("    database: ", "    database: ${RUNWAY_TEST_UNSET_VAR}\n    #"),
         2, ("RUNWAY_TEST_UNSET_VAR", "runway.yaml")),
    Case("config-bad-uri", edit_config("uri: \"", "uri: \"http://nowhere/"), 2, ("runway.yaml", "uri")),
    Case("config-missing-file", cli_args("--config", "/nonexistent/runway.yaml", "status"), 2,
         ("/nonexistent/runway.yaml",)),
    Case("config-unreachable-host", edit_config("server_selection_ms: 5000", "server_selection_ms: 300",
                                                ("status",)), 5, ("cannot reach the server", "127.0.0.1:1")),
    # ---------------------------------------------------------------- migration folder
    Case("file-syntax-error", files(("003_bad.py", '"""x"""\nversion = 3\ndef upgrade(ctx)\n')), 4,
         ("003_bad.py", "syntax")),
    Case("file-missing-version", files(("003_bad.py", '"""x"""\n\n\ndef upgrade(ctx):\n    pass\n\n\n'
                                                      'def downgrade(ctx):\n    pass\n')), 4,
         ("003_bad.py", "version")),
    Case("file-duplicate-version", files(("002_twin.py", BAD_VERSION.format(2)), args=("check",)), 4, ("002",)),
    Case("file-non-integer-version", files(("003_bad.py", BAD_VERSION.format("'three'"))), 4,
         ("003_bad.py", "version")),
    Case("file-version-disagrees", files(("003_bad.py", BAD_VERSION.format(4))), 4, ("003_bad.py", "4")),
    Case("file-missing-upgrade", files(("003_bad.py", '"""x"""\nversion = 3\n\n\ndef downgrade(ctx):\n    pass\n')),
         4, ("003_bad.py", "upgrade")),
    Case("file-missing-downgrade", files(("003_bad.py", '"""x"""\nversion = 3\n\n\ndef upgrade(ctx):\n    pass\n')),
         4, ("003_bad.py", "downgrade")),
    Case("file-bad-file-name", files(("three_bad.py", BAD_VERSION.format(3)), args=("check",)), 4,
         ("three_bad", "NNN_name.py")),
    Case("file-non-utf8", files(("003_bad.py", b'"""caf\xe9"""\nversion = 3\n')), 4, ("003_bad.py", "UTF-8")),
    Case("file-huge", files(("003_huge.py", BAD_VERSION.format(3) + "#" * (2 * 1024 * 1024) + "\n")), 4,
         ("003_huge.py", "over the 1 MiB limit")),
    Case("file-exception-at-import", files(("003_boom.py", '"""x"""\nversion = 3\nraise RuntimeError("boom at import")'
                                                          '\n\n\ndef upgrade(ctx):\n    pass\n\n\n'
                                                          'def downgrade(ctx):\n    pass\n')),
         1, ("003_boom", "boom at import"), step_attempt=True),
    Case("file-exception-in-upgrade", files(("003_boom.py", '"""x"""\nversion = 3\n\n\ndef upgrade(ctx):\n'
                                                           '    ctx.db.markers.insert_one(\n'
                                                           '        {"v": 3}, session=ctx.session)\n'
                                                           '    raise ValueError("bad row 17")\n\n\n'
                                                           'def downgrade(ctx):\n    pass\n')),
         1, ("003_boom", "ValueError", "bad row 17"), step_attempt=True),
    Case("file-exception-in-downgrade", then(_failing_downgrade, ("down",)), 1, ("003_boom", "cannot undo"),
         step_attempt=True),
    # drift blocks the runs it concerns (issue 18): reverting through the edited 001
    Case("file-edited-after-applied", then(_edit_applied, ("down", "--to", "0")), 4, ("001_good", "accept 1")),
    Case("file-edited-after-applied-check", then(_edit_applied, ("check",)), 4, ("001_good",)),
    Case("file-deleted-after-applied", then(lambda p: (p.scripts_dir / "002_good.py").unlink(), ("down",)), 4,
         ("002_good", "missing")),
    # `up` syncs files first (as documented), so the new file gains its pending record; nothing else changes
    Case("file-pending-older-than-applied", then(_older_pending, ("up",)), 4, ("003_merged_late", "out of order"),
         step_attempt=True),
    Case("new-unwritable-folder", then(_unwritable, ("new", "add_index")), 2, ("cannot",)),
    Case("new-nameless", cli_args("new", "!!!"), 2, ("'!!!'", "letters")),
    # ---------------------------------------------------------------- CLI usage
    Case("cli-unknown-subcommand", cli_args("migrate"), 2, ("migrate",)),
    Case("cli-unknown-option", cli_args("status", "--colour"), 2, ("--colour",)),
    Case("cli-steps-zero", cli_args("up", "--steps", "0"), 2, ("--steps", "'0'")),
    Case("cli-steps-not-a-number", cli_args("down", "--steps", "two"), 2, ("--steps", "'two'")),
    Case("cli-steps-and-all", cli_args("up", "--steps", "2", "--all"), 2, ("--all",)),
    Case("cli-goto-missing-version-up", cli_args("up", "--to", "99"), 2, ("version 99", "does not exist")),
    Case("cli-goto-missing-version-down", cli_args("down", "--to", "42"), 2, ("version 42", "does not exist")),
    Case("cli-goto-negative", cli_args("down", "--to", "-3"), 2, ("--to",)),
    Case("cli-mark-missing-version", cli_args("mark", "77", "--applied"), 2, ("77",)),
    Case("cli-mark-no-state", cli_args("mark", "1"), 2, ("--applied", "--pending")),
    Case("cli-accept-without-drift", cli_args("accept", "1"), 2, ("version 1", "drift")),
    Case("cli-history-bad-limit", cli_args("history", "--limit", "-1"), 2, ("--limit",)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case: Case, project: Project, mongo_client: MongoClient, db_name: str) -> None:
    for v in (1, 2):
        project.write_migration(v, "good", GOOD.format(v=v))
    assert run_inproc(project, "up", "--all").code == 0
    env = {"RUNWAY_APP": "nosuchapp"} if case.id == "config-unknown-application-env" else {}
    if case.id == "config-unreachable-host":
        set_config(project, uri="mongodb://127.0.0.1:1/?directConnection=true")
    args = case.setup(project) or ["up"]
    before = _snapshot(mongo_client, db_name)
    effects_before = _effects_and_states(mongo_client, db_name)

    result = run_inproc(project, *args, env=env) if not args[0].startswith("--config") else run_inproc(None, *args)
    no_traceback(result.out, result.err)
    assert result.code == case.code, f"exit {result.code}:\n{result.err}"
    if args[0] == "check":  # `check` reports problems as its output (one line each), then exits 4
        line = "\n".join(x for x in result.out.splitlines() if x.startswith("! "))
    else:
        lines = [x for x in result.err.splitlines() if x.startswith("runway-tui: error:")]
        assert len(lines) == 1, result.err
        line = lines[0]
    assert "internal error" not in line
    for text in case.says:
        assert text.lower() in line.lower(), f"{text!r} not in: {line}"

    if case.step_attempt:
        markers, states = _effects_and_states(mongo_client, db_name)
        assert markers == effects_before[0], "a failed step left effects (transaction not rolled back)"
        assert {v: s[:2] for v, s in states.items() if v in effects_before[1]} == \
            {v: s[:2] for v, s in effects_before[1].items()}
    else:
        assert _snapshot(mongo_client, db_name) == before, "the database changed"
    if case.id == "new-unwritable-folder":
        assert sorted(p.name for p in project.scripts_dir.iterdir()) == ["001_good.py", "002_good.py"]
        project.scripts_dir.chmod(0o700)


def test_usage_errors_from_a_real_process(project: Project) -> None:
    """The same rules hold for the installed entry point in its own process (argparse path)."""
    for args, code in ((["frobnicate"], 2), (["up", "--steps", "x"], 2), (["--app", "nope", "status"], 2)):
        result = run_cli("--config", str(project.config_path), *args, cwd=project.root)
        no_traceback(result.stdout, result.stderr)
        assert result.returncode == code
        assert len([x for x in result.stderr.splitlines() if x.startswith("runway-tui: error:")]) == 1


def test_database_is_not_created_by_a_rejected_config(project: Project, mongo_client: MongoClient,
                                                    db_name: str) -> None:
    Path(project.config_path).write_text(project.config_path.read_text().replace("read_only: false",
                                                                                 "read_only: 3"))
    assert run_inproc(project, "up", "--all").code == 2
    assert db_name not in mongo_client.list_database_names()
