"""Fixtures for the Mongorunway-format tests: a runway project with `compat: mongorunway` holding a
realistic Mongorunway project's files (tests/support/mongorunway_files.py), and an app open on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runway_tui.engine.app import MigrationApp
from tests.engine.helpers import open_app
from tests.support.mongorunway_files import write_mongorunway_project
from tests.support.project import Project


def use_mongorunway_conventions(project: Project, *lines: str) -> None:
    """Until mongorunway.yaml is read (issue 10d), a Mongorunway project is a runway.yaml with `compat`."""
    text = project.config_path.read_text()
    project.config_path.write_text("compat: mongorunway\n" + "".join(f"{line}\n" for line in lines) + text)


@pytest.fixture
def mr_project(project: Project) -> Project:
    use_mongorunway_conventions(project)
    write_mongorunway_project(project.scripts_dir)
    return project


@pytest.fixture
def mr_app(mr_project: Project) -> Iterator[MigrationApp]:
    application = open_app(mr_project, lock_wait_s=2, lock_ttl_s=5)
    yield application
    application.close()
