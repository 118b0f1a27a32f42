"""Fixtures of the reliability suite: a server that requires authentication, with one user."""

from __future__ import annotations

import pytest
from pymongo import MongoClient

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
