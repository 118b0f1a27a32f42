"""Fixtures for the engine tests: an open MigrationApp on the test project, a command recorder,
and a standalone server (no transactions)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pymongo import MongoClient

import runway_tui.engine.run.wiring as app_module  # where the client is made
from runway_tui.engine.app import MigrationApp
from tests.engine.helpers import CommandRecorder, open_app
from tests.support.project import Project


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> CommandRecorder:
    """Every client the engine creates from now on reports its commands to this recorder."""
    listener = CommandRecorder()
    real = app_module.make_client

    def make_client(uri, config, **extra):
        return real(uri, config, event_listeners=[listener, *extra.pop("event_listeners", [])], **extra)

    monkeypatch.setattr(app_module, "make_client", make_client)
    return listener


@pytest.fixture
def app(project: Project) -> Iterator[MigrationApp]:
    application = open_app(project, lock_wait_s=2, lock_ttl_s=5)
    yield application
    application.close()


@pytest.fixture(scope="session")
def standalone_uri(server_factory) -> str:
    """A server without transaction support (no replica set)."""
    return server_factory.start("--standalone").uri


@pytest.fixture
def standalone_project(tmp_path, standalone_uri: str, db_name: str) -> Iterator[Project]:
    project = Project.create(tmp_path / "standalone", uri=standalone_uri, db_name=db_name)
    yield project
    with MongoClient(standalone_uri, serverSelectionTimeoutMS=5000) as client:
        client.drop_database(db_name)
