"""Who may write: `resolve_access` (one rule for the CLI, the TUI and the API), then each front end using it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from runway_tui.engine.app import MigrationApp
from runway_tui.engine.errors import ReadOnlyError, UsageError
from runway_tui.engine.policy import resolve_access
from tests.engine.helpers import app_config


@dataclass
class Config:
    read_only: bool = False
    production: bool = False
    name: str = "prod"


@pytest.mark.parametrize(("config", "read_only_flag", "write_flag", "expected"), [
    (Config(), False, False, False),
    (Config(), True, False, True),
    (Config(), False, True, False),
    (Config(production=True), False, False, True),   # production: read-only by default
    (Config(production=True), False, True, False),   # --write opts in
    (Config(production=True), True, False, True),
    (Config(read_only=True), False, False, True),
    (Config(read_only=True), True, False, True),
    (Config(read_only=True, production=True), False, False, True),
])
def test_resolve_access(config, read_only_flag, write_flag, expected):
    assert resolve_access(config, read_only_flag=read_only_flag, write_flag=write_flag).read_only is expected


@pytest.mark.parametrize("config", [Config(), Config(production=True), Config(read_only=True)])
def test_both_flags_are_a_usage_error(config):
    with pytest.raises(UsageError, match="only one of --read-only and --write"):
        resolve_access(config, read_only_flag=True, write_flag=True)


@pytest.mark.parametrize("config", [Config(read_only=True), Config(read_only=True, production=True)])
def test_read_only_in_the_config_is_absolute(config):
    with pytest.raises(UsageError, match="read_only: true; --write cannot override it"):
        resolve_access(config, write_flag=True)


def test_the_reason_names_what_the_user_did():
    assert "--read-only" not in resolve_access(Config(read_only=True)).reason
    assert "read_only: true" in resolve_access(Config(read_only=True)).reason
    assert "--write" in resolve_access(Config(production=True)).reason
    assert "--read-only" in resolve_access(Config(), read_only_flag=True).reason


def test_api_follows_the_same_rule(project):
    with pytest.raises(UsageError, match="cannot override"):
        MigrationApp(app_config(project, read_only=True), read_only=False, connect=False)
    production = app_config(project, production=True)
    assert MigrationApp(production, connect=False).read_only is True
    assert MigrationApp(production, read_only=False, connect=False).read_only is False


def test_api_refusal_quotes_the_config_not_a_flag(project):
    app = MigrationApp(app_config(project, read_only=True), connect=False)
    with pytest.raises(ReadOnlyError) as caught:
        app.create_migration_file_template("nope")
    assert "--read-only" not in str(caught.value) and "read_only: true" in str(caught.value)
