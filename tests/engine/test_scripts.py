"""Migration files: inspected with `ast` (never executed), broken files reported, checksums, templates."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from runway_tui.engine.errors import ConfigError, UsageError
from runway_tui.engine.scripts import ScriptDirectory, checksum_text, inspect_file
from tests.engine.helpers import migration


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_valid_file_is_described_from_its_source(tmp_path):
    path = write(tmp_path, "004_add_history.py", migration(4, doc="Add the history collection.\n\nMore text."))
    script = inspect_file(path)
    assert not script.is_broken, script.problem
    assert script.name == "004_add_history"  # the full stem (Mongorunway's rstrip bug B2 cut the 'y')
    assert script.version == 4
    assert script.description == "Add the history collection.\n\nMore text."
    assert script.transactional is True
    assert script.checksum == hashlib.md5(path.read_bytes()).hexdigest()


def test_transactional_false_is_read(tmp_path):
    script = inspect_file(write(tmp_path, "001_index.py", migration(1, transactional=False)))
    assert not script.is_broken and script.transactional is False


def test_inspection_never_executes_the_file(tmp_path):
    marker = tmp_path / "executed.txt"
    body = migration(1, header=f"open({str(marker)!r}, 'w').write('ran')\nraise SystemExit(3)\n")
    write(tmp_path / "m", "001_side_effect.py", body)
    scripts = ScriptDirectory(tmp_path / "m").scan()
    assert [s.name for s in scripts] == ["001_side_effect"]
    assert not scripts[0].is_broken
    assert not marker.exists()


BROKEN_CASES = {
    "002_syntax.py": ('"""Doc."""\nversion = 2\ndef upgrade(ctx)\n    pass\n', "syntax error on line 3"),
    "003_no_version.py": ('"""Doc."""\n\ndef upgrade(ctx):\n    pass\n\ndef downgrade(ctx):\n    pass\n',
                          "missing module-level 'version = N'"),
    "004_twice.py": (migration(4, header="version = 4\n"), "'version' is assigned 2 times"),
    "005_text_version.py": (migration(5).replace("version = 5", 'version = "5"'), "version must be a whole number"),
    "006_float_version.py": (migration(6).replace("version = 6", "version = 6.0"), "version must be a whole number"),
    "007_mismatch.py": (migration(8), "version = 8 disagrees with the file name (7)"),
    "009_no_upgrade.py": ('"""D."""\nversion = 9\n\ndef downgrade(ctx):\n    pass\n', "missing def upgrade(ctx)"),
    "010_no_downgrade.py": ('"""D."""\nversion = 10\n\ndef upgrade(ctx):\n    pass\n',
                            "missing def downgrade(ctx)"),
    "011_neither.py": ('"""D."""\nversion = 11\n', "missing def upgrade(ctx) and def downgrade(ctx)"),
    "012_latin1.py": ('"""Caf\xe9."""\nversion = 12\n'.encode("latin-1"), "not valid UTF-8"),
    "013_bad_flag.py": (migration(13).replace("version = 13", "version = 13\ntransactional = 'no'"),
                        "transactional must be True or False"),
    "14_short.py": (migration(14), "file name must be NNN_name.py"),
    "zero_version.py": (migration(1), "file name must be NNN_name.py"),
}


def test_broken_files_are_reported_with_the_reason_and_do_not_hide_the_others(tmp_path):
    write(tmp_path, "001_good.py", migration(1))
    for name, (text, _) in BROKEN_CASES.items():
        write(tmp_path, name, text)
    write(tmp_path, "015_also_good.py", migration(15))
    scripts = {s.path.name: s for s in ScriptDirectory(tmp_path).scan()}
    assert not scripts["001_good.py"].is_broken
    assert not scripts["015_also_good.py"].is_broken
    for name, (_, reason) in BROKEN_CASES.items():
        assert scripts[name].is_broken, name
        assert reason in scripts[name].problem, (name, scripts[name].problem)


def test_duplicate_versions_are_both_broken(tmp_path):
    write(tmp_path, "001_first.py", migration(1))
    write(tmp_path, "001_second.py", migration(1))
    scripts = ScriptDirectory(tmp_path).scan()
    assert len(scripts) == 2
    assert all(s.is_broken for s in scripts)
    assert "version 1 is also used by 001_second.py" in scripts[0].problem


def test_helpers_and_other_files_are_not_migrations(tmp_path):
    write(tmp_path, "_helpers.py", "X = 1\n")
    write(tmp_path, "__init__.py", "")
    write(tmp_path, "notes.txt", "hello")
    write(tmp_path, "002_b.py", migration(2))
    write(tmp_path, "001_a.py", migration(1))
    assert [s.name for s in ScriptDirectory(tmp_path).scan()] == ["001_a", "002_b"]
    with pytest.raises(ConfigError, match="missing: no such file"):  # a typo in scripts_dir is not "no migrations"
        ScriptDirectory(tmp_path / "missing").scan()


def test_checksum_is_md5_of_lf_normalised_utf8(tmp_path):
    text = migration(1, doc="Ünïcode déscription ✓")
    lf = write(tmp_path / "lf", "001_x.py", text.encode("utf-8"))
    crlf = write(tmp_path / "crlf", "001_x.py", text.replace("\n", "\r\n").encode("utf-8"))
    expected = hashlib.md5(text.encode("utf-8")).hexdigest()
    assert inspect_file(lf).checksum == expected
    assert inspect_file(crlf).checksum == expected
    assert checksum_text("a\r\nb\rc\n") == hashlib.md5(b"a\nb\nc\n").hexdigest()
    assert inspect_file(crlf).description == "Ünïcode déscription ✓"


def test_any_edit_changes_the_checksum(tmp_path):
    path = write(tmp_path, "001_x.py", migration(1))
    before = inspect_file(path).checksum
    path.write_text(path.read_text() + "# a comment\n")
    assert inspect_file(path).checksum != before


def test_template_is_a_valid_next_migration(tmp_path):
    scripts = ScriptDirectory(tmp_path / "migrations")  # the folder is created on demand
    path = scripts.create_template("Add users: email index!")
    assert path.name == "001_add_users_email_index.py"
    script = inspect_file(path)
    assert not script.is_broken, script.problem
    assert script.version == 1
    assert script.description == "Add users: email index!"
    second = scripts.create_template("backfill", description="Fill the status field.")
    assert second.name == "002_backfill.py"
    assert inspect_file(second).description == "Fill the status field."


@pytest.mark.parametrize("name", ['say "hi"', "path C:\\new\\x", "ends with a backslash \\", 'triple """ quotes'])
def test_template_with_quotes_or_backslashes_is_still_valid(tmp_path, name):
    script = inspect_file(ScriptDirectory(tmp_path).create_template(name))
    assert not script.is_broken, script.problem
    assert script.description == name


def test_template_never_overwrites(tmp_path):
    existing = write(tmp_path, "001_same.py", "# precious\n")
    path = ScriptDirectory(tmp_path).create_template("same")
    assert path.name == "002_same.py"
    assert existing.read_text() == "# precious\n"


def test_template_continues_after_the_highest_version_and_keeps_width(tmp_path):
    write(tmp_path, "0009_old.py", migration(9))
    assert ScriptDirectory(tmp_path).create_template("next").name == "0010_next.py"


def test_template_name_without_letters_is_refused(tmp_path):
    with pytest.raises(UsageError, match="no letters or digits"):
        ScriptDirectory(tmp_path).create_template("!!! ???")
    assert list(tmp_path.iterdir()) == []


def test_two_templates_in_the_same_second_get_distinct_versions(tmp_path):
    scripts = ScriptDirectory(tmp_path)
    paths = [scripts.create_template("same name") for _ in range(3)]
    assert [p.name for p in paths] == ["001_same_name.py", "002_same_name.py", "003_same_name.py"]


@pytest.mark.parametrize("same_name", [True, False])
@pytest.mark.parametrize("round_", range(4))
def test_concurrent_template_creation_from_threads(tmp_path, same_name, round_):
    scripts = ScriptDirectory(tmp_path)
    barrier = threading.Barrier(8)
    results: list[Path] = []
    errors: list[BaseException] = []

    def create(i: int) -> None:
        try:
            barrier.wait()
            results.append(scripts.create_template("parallel" if same_name else f"parallel {i}"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    scanned = ScriptDirectory(tmp_path).scan()
    assert sorted(s.version for s in scanned) == list(range(1, 9))
    assert all(not s.is_broken for s in scanned), [s.problem for s in scanned]
    assert sorted(p.name for p in results) == sorted(s.path.name for s in scanned)


def test_utf8_bom_file_is_valid_python_and_checksummed_as_written(tmp_path):
    raw = b"\xef\xbb\xbf" + migration(1, doc="Saved by a Windows editor.").encode("utf-8")
    script = inspect_file(write(tmp_path, "001_bom.py", raw))
    assert not script.is_broken, script.problem
    assert script.description == "Saved by a Windows editor."
    assert script.checksum == hashlib.md5(raw).hexdigest()
