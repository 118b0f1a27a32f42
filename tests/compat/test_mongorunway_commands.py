"""Each of Mongorunway's built-in commands, run by runway-tui's stand-in against the test server: the
data commands join the step's transaction (an abort leaves nothing), the DDL commands do their work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pymongo
import pytest
from pymongo import MongoClient
from pymongo.database import Database

from runway_tui.compat.mongorunway import shim
from runway_tui.compat.mongorunway.binding import bind
from runway_tui.compat.mongorunway.shim import commands
from runway_tui.compat.mongorunway.shim.domain import MigrationContext

mongorunway = shim.modules()["mongorunway"]

# The aliases Mongorunway 1.0.7a0 exports at its top level, plus `bulk_write` (its alias exists but was
# left out of `__all__`; runway-tui exports it too).
MONGORUNWAY_ALIASES = {
    "create_collection", "create_database", "create_index", "create_indexes", "delete_many", "delete_one",
    "drop_collection", "drop_database", "drop_index", "drop_indexes", "insert_many", "insert_one",
    "rename_collection", "replace_one", "send_command", "update_many", "update_one", "bulk_write",
}


@pytest.fixture
def db(mongo_client: MongoClient, db_name: str) -> Iterator[Database]:
    database = mongo_client[db_name]
    database["items"].insert_many([{"_id": 1, "sku": "a", "n": 1}, {"_id": 2, "sku": "b", "n": 2}])
    yield database


def context(client: MongoClient, database: Database, session: Any = None) -> MigrationContext:
    return MigrationContext("run", "session", client=bind(client, session), database=bind(database, session),
                            session=session)


def items(database: Database, session: Any = None) -> list[dict[str, Any]]:
    return list(database["items"].find({}, sort=[("_id", 1)], session=session))


DATA_COMMANDS: dict[str, tuple[Callable[[], Any], list[dict[str, Any]]]] = {
    "InsertOne": (lambda: mongorunway.insert_one("items", {"_id": 3, "sku": "c"}),
                  [{"_id": 1, "sku": "a", "n": 1}, {"_id": 2, "sku": "b", "n": 2}, {"_id": 3, "sku": "c"}]),
    "InsertMany": (lambda: mongorunway.insert_many("items", [{"_id": 3}, {"_id": 4}]),
                   [{"_id": 1, "sku": "a", "n": 1}, {"_id": 2, "sku": "b", "n": 2}, {"_id": 3}, {"_id": 4}]),
    "ReplaceOne": (lambda: mongorunway.replace_one("items", {"_id": 1}, {"sku": "A"}),
                   [{"_id": 1, "sku": "A"}, {"_id": 2, "sku": "b", "n": 2}]),
    "UpdateOne": (lambda: mongorunway.update_one("items", {"_id": 2}, {"$inc": {"n": 5}}),
                  [{"_id": 1, "sku": "a", "n": 1}, {"_id": 2, "sku": "b", "n": 7}]),
    "UpdateMany": (lambda: mongorunway.update_many("items", {}, [{"$set": {"n": {"$multiply": ["$n", 10]}}}]),
                   [{"_id": 1, "sku": "a", "n": 10}, {"_id": 2, "sku": "b", "n": 20}]),
    "DeleteOne": (lambda: mongorunway.delete_one("items", {"_id": 1}), [{"_id": 2, "sku": "b", "n": 2}]),
    "DeleteMany": (lambda: mongorunway.delete_many("items", {}), []),
    "BulkWrite": (lambda: mongorunway.bulk_write("items", [pymongo.InsertOne({"_id": 5}),
                                                           pymongo.DeleteOne({"_id": 1})], ordered=True),
                  [{"_id": 2, "sku": "b", "n": 2}, {"_id": 5}]),
}


@pytest.mark.parametrize("name", sorted(DATA_COMMANDS))
def test_a_data_command_joins_the_steps_transaction(name, mongo_client, db):
    make, expected = DATA_COMMANDS[name]
    before = items(db)
    command = make()
    assert command.name == name
    with mongo_client.start_session() as session:
        session.start_transaction()
        command.execute(context(mongo_client, db, session))
        assert items(db, session) == expected  # inside the transaction the change is there
        assert items(db) == before  # outside it, not yet: the command ran on the session
        session.abort_transaction()
    assert items(db) == before
    command.execute(context(mongo_client, db))  # without a session (a step run without a transaction)
    assert items(db) == expected


def test_collection_commands_create_rename_and_drop(mongo_client, db):
    ctx = context(mongo_client, db)
    mongorunway.create_collection("fresh", validator={"sku": {"$exists": True}}).execute(ctx)
    assert db["fresh"].options()["validator"] == {"sku": {"$exists": True}}
    mongorunway.rename_collection("fresh", "renamed").execute(ctx)
    assert "renamed" in db.list_collection_names() and "fresh" not in db.list_collection_names()
    mongorunway.drop_collection("renamed").execute(ctx)
    assert "renamed" not in db.list_collection_names()


def test_index_commands_create_and_drop(mongo_client, db):
    ctx = context(mongo_client, db)
    mongorunway.create_index("items", [("sku", 1)], unique=True, name="sku_1").execute(ctx)
    mongorunway.create_indexes("items", [pymongo.IndexModel([("n", -1)], name="n_-1")]).execute(ctx)
    info = db["items"].index_information()
    assert info["sku_1"]["unique"] is True and info["n_-1"]["key"] == [("n", -1)]
    mongorunway.drop_index("items", "sku_1").execute(ctx)
    assert set(db["items"].index_information()) == {"_id_", "n_-1"}
    mongorunway.drop_indexes("items").execute(ctx)
    assert set(db["items"].index_information()) == {"_id_"}


def test_send_command_runs_a_database_command(mongo_client, db):
    ctx = context(mongo_client, db)
    ux = shim.modules()["mongorunway.application.ux"]
    mongorunway.send_command("collMod", "items", validator={"$jsonSchema": {"required": ["sku"]}},
                             validationLevel=ux.ValidationLevel.MODERATE.value).execute(ctx)
    assert db["items"].options()["validationLevel"] == "moderate"
    assert mongorunway.send_command("ping").execute(ctx)["ok"] == 1


def test_database_commands_create_and_drop_another_database(mongo_client, db, db_name):
    other = f"{db_name[:50]}_other"
    ctx = context(mongo_client, db)
    try:
        result = mongorunway.create_database("first", other).execute(ctx)
        assert result.name == other and "first" in mongo_client[other].list_collection_names()
        mongorunway.drop_database(other).execute(ctx)
        assert other not in mongo_client.list_database_names()
    finally:
        mongo_client.drop_database(other)


def test_every_builtin_has_mongorunways_alias_and_class_name():
    assert set(commands.ALIASES) == MONGORUNWAY_ALIASES
    for cls in commands.BUILTIN_COMMANDS:
        assert getattr(mongorunway, cls.__name__) is cls
        assert getattr(mongorunway.infrastructure.commands, cls.__name__) is cls
    assert isinstance(mongorunway.drop_indexes("items"), mongorunway.DropIndexes)
    assert commands.as_snake_case("CreateIndexes") == "create_indexes"


def test_bound_handles_stay_pymongo_handles_and_keep_an_explicit_session(mongo_client, db):
    with mongo_client.start_session() as session, mongo_client.start_session() as other:
        bound = bind(db, session)
        assert isinstance(bound, Database) and bound == db and bound.name == db.name
        assert isinstance(bound["items"], pymongo.collection.Collection)
        assert isinstance(bound.items.database.client, MongoClient)
        other.start_transaction()
        bound["items"].insert_one({"_id": 9}, session=other)  # the caller's session wins
        assert db["items"].find_one({"_id": 9}, session=other) == {"_id": 9}
        other.abort_transaction()
    assert db["items"].find_one({"_id": 9}) is None
