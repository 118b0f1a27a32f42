"""Mongorunway-format files recognised with `ast` (never run), the filename strategies, and templates in
the project's own format. A file whose format is not understood is broken, with the reason."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from runway_tui.engine.scripts import Naming, ScriptDirectory, inspect_file
from tests.support.mongorunway_files import MIGRATIONS, write_mongorunway_project

UNIX = Naming("unix_timestamp")


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def mongorunway_file(version: int, up: str = "[]", down: str = "[]", head: str = "import mongorunway\n",
                     decorator: str = "@mongorunway.migration") -> str:
    return (f'"""Version {version}."""\n{head}\nversion = {version}\n\n\n{decorator}\ndef upgrade():\n'
            f"    return {up}\n\n\n{decorator}\ndef downgrade():\n    return {down}\n")


def test_a_mongorunway_project_is_recognised_file_by_file(tmp_path):
    write_mongorunway_project(tmp_path / "migrations")
    scripts = ScriptDirectory(tmp_path / "migrations").scan()  # lib/ and __init__.py are not migrations
    assert [(s.name, s.version, s.format, s.transactional, s.problem) for s in scripts] == [
        ("001_create_items", 1, "mongorunway", False, None),  # collections and indexes: no transaction
        ("002_seed_items", 2, "mongorunway", True, None),
        ("003_tag_items", 3, "mongorunway", True, None),
        ("004_validate_and_archive", 4, "mongorunway", False, None),  # send_command, rename_collection
    ]
    # Mongorunway's description is the module docstring exactly as written (module.__doc__)
    assert scripts[0].description == "Create the items collection with a unique index on sku."


def test_the_description_is_the_raw_docstring(tmp_path):
    text = '"""  Indented.\n\n    Second line.\n"""\n' + mongorunway_file(1).split("\n", 1)[1]
    assert inspect_file(write(tmp_path, "001_doc.py", text)).description == "  Indented.\n\n    Second line.\n"


def test_a_declared_transactional_flag_wins(tmp_path):
    text = mongorunway_file(1, up='[mongorunway.create_index("c", "a")]').replace(
        "version = 1", "version = 1\ntransactional = True")
    assert inspect_file(write(tmp_path, "001_index.py", text)).transactional is True


@pytest.mark.parametrize("head, decorator", [
    ("import mongorunway as mr\n", "@mr.migration"),
    ("from mongorunway import migration\n", "@migration"),
    ("from mongorunway.api import migration as m\n", "@m"),
    ("from mongorunway import *\n", "@migration"),
    ("import mongorunway.api\n", "@mongorunway.api.migration"),
])
def test_every_way_of_importing_the_decorator_is_understood(tmp_path, head, decorator):
    script = inspect_file(write(tmp_path, "001_x.py", mongorunway_file(1, head=head, decorator=decorator)))
    assert (script.format, script.problem) == ("mongorunway", None)


def test_a_rule_stacked_above_the_decorator_is_understood(tmp_path):
    text = mongorunway_file(1, head="import mongorunway\nfrom migrations.lib.rules import HasItems\n",
                            decorator="@mongorunway.migration_with_rule(HasItems())\n@mongorunway.migration")
    assert inspect_file(write(tmp_path, "001_rule.py", text)).problem is None


BROKEN = {
    "unknown decorator": (mongorunway_file(1, decorator="@mongorunway.migration\n@functools.cache"),
                          "line 8: the decorator nearest to def upgrade is @functools.cache"),
    "rule below the decorator": (mongorunway_file(1, decorator="@mongorunway.migration\n"
                                                              "@mongorunway.migration_with_rule(R())"),
                                 "the decorator nearest to def upgrade is @mongorunway.migration_with_rule(R())"),
    "rule without its argument": (mongorunway_file(1, decorator="@mongorunway.migration_with_rule\n"
                                                               "@mongorunway.migration"),
                                  "@mongorunway.migration_with_rule on upgrade is not understood"),
    "not decorated": (mongorunway_file(1, decorator=""),
                      "the file imports mongorunway but upgrade is not decorated with @mongorunway.migration"),
    "parameters": (mongorunway_file(1).replace("def upgrade():", "def upgrade(ctx):"),
                   "upgrade takes parameters, but @mongorunway.migration calls it with none"),
    "version after the functions": (
        mongorunway_file(1).replace("version = 1\n", "") + "\nversion = 1\n",
        "'version' is assigned after upgrade"),
    "async": (mongorunway_file(1).replace("def downgrade", "async def downgrade"),
              "downgrade must be a plain function decorated with @mongorunway.migration"),
    "no downgrade": (mongorunway_file(1).split("\n\n\n@mongorunway.migration\ndef downgrade")[0],
                     "missing downgrade"),
    "a name the stand-in lacks": (mongorunway_file(1, up="[mongorunway.create_view('v')]"),
                                  "line 9: mongorunway.create_view is not provided by runway-tui's Mongorunway "
                                  "compatibility layer"),
    "a module the stand-in lacks": (mongorunway_file(1, head="import mongorunway\nimport mongorunway.presentation\n"),
                                    "line 3: mongorunway.presentation is not provided"),
    "decorator from elsewhere": (mongorunway_file(1, head="import mongorunway\nfrom mylib import migration\n",
                                                  decorator="@migration"),
                                 "the decorator nearest to def upgrade is @migration"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_file_whose_format_is_not_understood_is_broken_with_the_reason(tmp_path, case):
    text, reason = BROKEN[case]
    script = inspect_file(write(tmp_path, "001_case.py", text))
    assert script.is_broken and script.format == "mongorunway"
    assert reason in script.problem


def test_unix_timestamp_names_take_the_version_from_the_file(tmp_path):
    folder = tmp_path / "m"
    write(folder, "1796172596_create_items.py", mongorunway_file(1))
    write(folder, "1796172700_add-prices.py", mongorunway_file(2))
    write(folder, "003_numbered.py", mongorunway_file(3))
    scripts = {s.path.name: s for s in ScriptDirectory(folder, naming=UNIX).scan()}
    assert [(s.version, s.problem) for s in scripts.values()][:2] == [(1, None), (2, None)]
    assert "must start with a Unix timestamp of at least 10 digits" in scripts["003_numbered.py"].problem
    # the numerical strategy reads 1796172596 as the version and says it disagrees with `version = 1`
    numerical = {s.path.name: s for s in ScriptDirectory(folder).scan()}
    assert "version = 1 disagrees with the file name (1796172596)" in numerical["1796172596_create_items.py"].problem


def test_names_may_contain_dashes_and_any_name_is_accepted_without_a_strategy(tmp_path):
    folder = tmp_path / "m"
    write(folder, "001_add-index.py", mongorunway_file(1))
    write(folder, "002-second.py", mongorunway_file(2))
    write(folder, "third.py", mongorunway_file(3))
    strict = {s.path.name: s.problem for s in ScriptDirectory(folder).scan()}
    assert strict["001_add-index.py"] is None and strict["002-second.py"] is None
    assert "file name must be NNN_name.py" in strict["third.py"]
    loose = ScriptDirectory(folder, naming=Naming("numerical", strict=False)).scan()
    assert [(s.name, s.version, s.problem) for s in loose] == [
        ("001_add-index", 1, None), ("002-second", 2, None), ("third", 3, None)]


def test_a_mongorunway_project_gets_mongorunway_templates(tmp_path):
    folder = tmp_path / "migrations"
    write(folder, "001_first.py", MIGRATIONS["001_create_items.py"])
    path = ScriptDirectory(folder, compat="mongorunway").create_template("add prices", "Add a price to items.")
    assert path.name == "002_add_prices.py"
    text = path.read_text()
    assert "import mongorunway\n\n# Required, used by Mongorunway.\nversion = 2\n" in text
    assert text.count("@mongorunway.migration\ndef ") == 2
    script = inspect_file(path)
    assert (script.format, script.version, script.description, script.problem) == (
        "mongorunway", 2, "Add a price to items.", None)


def test_a_unix_timestamp_project_gets_timestamped_names_and_the_next_version(tmp_path):
    folder = tmp_path / "m"
    write(folder, "1796172596_first.py", mongorunway_file(1))
    scripts = ScriptDirectory(folder, naming=UNIX, compat="mongorunway")
    before = int(time.time())
    first = scripts.create_template("second")
    again = scripts.create_template("second")  # the same name within the same second: still a new file
    stamp = int(first.name.split("_", 1)[0])
    assert before <= stamp <= int(time.time()) + 1 and first.name.endswith("_second.py") and again != first
    assert [(s.version, s.problem) for s in scripts.scan()] == [(1, None), (2, None), (3, None)]


def test_a_runway_project_keeps_runway_templates(tmp_path):
    path = ScriptDirectory(tmp_path / "m").create_template("plain")
    script = inspect_file(path)
    assert (script.format, script.problem) == ("runway", None) and "def upgrade(ctx):" in path.read_text()


def test_the_collections_a_mongorunway_file_names_are_found():
    from runway_tui.engine.inspect_refs import collections_named

    assert collections_named(MIGRATIONS["001_create_items.py"]) == ["items"]
    assert collections_named(MIGRATIONS["004_validate_and_archive.py"]) == ["items_staging", "archive"]
    pymongo_calls = 'def upgrade(ctx):\n    users = ctx.db["users"]\n    users.create_index("email")\n'
    assert collections_named(pymongo_calls) == ["users"]  # a pymongo index call is not a command


def test_a_mongorunway_project_accepts_mongorunways_looser_numbered_names(tmp_path):
    folder = tmp_path / "m"
    write(folder, "001_add users.py", mongorunway_file(1))  # what `create-template -n "add users"` writes
    write(folder, "002second.py", mongorunway_file(2))
    loose = ScriptDirectory(folder, naming=Naming(mongorunway=True)).scan()
    assert [(s.name, s.version, s.problem) for s in loose] == [("001_add users", 1, None), ("002second", 2, None)]
    assert all("file name must be NNN_name.py" in s.problem for s in ScriptDirectory(folder).scan())


def test_the_scan_cache_keeps_one_entry_per_file_and_naming(tmp_path):
    import json

    folder, cache = tmp_path / "m", tmp_path / ".runway" / "scan-cache.json"
    path = write(folder, "1796172596_first.py", mongorunway_file(1))
    [script] = ScriptDirectory(folder, cache_file=cache, naming=UNIX).scan()
    entries = json.loads(cache.read_text())["entries"]
    assert list(entries) == [f"unix_timestamp:{path.name}:{script.checksum}"]
    assert entries[f"unix_timestamp:{path.name}:{script.checksum}"][-1] == "mongorunway"
    [again] = ScriptDirectory(folder, cache_file=cache, naming=UNIX).scan()  # read back from the cache
    assert again == script


def test_a_name_the_stand_in_lacks_may_stand_in_a_postponed_annotation(tmp_path):
    text = mongorunway_file(1, head="from __future__ import annotations\n\nimport mongorunway\n").replace(
        "def upgrade():", "def upgrade() -> mongorunway.Migration:")
    assert inspect_file(write(tmp_path, "001_annotated.py", text)).problem is None
    evaluated = text.replace("from __future__ import annotations\n", "")
    assert "mongorunway.Migration is not provided" in inspect_file(write(tmp_path, "002_x.py", evaluated.replace(
        "version = 1", "version = 2"))).problem
