"""The test server answers, supports transactions, and extra daemons can be started."""

from __future__ import annotations

import pytest
from pymongo import MongoClient


def test_server_answers_hello(mongo_client: MongoClient) -> None:
    hello = mongo_client.admin.command("hello")
    assert hello["ok"] == 1
    assert hello.get("isWritablePrimary") is True


def test_transaction_abort_writes_nothing(mongo_client: MongoClient, db_name: str) -> None:
    coll = mongo_client[db_name]["things"]
    coll.insert_one({"_id": "before"})  # create the collection outside the transaction
    with mongo_client.start_session() as session:
        session.start_transaction()
        coll.insert_one({"_id": "inside"}, session=session)
        assert coll.count_documents({}, session=session) == 2
        session.abort_transaction()
    assert coll.count_documents({}) == 1
    assert coll.find_one({"_id": "inside"}) is None


def test_transaction_commit_writes(mongo_client: MongoClient, db_name: str) -> None:
    coll = mongo_client[db_name]["things"]
    with mongo_client.start_session() as session, session.start_transaction():
        coll.insert_one({"_id": 1}, session=session)
    assert coll.count_documents({}) == 1


def test_db_name_is_unique_and_short(db_name: str) -> None:
    assert db_name.startswith("t_test_db_name_is_unique")
    assert len(db_name) <= 60


def test_project_fixture(project, mongo_uri: str) -> None:
    assert project.config_path.read_text().count(project.db_name) == 1
    assert project.uri == mongo_uri
    path = project.write_migration(7, "add_index", '"""Add an index."""\nversion = 7\n')
    assert path.name == "007_add_index.py"
    assert path.parent == project.scripts_dir


def test_server_factory_standalone(server_factory) -> None:
    server = server_factory.start("--standalone")
    assert server.pid and server.port
    with MongoClient(server.uri, serverSelectionTimeoutMS=5000) as client:
        hello = client.admin.command("hello")
    assert hello["ok"] == 1
    assert "setName" not in hello
    server.stop()
    assert not server.running


@pytest.mark.slow
def test_server_factory_restart_keeps_data(server_factory) -> None:
    first = server_factory.start()
    with MongoClient(first.uri, serverSelectionTimeoutMS=5000) as client:
        client["persist"]["c"].insert_one({"_id": 1})
    first.stop()
    second = server_factory.start(storage_path=first.storage_path)
    with MongoClient(second.uri, serverSelectionTimeoutMS=5000) as client:
        assert client["persist"]["c"].find_one({"_id": 1}) == {"_id": 1}
