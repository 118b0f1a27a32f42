"""A realistic Mongorunway project's migration files, written as Mongorunway's users write them: command
lists, a process returned as `MigrationProcess`, a validator through `send_command` with `ux` constants,
and a custom command plus a business rule defined in the project's own `migrations` package.

Shared by the engine tests (runway-tui runs them with no Mongorunway installed) and the interop tests
(the real Mongorunway runs the very same files).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = {  # Mongorunway takes every *.py of scripts_dir as a migration: the project's own code is in a subpackage
    "__init__.py": "",
    "lib/__init__.py": "",
    "lib/commands.py": '''\
import typing

import mongorunway


@mongorunway.make_snake_case_global_alias(obj=globals())
class TagAll(mongorunway.MigrationCommand[None]):
    """Set `tag` on every document of a collection."""

    def __init__(self, collection: str, tag: typing.Optional[str]) -> None:
        self.collection = collection
        self.tag = tag

    def execute(self, ctx: mongorunway.MigrationContext) -> None:
        if self.tag is None:
            ctx.database[self.collection].update_many({}, {"$unset": {"tag": ""}})
        else:
            ctx.database[self.collection].update_many({}, {"$set": {"tag": self.tag}})
''',
    "lib/rules.py": '''\
import mongorunway


class CollectionExists(mongorunway.AbstractMigrationBusinessRule):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.collection = name

    def check_is_broken(self, ctx: mongorunway.MigrationContext) -> bool:
        return self.collection not in ctx.database.list_collection_names()


class HasItems(mongorunway.AbstractMigrationBusinessRule):
    def check_is_broken(self, ctx: mongorunway.MigrationContext) -> bool:
        return ctx.database["items"].count_documents({}) == 0

    def render_broken_rule(self) -> str:
        return "There are no items to tag: seed them first."
''',
}

MIGRATIONS = {
    "001_create_items.py": '''\
"""Create the items collection with a unique index on sku."""
from __future__ import annotations

import typing

import pymongo

import mongorunway

# Required, used by Mongorunway.
version = 1


@mongorunway.migration
def upgrade() -> typing.Sequence[mongorunway.MigrationCommand]:
    return [
        mongorunway.create_collection("items"),
        mongorunway.create_indexes("items", [pymongo.IndexModel([("sku", 1)], unique=True, name="sku_1")]),
        mongorunway.create_index("items", [("price", -1)], name="price_-1"),
    ]


@mongorunway.migration
def downgrade() -> typing.Sequence[mongorunway.MigrationCommand]:
    return [mongorunway.drop_index("items", "price_-1"), mongorunway.drop_collection("items")]
''',
    "002_seed_items.py": '''\
"""Seed three items."""
import pymongo

import mongorunway
from mongorunway.infrastructure import commands

version = 2


@mongorunway.migration
def upgrade():
    return [
        mongorunway.insert_many("items", [{"sku": "a", "price": 1}, {"sku": "b", "price": 2}]),
        mongorunway.insert_one("items", {"sku": "c", "price": 3}),
        mongorunway.update_one("items", {"sku": "a"}, {"$set": {"price": 10}}),
        mongorunway.update_many("items", {}, {"$set": {"currency": "EUR"}}),
        mongorunway.replace_one("items", {"sku": "b"}, {"sku": "b", "price": 20, "currency": "EUR"}),
        commands.bulk_write("items", [pymongo.InsertOne({"sku": "d", "price": 4}),
                                      pymongo.DeleteOne({"sku": "d"})]),  # not exported at the top level
    ]


@mongorunway.migration
def downgrade():
    return mongorunway.MigrationProcess(
        [mongorunway.delete_one("items", {"sku": "c"}), mongorunway.delete_many("items", {})],
        migration_version=version,
        name="downgrade",
    )
''',
    "003_tag_items.py": '''\
"""Tag every item as new (a custom command, guarded by business rules)."""
import mongorunway

from migrations.lib import commands
from migrations.lib.rules import CollectionExists, HasItems

version = 3


@mongorunway.migration_with_rule(HasItems(depends_on=[CollectionExists("items")]))
@mongorunway.migration
def upgrade():
    return [commands.tag_all("items", "new")]


@mongorunway.migration
def downgrade():
    return [commands.TagAll("items", None)]
''',
    "004_validate_and_archive.py": '''\
"""Require a sku on items, and keep a renamed copy of them as archive."""
import mongorunway
from mongorunway.application import ux

version = 4


@mongorunway.migration
def upgrade():
    return [
        mongorunway.send_command(
            "collMod", "items",
            validator={"$jsonSchema": {"bsonType": "object", "required": ["sku"]}},
            validationLevel=ux.ValidationLevel.STRICT.value,
            validationAction=ux.ValidationAction.ERROR.value,
        ),
        mongorunway.create_collection("items_staging"),
        mongorunway.insert_one("items_staging", {"sku": "z"}),
        mongorunway.rename_collection("items_staging", "archive"),
    ]


@mongorunway.migration
def downgrade():
    return [
        mongorunway.drop_collection("archive"),
        mongorunway.send_command("collMod", "items", validator={}, validationLevel=ux.ValidationLevel.OFF.value),
    ]
''',
}


def write_mongorunway_project(scripts_dir: Path) -> None:
    """The `migrations` package (`lib/`: custom command, rules) and the four migration files, in `scripts_dir`."""
    scripts_dir.mkdir(parents=True, exist_ok=True)
    for name, text in {**PACKAGE, **MIGRATIONS}.items():
        (scripts_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (scripts_dir / name).write_text(text, encoding="utf-8")
