"""A Mongorunway project's `mongorunway.yaml` is found and read into our configuration, every key accounted for."""

from __future__ import annotations

from pathlib import Path

import pytest

from runway_tui.engine.app import MigrationApp
from runway_tui.engine.config import find_config_path, load_config
from runway_tui.engine.errors import ConfigError
from tests.support.mongorunway_peer import MongorunwayProject

EVERY_KEY = """\
mongorunway:
  filesystem:
    scripts_dir: db/migrations
    filename_strategy: mongorunway.infrastructure.filename_strategies.UnixFilenameStrategy
    use_filename_strategy: true
  applications:
    test:
      app_client:
        host: 127.0.0.1
        port: 27999
        username: admin
        password: "pa55:w@rd"
        authSource: admin
        serverSelectionTimeoutMS: 3000
        tz_aware: true
      app_database: Shop-2
      app_repository:
        collection: runway_migrations
      app_auditlog_journal:
        collection: runway_audit
      use_auditlog: true
      app_auditlog_limit: 500
      app_timezone: Europe/Paris
      app_date_format: "%d.%m.%Y %H:%M"
      app_events:
        mongorunway.StartingEvent:
          - mongorunway.sync_scripts_with_repository
          - Prioritized[1, project_hooks.on_start]
        mongorunway.domain.migration_event.ClosingEvent:
          - project_hooks.on_close
      raise_on_transaction_failure: false
      use_logging: false
      use_indexing: true
      use_schema_validation: true
      some_future_key: 1
  logging:
    version: 1
"""


def write(folder: Path, text: str, name: str = "mongorunway.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNWAY_CONFIG", raising=False)
    monkeypatch.delenv("RUNWAY_APP", raising=False)


def test_every_key_is_mapped_or_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(write(tmp_path / "project", EVERY_KEY))
    app = config.app("test")

    assert app.compat == "mongorunway"
    assert app.scripts_dir == tmp_path / "db" / "migrations"  # relative to the current directory, as Mongorunway
    assert (app.filename_strategy, app.use_filename_strategy) == ("unix_timestamp", True)
    assert app.uri == ("mongodb://admin:pa55%3Aw%40rd@127.0.0.1:27999/?authSource=admin"
                       "&serverSelectionTimeoutMS=3000")  # the IP and the password with digits kept intact
    assert "pa55" not in app.masked_uri and "pa55:w@rd" in app.secrets
    assert (app.database, app.migrations_collection, app.auditlog_collection) == ("Shop-2", "runway_migrations",
                                                                                  "runway_audit")
    assert app.mongorunway_auditlog is True
    assert (app.auditlog_limit, app.timezone, app.date_format) == (500, "Europe/Paris", "%d.%m.%Y %H:%M")
    assert app.event_handlers == (("StartingEvent", "project_hooks.on_start", 1),
                                  ("ClosingEvent", "project_hooks.on_close", None))
    assert app.fail_when_nothing_to_do is False
    notes = "\n".join(config.notes)
    for key in ("app_client.tz_aware: not used", "sync_scripts_with_repository: not needed",
                "use_logging: not used", "use_indexing: not used", "use_schema_validation: not used",
                "some_future_key: unknown key, ignored", "mongorunway.logging: not used"):
        assert key in notes, key
    assert all(note.startswith(f"{config.path}:") for note in config.notes)  # each names the file and line
    assert "pa55" not in notes


def test_defaults_of_a_minimal_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    project = MongorunwayProject(tmp_path, "mongodb://localhost:27017", "Demo")
    project.write_config()
    app = load_config(project.config_path).app()
    assert (app.uri, app.filename_strategy, app.use_filename_strategy) == ("mongodb://localhost:27017/",
                                                                           "numerical", True)
    assert app.fail_when_nothing_to_do is True  # Mongorunway's default for raise_on_transaction_failure
    text = EVERY_KEY.replace("UnixFilenameStrategy", "MissingFilenameStrategy")
    assert load_config(write(tmp_path / "b", text)).app().use_filename_strategy is False
    off = EVERY_KEY.replace("use_auditlog: true", "use_auditlog: false")
    config = load_config(write(tmp_path / "c", off))
    assert config.app().auditlog_collection == "runway_auditlog" and not config.app().mongorunway_auditlog
    assert any("runway-tui keeps its own in 'runway_auditlog'" in n for n in config.notes)


@pytest.mark.parametrize(("change", "message"), [
    (("UnixFilenameStrategy", "MyStrategy"), r"mongorunway\.yaml:4: mongorunway\.filesystem\.filename_strategy: "
                                             r".*MyStrategy' is not one of Mongorunway's strategies"),
    (("port: 27999", "port: 99999"), r":10: .*app_client\.port: 99999 is not a TCP port"),
    (("app_timezone: Europe/Paris", "app_timezone: Mars/Olympus"), r"app_timezone: 'Mars/Olympus' is not an IANA"),
    (("    scripts_dir: db/migrations\n", ""),
     r"mongorunway\.filesystem\.scripts_dir: required key is missing"),
    (("mongorunway.StartingEvent", "mongorunway.StopEvent"), r"'StopEvent' is not one of Mongorunway's events"),
])
def test_bad_values_are_one_line_with_file_and_line(tmp_path, monkeypatch, change, message):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, EVERY_KEY.replace(*change))
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(path)
    assert "\n" not in str(caught.value)


def test_discovery_searches_down_and_skips_virtualenvs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / ".venv" / "lib", EVERY_KEY)  # a dependency's own file: never ours
    write(tmp_path / "node_modules" / "x", EVERY_KEY)
    write(tmp_path / ".git", EVERY_KEY)
    found = write(tmp_path / "services" / "shop", EVERY_KEY, "mongorunway.yml")
    write(tmp_path / "services" / "zoo", EVERY_KEY)  # sorts after 'shop'
    assert find_config_path() == found.resolve()
    assert load_config().app().compat == "mongorunway"
    write(tmp_path, "scripts_dir: m\napplications:\n  a: {uri: 'mongodb://h', database: d}\n", "runway.yaml")
    assert find_config_path() == (tmp_path / "runway.yaml").resolve()  # ours wins when both are there
    # --config with a folder in the path (Mongorunway only took bare names)
    assert load_config(tmp_path / "services" / "zoo" / "mongorunway.yaml").app().compat == "mongorunway"


def test_a_mongorunway_section_in_any_file_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config(write(tmp_path, EVERY_KEY, "settings.yaml")).app().database == "Shop-2"


def test_configured_event_handlers_run(tmp_path, monkeypatch, mongo_uri, db_name):
    """`app_events` handlers from the project's own package receive our events (with `.application`)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "project_hooks.py").write_text(
        "seen = []\n"
        "def on_start(event):\n    seen.append(('start', event.application.name))\n"
        "def on_close(event):\n    seen.append(('close', event.application.name))\n")
    project = MongorunwayProject(tmp_path, mongo_uri, db_name, extra_app_lines=[
        "app_events:", "  StartingEvent: [project_hooks.on_start]", "  ClosingEvent: [project_hooks.on_close]"])
    project.write_config()
    with MigrationApp(load_config().app("test")):
        import project_hooks  # type: ignore[import-not-found]

        assert project_hooks.seen == [("start", "test")]
    assert project_hooks.seen == [("start", "test"), ("close", "test")]
    monkeypatch.delitem(__import__("sys").modules, "project_hooks")
    bad = MongorunwayProject(tmp_path / "bad", mongo_uri, db_name,
                             extra_app_lines=["app_events:", "  StartingEvent: [project_hooks.missing]"])
    bad.root.mkdir()
    bad.write_config()
    with pytest.raises(ConfigError, match=r"app_events\.StartingEvent: cannot load 'project_hooks\.missing'"):
        MigrationApp(load_config(bad.config_path).app("test"), connect=False)
