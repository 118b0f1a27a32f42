"""Mongorunway-format files run by runway-tui's engine with no Mongorunway installed: command lists, a
returned `MigrationProcess`, custom commands and business rules from the project's `migrations` package;
commands commit or roll back with the step; `mongorunway` exists only while a step runs."""

from __future__ import annotations

import importlib.util
import sys
import types

import pytest

from runway_tui.compat.mongorunway.storage import SIDE_SUFFIX
from runway_tui.engine.errors import StepFailedError
from runway_tui.engine.evidence import evidence_collection
from runway_tui.engine.models import State
from runway_tui.engine.sources import sources_collection
from tests.compat.conftest import use_mongorunway_conventions
from tests.compat.test_mongorunway_inspection import mongorunway_file
from tests.engine.helpers import open_app


def user_collections(db) -> list[str]:
    ours = ("migrations", "auditlog", "migrations_lock", "migrations" + SIDE_SUFFIX, "auditlog" + SIDE_SUFFIX,
            sources_collection("migrations"), evidence_collection("auditlog"))
    return sorted(n for n in db.list_collection_names() if n not in ours)


def test_mongorunway_is_not_installed_here():
    assert importlib.util.find_spec("mongorunway") is None  # what runs below is runway-tui's stand-in


def test_a_mongorunway_project_runs_up_and_down(mr_app, mr_project, mongo_client):
    db = mongo_client[mr_project.db_name]
    result = mr_app.upgrade(all_=True)
    assert [r.step.version for r in result.completed] == [1, 2, 3, 4]
    # files with DDL commands (collections, indexes, collMod) run without a transaction, the others in one
    assert [r.in_transaction for r in result.completed] == [False, True, True, False]
    assert list(db["items"].find({}, {"_id": 0}, sort=[("sku", 1)])) == [
        {"sku": "a", "price": 10, "currency": "EUR", "tag": "new"},
        {"sku": "b", "price": 20, "currency": "EUR", "tag": "new"},
        {"sku": "c", "price": 3, "currency": "EUR", "tag": "new"},
    ]
    info = db["items"].index_information()
    assert info["sku_1"]["unique"] is True and info["price_-1"]["key"] == [("price", -1)]
    assert db["items"].options()["validationLevel"] == "strict"
    assert list(db["archive"].find({}, {"_id": 0})) == [{"sku": "z"}]
    assert [(r.version, r.state) for r in mr_app.repository.all()] == [(v, State.APPLIED) for v in (1, 2, 3, 4)]

    mr_app.downgrade(to=2)
    assert user_collections(db) == ["items"] and db["items"].count_documents({"tag": {"$exists": True}}) == 0
    mr_app.downgrade(all_=True)
    assert user_collections(db) == []
    assert not any(n == "mongorunway" or n.startswith(("mongorunway.", "migrations")) for n in sys.modules)


def test_a_failing_command_rolls_back_the_commands_before_it(project, mongo_client):
    use_mongorunway_conventions(project)
    project.write_migration(1, "dup", mongorunway_file(
        1, up='[mongorunway.insert_one("items", {"_id": 1}), mongorunway.insert_one("items", {"_id": 1})]'))
    with open_app(project) as app, pytest.raises(StepFailedError, match="DuplicateKeyError"):
        app.upgrade(all_=True)
    db = mongo_client[project.db_name]
    assert db["items"].count_documents({}) == 0  # the first insert ran on the step's session: rolled back
    record = db["migrations"].find_one({"_id": 1})
    assert record["is_applied"] is False and record.get("state") != State.FAILED.value


RULES = '''
import mongorunway


class Empty(mongorunway.AbstractMigrationBusinessRule):
    def __init__(self, collection, depends_on=()):
        super().__init__(depends_on)
        self.collection = collection

    def check_is_broken(self, ctx):
        seen.append((self.name, self.collection, ctx.session))
        return ctx.database[self.collection].count_documents({}) > 0

    def render_broken_rule(self):
        return f"{self.collection} must be empty first."


seen = []
'''


def test_a_broken_rule_fails_the_step_with_its_own_text_before_anything_runs(project, mongo_client):
    use_mongorunway_conventions(project)
    (project.scripts_dir / "__init__.py").write_text("")
    (project.scripts_dir / "checks").mkdir()
    (project.scripts_dir / "checks" / "__init__.py").write_text(RULES)
    project.write_migration(1, "guarded", mongorunway_file(
        1, head="import mongorunway\nfrom migrations.checks import Empty\n",
        up='[mongorunway.insert_one("items", {"_id": 1})]',
        decorator='@mongorunway.migration_with_rule(Empty("items", depends_on=[Empty("logs")]))\n'
                  "@mongorunway.migration"))
    db = mongo_client[project.db_name]
    db["logs"].insert_one({"_id": "old"})
    with open_app(project) as app:
        with pytest.raises(StepFailedError, match="MigrationBusinessRuleBrokenError: logs must be empty first"):
            app.upgrade(all_=True)  # the dependency is checked first, then the rule itself
        assert db["items"].count_documents({}) == 0
        db["logs"].delete_many({})
        app.upgrade(all_=True)
    assert db["items"].count_documents({}) == 1
    entries = list(db["auditlog"].find({}, sort=[("date", 1)]))
    assert entries[0]["exc_name"] == "MigrationBusinessRuleBrokenError"  # unlike Mongorunway, a rule's veto is audited
    assert entries[0]["exc_message"] == "logs must be empty first."


def test_rules_are_checked_outside_the_transaction(project, mongo_client):
    use_mongorunway_conventions(project)
    (project.scripts_dir / "__init__.py").write_text("")
    (project.scripts_dir / "_rules_probe.py").write_text("")  # a helper file: never a migration
    (project.scripts_dir / "checks").mkdir()
    (project.scripts_dir / "checks" / "__init__.py").write_text(RULES + "\nimport builtins\nbuiltins._seen = seen\n")
    project.write_migration(1, "guarded", mongorunway_file(
        1, head="import mongorunway\nfrom migrations.checks import Empty\n",
        decorator='@mongorunway.migration_with_rule(Empty("items"))\n@mongorunway.migration'))
    import builtins

    try:
        with open_app(project) as app:
            app.upgrade(all_=True)
        assert builtins._seen == [("Empty", "items", None)]  # type: ignore[attr-defined]
    finally:
        vars(builtins).pop("_seen", None)


def test_a_real_mongorunway_module_is_put_back_after_the_step(mr_app):
    mine = types.ModuleType("mongorunway")
    sys.modules["mongorunway"] = mine
    try:
        mr_app.upgrade(steps=1)
        assert sys.modules["mongorunway"] is mine
    finally:
        del sys.modules["mongorunway"]


def test_what_the_stand_in_lacks_is_named_before_running_or_when_the_package_imports_it(project):
    use_mongorunway_conventions(project)
    project.write_migration(1, "seed", mongorunway_file(
        1, head="import mongorunway\nfrom mongorunway.application.services import migration_service\n"))
    with open_app(project) as app:
        [row] = app.status().rows
        assert row.script.is_broken  # known from the file alone: status and check never call it runnable
        assert row.script.problem.startswith("line 3: mongorunway.application.services is not provided")
    # the project's own package is only seen when the step imports it
    (project.scripts_dir / "001_seed.py").unlink()
    (project.scripts_dir / "__init__.py").write_text("")
    (project.scripts_dir / "lib").mkdir()
    (project.scripts_dir / "lib" / "__init__.py").write_text("from mongorunway.application.services import x\n")
    project.write_migration(1, "seed", mongorunway_file(1, head="import mongorunway\nimport migrations.lib\n"))
    with open_app(project) as app, pytest.raises(StepFailedError) as failed:
        app.upgrade(all_=True)
    assert "No module named 'mongorunway.application.services' in runway-tui's Mongorunway compatibility layer" in str(
        failed.value)


def test_a_command_the_server_refuses_in_a_transaction_says_what_to_do(project, mongo_client):
    """MongoDB refuses DDL in a transaction with code 263 (SecantusDB allows it, so the command raises it)."""
    use_mongorunway_conventions(project)
    head = '''import mongorunway
from pymongo.errors import OperationFailure


class DropOld(mongorunway.MigrationCommand[None]):
    def execute(self, ctx):
        raise OperationFailure("Cannot run 'drop' in a multi-document transaction.", 263)
'''
    project.write_migration(1, "drop", mongorunway_file(1, head=head, up="[DropOld()]"))
    with open_app(project) as app, pytest.raises(StepFailedError) as failed:
        app.upgrade(all_=True)
    assert "DropOld cannot run in a transaction: put 'transactional = False' in the migration file" in str(
        failed.value)


def test_check_calls_a_file_of_unknown_format_broken(project, cli):
    use_mongorunway_conventions(project)
    project.write_migration(1, "odd", mongorunway_file(1, decorator="@mongorunway.migration\n@odd"))
    result = cli("check")
    assert result.returncode != 0
    assert "001_odd: broken file" in result.stdout + result.stderr
    assert "the decorator nearest to def upgrade is @odd" in result.stdout + result.stderr


def test_unix_timestamp_files_are_recorded_by_their_version_and_run(project, mongo_client):
    use_mongorunway_conventions(project, "filename_strategy: unix_timestamp")
    (project.scripts_dir / "1796172596_create_items.py").write_text(
        mongorunway_file(1, up='[mongorunway.insert_one("items", {"_id": 1})]',
                         down='[mongorunway.delete_one("items", {"_id": 1})]'))
    (project.scripts_dir / "1796172700_more_items.py").write_text(
        mongorunway_file(2, up='[mongorunway.insert_one("items", {"_id": 2})]'))
    db = mongo_client[project.db_name]
    with open_app(project) as app:
        assert app.refresh().new == [1, 2]
        report = app.refresh()
        assert (report.new, report.removed, report.broken) == ([], [], [])
        assert [(r.version, r.name) for r in app.repository.all()] == [
            (1, "1796172596_create_items"), (2, "1796172700_more_items")]
        app.upgrade(all_=True)
        assert sorted(d["_id"] for d in db["items"].find()) == [1, 2]


def test_an_edit_to_the_projects_package_is_seen_by_the_next_step(mr_app, mr_project, mongo_client):
    db = mongo_client[mr_project.db_name]
    mr_app.upgrade(to=3)
    assert db["items"].count_documents({"tag": "new"}) == 3
    mr_app.downgrade(steps=1)
    commands = mr_project.scripts_dir / "lib" / "commands.py"
    commands.write_text(commands.read_text().replace('{"$set": {"tag": self.tag}}', '{"$set": {"tag": "edited"}}'))
    mr_app.upgrade(steps=1)  # the same process: lib.commands is imported afresh, not reused from the last step
    assert db["items"].count_documents({"tag": "edited"}) == 3
