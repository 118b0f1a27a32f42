"""Bad input, round two: inputs that used to crash ("internal error") or were silently accepted.

Same rules as `test_bad_input.py`: one `runway-tui: error:` line (or, for `check`, its `! ` lines) naming
the key or file, exit 2 for bad input (4 for a broken migration file), no traceback, the database and
the migrations folder unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pymongo import MongoClient

from tests.reliability.helpers import no_traceback, record_figures, run_inproc, set_config
from tests.reliability.test_bad_input import GOOD, _snapshot, cli_args, edit_config, files, then
from tests.support.project import Project

BIG = 2**64  # beyond 64-bit integers
MAX = 2**63 - 1
BODY = '"""x"""\nversion = {}\n\n\ndef upgrade(ctx):\n    pass\n\n\ndef downgrade(ctx):\n    pass\n'


@dataclass(frozen=True)
class Case:
    id: str
    setup: Callable[[Project], list[str]]
    code: int
    says: tuple[str, ...]
    folder_changes: bool = False  # the case itself rearranges the folder (not the command under test)


def _symlink(name: str, target: Callable[[Project], Path]) -> Callable[[Project], None]:
    def action(p: Project) -> None:
        (p.scripts_dir / name).symlink_to(target(p))
    return action


def _outside(p: Project) -> Path:
    path = p.root / "elsewhere.py"
    path.write_text(BODY.format(3))
    return path


def _scripts_dir(value: Callable[[Project], str]) -> Callable[[Project], None]:
    def action(p: Project) -> None:
        set_config(p, scripts_dir=value(p))
    return action


def _loop_dir(p: Project) -> str:
    (p.root / "loop").symlink_to(p.root / "loop")
    return str(p.root / "loop")


def _file_dir(p: Project) -> str:
    (p.root / "afile").write_text("not a folder")
    return str(p.root / "afile")


def _nested_yaml(p: Project) -> None:
    p.config_path.write_text("scripts_dir: migrations\napplications: " + "[" * 20000 + "]" * 20000 + "\n")


def _database(name: str) -> Callable[[Project], list[str]]:
    return edit_config(f"database: {'{'}", "", ("status",)) if False else _set_database(name)


def _set_database(name: str) -> Callable[[Project], list[str]]:
    def setup(p: Project) -> list[str]:
        text = p.config_path.read_text().replace(f"database: {p.db_name}", f"database: {name}")
        p.config_path.write_text(text)
        return ["up"]
    return setup


def _uri_option(option: str) -> Callable[[Project], list[str]]:
    def setup(p: Project) -> list[str]:
        set_config(p, uri=p.uri + option)
        return ["status"]
    return setup


CASES = [
    # ------------------------------------------------------------------ 64-bit integers
    Case("version-beyond-int64-check", files((f"{BIG}_big.py", BODY.format(BIG)), args=("check",)), 4,
         (f"{BIG}_big", "64-bit")),
    Case("version-beyond-int64-up", files((f"{BIG}_big.py", BODY.format(BIG))), 4, (f"{BIG}_big", "64-bit")),
    Case("new-after-the-largest-version", then(lambda p: (p.scripts_dir / f"{MAX}_last.py").write_text(
        BODY.format(MAX)), ("new", "one_more")), 2, ("64-bit",), folder_changes=True),
    Case("history-limit-beyond-int64", cli_args("history", "--limit", str(BIG)), 2, ("--limit", "64-bit")),
    Case("history-version-filter-beyond-int64", cli_args("history", "--version-filter", str(BIG)), 2,
         ("--version-filter", "64-bit")),
    Case("up-to-beyond-int64", cli_args("up", "--to", str(BIG)), 2, ("--to", "64-bit")),
    Case("down-steps-beyond-int64", cli_args("down", "--steps", str(BIG)), 2, ("--steps", "64-bit")),
    Case("mark-beyond-int64", cli_args("mark", str(BIG), "--applied"), 2, ("VERSION", "64-bit")),
    Case("config-int-beyond-int64", edit_config("auditlog_limit: null", f"auditlog_limit: {BIG}"), 2,
         ("auditlog_limit", "64-bit")),
    Case("config-timeout-huge", edit_config("lock_ttl_s: 5", "lock_ttl_s: 1e300", ("up",)), 2,
         ("lock_ttl_s", "at most")),
    Case("config-timeout-ms-huge", edit_config("server_selection_ms: 5000", "server_selection_ms: 99999999999999"),
         2, ("server_selection_ms", "at most")),
    # ------------------------------------------------------------------ non-ASCII digits
    Case("file-name-arabic-indic-digits", files(("٠٠٣_arabic.py", BODY.format(3)), args=("check",)), 4,
         ("٠٠٣_arabic", "NNN_name.py")),
    Case("file-name-arabic-indic-digits-up", files(("٠٠٣_arabic.py", BODY.format(3))), 4, ("٠٠٣_arabic",)),
    Case("steps-arabic-indic-digit", cli_args("down", "--steps", "١"), 2, ("--steps",)),
    Case("limit-fullwidth-digits", cli_args("history", "--limit", "１２"), 2, ("--limit",)),
    Case("config-int-arabic-indic-digits", edit_config("auditlog_limit: null", "auditlog_limit: ١٢"), 2,
         ("auditlog_limit",)),
    Case("config-number-arabic-indic-digits", edit_config("lock_wait_s: 5", "lock_wait_s: ٥"), 2, ("lock_wait_s",)),
    # ------------------------------------------------------------------ symbolic links, the folder itself
    Case("symlink-loop-file", then(_symlink("003_loop.py", lambda p: p.scripts_dir / "003_loop.py"), ("up",)), 4,
         ("003_loop", "symbolic links")),
    Case("symlink-loop-file-check", then(_symlink("003_loop.py", lambda p: p.scripts_dir / "003_loop.py"),
                                         ("check",)), 4, ("003_loop",)),
    Case("symlink-dangling", then(_symlink("003_gone.py", lambda p: p.root / "nowhere.py"), ("up",)), 4,
         ("003_gone",)),
    Case("symlink-outside-scripts-dir", then(_symlink("003_outside.py", _outside), ("up",)), 4,
         ("003_outside", "outside scripts_dir")),
    Case("scripts-dir-symlink-loop", then(_scripts_dir(_loop_dir), ("status",)), 2, ("scripts_dir", "loop")),
    Case("scripts-dir-missing", then(_scripts_dir(lambda p: str(p.root / "no_such_folder")), ("status",)), 2,
         ("scripts_dir", "no_such_folder")),
    Case("scripts-dir-missing-up", then(_scripts_dir(lambda p: str(p.root / "no_such_folder")), ("up",)), 2,
         ("scripts_dir", "no_such_folder")),
    Case("scripts-dir-is-a-file", then(_scripts_dir(_file_dir), ("status",)), 2, ("scripts_dir", "not a folder")),
    # ------------------------------------------------------------------ `new` with text the terminal could not decode
    Case("new-non-utf8-name", cli_args("new", "caf\udce9_index"), 2, ("name", "UTF-8")),
    Case("new-non-utf8-description", cli_args("new", "add_index", "--description", "caf\udce9"), 2,
         ("description", "UTF-8")),
    # ------------------------------------------------------------------ names the server would reject later
    Case("database-nul", _set_database('"shop\\0x"'), 2, ("database", "\\x00")),
    Case("database-64-utf8-bytes", _set_database("é" * 32), 2, ("database", "63 bytes")),
    Case("database-admin", _set_database("admin"), 2, ("database", "server's own")),
    Case("database-local", _set_database("local"), 2, ("database", "server's own")),
    Case("database-config", _set_database("config"), 2, ("database", "server's own")),
    Case("collection-leading-dot", edit_config("migrations_collection: migrations", "migrations_collection: .m"),
         2, ("migrations_collection", "'.'")),
    Case("collection-trailing-dot", edit_config("auditlog_collection: auditlog", "auditlog_collection: audit."),
         2, ("auditlog_collection", "'.'")),
    Case("collection-doubled-dot", edit_config("lock_collection: migrations_lock", "lock_collection: a..b"), 2,
         ("lock_collection", "..")),
    Case("tls-ca-file-missing", _uri_option("&tls=true&tlsCAFile=/nonexistent/ca.pem"), 2,
         ("tlsCAFile", "/nonexistent/ca.pem")),
    Case("tls-certificate-key-file-missing", _uri_option("&tls=true&tlsCertificateKeyFile=/nonexistent/me.pem"), 2,
         ("tlsCertificateKeyFile",)),
    Case("yaml-nested-deeply", then(_nested_yaml, ("status",)), 2, ("runway.yaml", "nested too deeply")),
    Case("write-concern-bad-w", edit_config("    timeouts:\n", "    write_concern: {w: \"a b\"}\n    timeouts:\n"), 2,
         ("write_concern.w", "majority")),
    Case("write-concern-bad-j", edit_config("    timeouts:\n", "    write_concern: {j: maybe}\n    timeouts:\n"), 2,
         ("write_concern.j",)),
    Case("write-concern-unacknowledged-journaled", edit_config("    timeouts:\n",
                                                               "    write_concern: {w: 0}\n    timeouts:\n"), 2,
         ("write_concern.w", "j: false")),
    Case("write-concern-unknown-key", edit_config("    timeouts:\n", "    write_concern: {wtimeout: 5}\n"
                                                                       "    timeouts:\n"), 2,
         ("write_concern.wtimeout", "wtimeout_ms")),
    # ------------------------------------------------------------------ options that fell back to defaults
    Case("config-empty-string", cli_args("--config", "", "status"), 2, ("--config", "empty")),
    Case("app-empty-string", cli_args("--app", "", "status"), 2, ("--app", "empty")),
    Case("read-only-and-write", cli_args("--read-only", "--write"), 2, ("--read-only", "--write")),
    Case("read-only-and-write-subcommand", cli_args("--write", "up", "--read-only"), 2, ("--read-only", "--write")),
]


def _folder(p: Project) -> list[str] | None:
    return sorted(os.listdir(p.scripts_dir)) if p.scripts_dir.is_dir() else None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_round_two(case: Case, project: Project, mongo_client: MongoClient, db_name: str) -> None:
    for v in (1, 2):
        project.write_migration(v, "good", GOOD.format(v=v))
    assert run_inproc(project, "up", "--all").code == 0
    args = case.setup(project)
    before, folder = _snapshot(mongo_client, db_name), _folder(project)

    global_config = args[0] == "--config"
    result = run_inproc(None if global_config else project, *args)
    no_traceback(result.out, result.err)
    assert result.code == case.code, f"exit {result.code}:\n{result.err}\n{result.out}"
    if args[0] == "check":
        line = "\n".join(x for x in result.out.splitlines() if x.startswith("! "))
    else:
        lines = [x for x in result.err.splitlines() if x.startswith("runway-tui: error:")]
        assert len(lines) == 1, result.err
        line = lines[0]
    assert "internal error" not in line
    for text in case.says:
        assert text.lower() in line.lower(), f"{text!r} not in: {line}"
    assert _snapshot(mongo_client, db_name) == before, "the database changed"
    assert _folder(project) == folder, "the migrations folder changed"
    record_figures("bad-input-2", case=case.id, held=True)


def test_down_with_a_version_beyond_int64_in_the_folder_warns_and_runs(project: Project) -> None:
    """A broken file outside the plan does not block `down` (as before); it is named, nothing crashes."""
    for v in (1, 2):
        project.write_migration(v, "good", GOOD.format(v=v))
    assert run_inproc(project, "up", "--all").code == 0
    (project.scripts_dir / f"{BIG}_big.py").write_text(BODY.format(BIG))
    for command in (("down",), ("refresh",), ("status",), ("mark", "2", "--applied")):
        result = run_inproc(project, *command)
        no_traceback(result.out, result.err)
        assert result.code == 0, result.err
        assert "internal error" not in result.err
    assert f"{BIG}_big" in run_inproc(project, "status").out


def test_new_keeps_control_characters_of_a_description_as_written(project: Project) -> None:
    """A description with NUL, tab, escape, quotes: the file is valid and its docstring reads back exactly."""
    description = 'tab\there "quoted" \\ back\x00nul \x1b[31m'
    result = run_inproc(project, "new", "odd_text", "--description", description)
    assert result.code == 0, result.err
    status = run_inproc(project, "check")
    assert status.code == 0, status.out
    import ast

    created = next(project.scripts_dir.glob("001_odd_text.py"))
    assert ast.get_docstring(ast.parse(created.read_text()), clean=False) == description


def test_a_failed_new_leaves_no_file(project: Project) -> None:
    result = run_inproc(project, "new", "caf\udce9")
    assert result.code == 2
    assert list(project.scripts_dir.iterdir()) == []
    assert run_inproc(project, "new", "cafe").code == 0
    assert [p.name for p in project.scripts_dir.iterdir()] == ["001_cafe.py"]
