"""Fixtures for interop tests with the real Mongorunway 1.0.7a0 (see tests/support/mongorunway_peer.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.mongorunway_peer import MongorunwayProject, MongorunwayUnavailable, mongorunway_executable


@pytest.fixture(scope="session")
def mongorunway_cli() -> Path:
    """The peer's console script; a peer that cannot be installed fails the test with the reason."""
    try:
        return mongorunway_executable()
    except MongorunwayUnavailable as exc:
        pytest.fail(f"Mongorunway interop tests need the real peer: {exc}", pytrace=False)


@pytest.fixture
def mongorunway_project(tmp_path: Path, mongo_uri: str, db_name: str, mongorunway_cli: Path) -> MongorunwayProject:
    """A fresh Mongorunway project folder (config written, `migrations/` package made) on this test's database."""
    project = MongorunwayProject(root=tmp_path / "proj", uri=mongo_uri, database=db_name)
    project.root.mkdir()
    project.write_config()
    return project
