"""Fixtures of the reliability suite: a server that requires authentication, with one user."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from tests.support.project import Project
from tests.support.server import Server, ServerFactory

USER = "runway_admin"
PASSWORD = "Zq7-hunter2-Secret-41x"  # searched for in every output; must never be shown


@pytest.fixture(scope="session")
def auth_server(server_factory: ServerFactory) -> Server:
    """`secantusd-py --auth` with user USER/PASSWORD (created without auth first, as the daemon's help says)."""
    bootstrap = server_factory.start()
    with MongoClient(bootstrap.uri) as client:
        client.admin.command("createUser", USER, pwd=PASSWORD, roles=["root"])
    bootstrap.stop()
    return server_factory.start("--auth", storage_path=bootstrap.storage_path)  # stopped at session end


def auth_uri(server: Server, password: str = PASSWORD) -> str:
    return f"mongodb://{USER}:{password}@127.0.0.1:{server.port}/?directConnection=true&authSource=admin"


@pytest.fixture(scope="session")
def standalone_server(server_factory: ServerFactory) -> Server:
    """One `secantusd-py --standalone` (no transactions) shared by the modules that test both topologies."""
    return server_factory.start("--standalone")  # stopped at session end


TOPOLOGIES = ["replica-set", "standalone"]


@pytest.fixture(params=TOPOLOGIES)
def any_project(request: pytest.FixtureRequest, tmp_path: Path, mongo_uri: str, db_name: str) -> Iterator[Project]:
    """The test's project on the default server (a replica set: transactions) and on a standalone one."""
    if request.param == "standalone":
        uri = request.getfixturevalue("standalone_server").uri
        project = Project.create(tmp_path / "standalone", uri=uri, db_name=db_name)
        project.topology = "standalone"  # type: ignore[attr-defined]
        yield project
        with MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
            client.drop_database(db_name)
        return
    project = Project.create(tmp_path / "project", uri=mongo_uri, db_name=db_name)
    project.topology = "replica-set"  # type: ignore[attr-defined]
    yield project
