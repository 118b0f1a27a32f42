"""Every store shape passes the same checks on the real server (engine/store/conformance.py): runway's own
(with the server's one-command `bulkWrite`, and without it, as before MongoDB 8.0) and Mongorunway's."""

from __future__ import annotations

import dataclasses

import pytest

from runway_tui.engine.storage import store_for
from runway_tui.engine.store.conformance import CHECKS
from runway_tui.engine.store.protocol import MigrationStore
from tests.engine.helpers import app_config

SHAPES = {"runway": ("", True), "runway-per-command": ("", False), "mongorunway": ("mongorunway", False)}


@pytest.fixture(params=sorted(SHAPES))
def shaped_store(request, project, mongo_client):
    compat, combined = SHAPES[request.param]
    config = dataclasses.replace(app_config(project), compat=compat or None)
    hello = mongo_client.admin.command("hello")
    combined = combined and int(hello.get("maxWireVersion", 0)) >= 25  # client bulkWrite: MongoDB 8.0
    store = store_for(config, mongo_client, mongo_client[project.db_name], combined=combined)
    yield store
    mongo_client.drop_database(project.db_name)


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__.removeprefix("check_") for c in CHECKS])
def test_the_shape_conforms(shaped_store, mongo_client, check):
    assert isinstance(shaped_store, MigrationStore)
    check(shaped_store, mongo_client)
