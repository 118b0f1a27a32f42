"""Configuration: validation errors name file:line:key, interpolation, no value mangling, discovery."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runway_tui.engine.config import find_config_path, load_config
from runway_tui.engine.config.runway_yaml import APP_KEYS as _APP_KEYS
from runway_tui.engine.config.runway_yaml import TIMEOUT_KEYS as _TIMEOUT_KEYS
from runway_tui.engine.config.runway_yaml import TOP_KEYS as _TOP_KEYS
from runway_tui.engine.config.runway_yaml import TUI_KEYS as _TUI_KEYS
from runway_tui.engine.errors import ConfigError, ExitCode

BASE = """\
scripts_dir: migrations
default_app: dev
applications:
  dev:
    uri: mongodb://127.0.0.1:27017
    database: shop
  prod:
    uri: mongodb://db.example.com:27017
    database: shop
"""


def write(tmp_path: Path, text: str, name: str = "runway.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path).app()
    message = str(info.value)
    assert "\n" not in message, "config errors are one line"
    assert info.value.exit_code == ExitCode.BAD_INPUT
    return message


def test_valid_config_keeps_values_and_resolves_scripts_dir_relative_to_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, BASE)
    monkeypatch.chdir("/")
    config = load_config(path)
    assert config.scripts_dir == (tmp_path / "migrations").resolve()
    dev = config.app()
    assert dev.name == "dev"
    assert dev.uri == "mongodb://127.0.0.1:27017"
    assert dev.database == "shop"
    assert (dev.migrations_collection, dev.auditlog_collection, dev.lock_collection) == (
        "migrations", "auditlog", "migrations_lock")
    assert dev.read_only is False and dev.production is False
    assert config.app_names == ["dev", "prod"]


def test_unknown_key_names_file_line_key_and_suggests(tmp_path):
    path = write(tmp_path, BASE.replace("    database: shop\n  prod", "    databse: shop\n  prod"))
    message = error_of(path)
    assert message.startswith(f"{path}:6: applications.dev.databse: unknown key")
    assert "did you mean 'database'?" in message


def test_unknown_top_level_key_suggests(tmp_path):
    path = write(tmp_path, "scripts_dri: m\n" + BASE)
    message = error_of(path)
    assert message.startswith(f"{path}:1: scripts_dri: unknown key")
    assert "did you mean 'scripts_dir'?" in message


def test_unknown_key_without_close_match_has_no_suggestion(tmp_path):
    path = write(tmp_path, BASE + "    zzzzzz: 1\n")
    message = error_of(path)
    assert f"{path}:10: applications.prod.zzzzzz: unknown key" in message
    assert "did you mean" not in message


@pytest.mark.parametrize(("lines", "key", "expected"), [
    ("    read_only: maybe", "applications.prod.read_only", "expected true or false, got 'maybe'"),
    ("    production: 1", "applications.prod.production", "expected true or false"),
    ("    auditlog_limit: lots", "applications.prod.auditlog_limit", "expected a whole number, got 'lots'"),
    ("    auditlog_limit: 2.5", "applications.prod.auditlog_limit", "expected a whole number"),
    ("    lock_collection: [a, b]", "applications.prod.lock_collection", "expected a string, got a list"),
    ("    timeouts: 5", "applications.prod.timeouts", "expected a mapping"),
    ("    timeouts:\n      connect_ms: 10\n      lock_wait_s: soon", "applications.prod.timeouts.lock_wait_s",
     "expected a number, got 'soon'"),
])
def test_wrong_type_names_file_line_key(tmp_path, lines, key, expected):
    path = write(tmp_path, BASE + lines + "\n")
    line_no = 10 + lines.count("\n")  # BASE has 9 lines; the bad value is the last line written
    message = error_of(path)
    assert message.startswith(f"{path}:{line_no}: {key}: "), message
    assert expected in message


def test_applications_must_be_a_mapping(tmp_path):
    path = write(tmp_path, "scripts_dir: m\napplications:\n  - dev\n")
    message = error_of(path)
    assert f"{path}:3: applications:" in message
    assert "mapping" in message


def test_missing_required_key(tmp_path):
    path = write(tmp_path, BASE.replace("    database: shop\n  prod", "  prod"))
    message = error_of(path)
    assert message.startswith(f"{path}:")
    assert "applications.dev.database: required key is missing" in message
    path = write(tmp_path, BASE.replace("scripts_dir: migrations\n", ""))
    assert "scripts_dir: required key is missing" in error_of(path)


def test_empty_and_invalid_yaml(tmp_path):
    assert "empty" in error_of(write(tmp_path, ""))
    message = error_of(write(tmp_path, "scripts_dir: [unclosed\napplications: {}\n"))
    assert message.startswith(f"{tmp_path / 'runway.yaml'}:") and "not valid YAML" in message


def test_unknown_application_suggests(tmp_path):
    config = load_config(write(tmp_path, BASE))
    with pytest.raises(ConfigError) as info:
        config.app("prdo")
    message = str(info.value)
    assert str(tmp_path / "runway.yaml") in message
    assert "unknown application 'prdo'" in message and "did you mean 'prod'?" in message
    assert "known: dev, prod" in message


def test_default_app_naming_nothing_is_an_error(tmp_path):
    message = error_of(write(tmp_path, BASE.replace("default_app: dev", "default_app: dve")))
    assert message.startswith(f"{tmp_path / 'runway.yaml'}:2: default_app: names no application")
    assert "did you mean 'dev'?" in message


@pytest.mark.parametrize("uri", ["http://localhost:27017", "localhost:27017", "mongodb://host:notaport",
                                 "mongodb+srv://host:27017"])
def test_bad_uri_names_file_line_key(tmp_path, uri):
    path = write(tmp_path, BASE.replace("mongodb://127.0.0.1:27017", f'"{uri}"'))
    message = error_of(path)
    assert message.startswith(f"{path}:5: applications.dev.uri: ")
    assert "URI" in message


def test_bad_uri_error_masks_the_password(tmp_path):
    path = write(tmp_path, BASE.replace("mongodb://127.0.0.1:27017", '"mongodb://bob:hunter22@host:badport"'))
    message = error_of(path)
    assert "hunter22" not in message
    assert "applications.dev.uri" in message


def test_values_are_never_converted(tmp_path):
    text = """\
    scripts_dir: 0123
    applications:
      dev:
        uri: mongodb://app:pa55word@127.0.0.1:27017/?replicaSet=rs0
        database: 0123
        migrations_collection: yes
        auditlog_collection: "27017"
        lock_collection: 1e3
    tui:
      theme: no
    """
    config = load_config(write(tmp_path, text))
    dev = config.app()
    assert dev.uri == "mongodb://app:pa55word@127.0.0.1:27017/?replicaSet=rs0"
    assert dev.database == "0123"
    assert dev.migrations_collection == "yes"
    assert dev.auditlog_collection == "27017"
    assert dev.lock_collection == "1e3"
    assert config.tui.theme == "no"
    assert config.scripts_dir.name == "0123"


def test_environment_interpolation(tmp_path, monkeypatch):
    monkeypatch.setenv("RW_HOST", "10.0.0.5")
    monkeypatch.setenv("RW_EMPTY", "")
    monkeypatch.delenv("RW_MISSING", raising=False)
    monkeypatch.delenv("RW_PASSWORD", raising=False)
    text = """\
    scripts_dir: ${RW_MISSING:-migrations}
    applications:
      dev:
        uri: mongodb://${RW_HOST}:27017
        database: ${RW_EMPTY:-fallback_db}
        timeouts:
          lock_wait_s: ${RW_MISSING:-7}
      nested:
        uri: ${RW_MISSING:-mongodb://app:${RW_PASSWORD:-s3cret}@db.example.com:27017}
        database: d
    tui:
      theme: cost$$theme
    """
    config = load_config(write(tmp_path, text))
    dev = config.app("dev")
    assert dev.uri == "mongodb://10.0.0.5:27017"
    assert dev.database == "fallback_db"
    assert dev.timeouts.lock_wait_s == 7
    assert config.scripts_dir.name == "migrations"
    nested = config.app("nested")
    assert nested.uri == "mongodb://app:s3cret@db.example.com:27017"
    assert config.tui.theme == "cost$theme"
    monkeypatch.setenv("RW_PASSWORD", "fromenv")
    assert load_config(tmp_path / "runway.yaml").app("nested").uri == "mongodb://app:fromenv@db.example.com:27017"


def test_missing_variable_names_file_line_key_and_only_stops_that_app(tmp_path, monkeypatch):
    monkeypatch.delenv("RW_PROD_URI", raising=False)
    path = write(tmp_path, BASE.replace("mongodb://db.example.com:27017", "${RW_PROD_URI}"))
    config = load_config(path)
    assert config.app("dev").database == "shop"  # the other application still works
    with pytest.raises(ConfigError) as info:
        config.app("prod")
    message = str(info.value)
    assert message.startswith(f"{path}:8: applications.prod.uri: environment variable RW_PROD_URI is not set")


def test_bad_variable_syntax(tmp_path):
    message = error_of(write(tmp_path, BASE.replace("database: shop\n  prod", "database: ${oops\n  prod")))
    assert message.startswith(f"{tmp_path / 'runway.yaml'}:6: applications.dev.database: ")


def test_collections_must_differ(tmp_path):
    text = BASE.replace("    database: shop\n  prod", "    database: shop\n    auditlog_collection: migrations\n  prod")
    message = error_of(write(tmp_path, text))
    assert "applications.dev" in message and "different" in message


def test_discovery_order(tmp_path, monkeypatch):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    local = write(cwd, BASE)
    env_file = write(tmp_path, BASE, "from_env.yaml")
    explicit = write(tmp_path, BASE, "explicit.yaml")
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("RUNWAY_CONFIG", raising=False)
    assert find_config_path() == local.resolve()
    monkeypatch.setenv("RUNWAY_CONFIG", str(env_file))
    assert find_config_path() == env_file.resolve()
    assert find_config_path(explicit) == explicit.resolve()
    assert load_config(explicit).path == explicit.resolve()


def test_discovery_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUNWAY_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="no configuration found"):
        find_config_path()
    write(tmp_path, BASE)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")  # Mongorunway B16: a parent's file is not picked up by walking
    with pytest.raises(ConfigError, match="no configuration found"):
        find_config_path()
    monkeypatch.setenv("RUNWAY_CONFIG", str(tmp_path / "nope.yaml"))
    with pytest.raises(ConfigError, match=r"nope\.yaml: configuration file not found \(from RUNWAY_CONFIG\)"):
        find_config_path()
    with pytest.raises(ConfigError, match=r"other\.yaml: configuration file not found \(from --config\)"):
        find_config_path(tmp_path / "other.yaml")


def test_application_selection_order(tmp_path, monkeypatch):
    monkeypatch.delenv("RUNWAY_APP", raising=False)
    config = load_config(write(tmp_path, BASE))
    assert config.app().name == "dev"  # default_app
    monkeypatch.setenv("RUNWAY_APP", "prod")
    assert config.app().name == "prod"  # RUNWAY_APP beats default_app
    assert config.app("dev").name == "dev"  # --app beats RUNWAY_APP


def test_only_application_is_chosen_and_several_without_default_is_an_error(tmp_path, monkeypatch):
    monkeypatch.delenv("RUNWAY_APP", raising=False)
    single = load_config(write(tmp_path, "scripts_dir: m\napplications:\n  solo:\n    uri: embedded\n"
                                         "    database: d\n", "single.yaml"))
    assert single.app().name == "solo"
    assert single.app().is_embedded
    several = load_config(write(tmp_path, BASE.replace("default_app: dev\n", ""), "several.yaml"))
    with pytest.raises(ConfigError, match="several applications"):
        several.app()


def test_sample_config_is_valid_and_documents_every_key(monkeypatch):
    monkeypatch.delenv("PROD_MONGODB_URI", raising=False)
    monkeypatch.setenv("PROD_DB_PASSWORD", "pw")
    sample = Path(__file__).resolve().parents[2] / "sample_config.yaml"
    config = load_config(sample)
    assert config.app("dev").is_embedded
    assert config.app("dev").embedded_dir == sample.parent / ".runway" / "embedded"
    assert config.app("prod").read_only is True
    assert "app:pw@" in config.app("prod").uri
    lines = sample.read_text().splitlines()
    keys = {*_TOP_KEYS, *_APP_KEYS, *_TIMEOUT_KEYS, *_TUI_KEYS}
    for key in keys:
        found = [i for i, line in enumerate(lines) if line.strip().startswith(f"{key}:")]
        assert found, f"sample_config.yaml does not show {key}"
        i = found[0]
        assert "#" in lines[i] or lines[i - 1].strip().startswith("#"), f"{key} has no comment"


SEVERAL_ERRORS = """\
scripts_dir: migrations
default_app: dev
colour: blue
applications:
  dev:
    uri: mongodb://127.0.0.1:27017
    databse: shop
    auditlog_limit: lots
    timeouts:
      lock_wait_s: soon
  prod:
    uri: mongodb://db.example.com:27017
    database: shop
    read_only: maybe
tui:
  theme: nrod
  poll_interval_s: 0
  keymap:
    migrate-upp: ctrl+u
    refresh: ctrl+r
"""


def test_several_errors_are_reported_together_one_line_each_in_file_order(tmp_path):
    """One read reports every error of the file (unknown keys, bad types, bad values, unknown keymap id and
    theme), so one edit fixes them all; each names its line and key, in the order of the file."""
    from runway_tui.engine.config import TuiNames
    from runway_tui.engine.errors import ConfigErrors

    path = write(tmp_path, SEVERAL_ERRORS)
    names = TuiNames(keymap_ids=("migrate-up", "refresh"), themes=("nord", "textual-dark"))
    with pytest.raises(ConfigErrors) as info:
        load_config(path, tui_names=names)
    problems = info.value.problems
    assert info.value.exit_code == ExitCode.BAD_INPUT
    assert problems == [
        f"{path}:3: colour: unknown key",
        f"{path}:7: applications.dev.databse: unknown key (did you mean 'database'?)",
        f"{path}:8: applications.dev.auditlog_limit: expected a whole number, got 'lots'",
        f"{path}:10: applications.dev.timeouts.lock_wait_s: expected a number, got 'soon'",
        f"{path}:14: applications.prod.read_only: expected true or false, got 'maybe'",
        f"{path}:16: tui.theme: unknown theme 'nrod' (did you mean 'nord'?)",
        f"{path}:17: tui.poll_interval_s: must be a positive number",
        f"{path}:19: tui.keymap.migrate-upp: unknown binding id (did you mean 'migrate-up'?)",
    ]
    assert str(info.value) == "\n".join(problems)


def test_one_error_stays_one_plain_line_and_names_are_only_checked_when_given(tmp_path):
    """A lone error is the one line it always was; without the TUI's names the keymap and theme are not judged
    (the CLI knows no Textual themes)."""
    text = SEVERAL_ERRORS.replace("colour: blue\n", "").replace("databse", "database").replace(
        "lots", "5").replace("soon", "3").replace("maybe", "true").replace("poll_interval_s: 0", "poll_interval_s: 1")
    path = write(tmp_path, text)
    config = load_config(path)
    assert config.tui.theme == "nrod" and "migrate-upp" in config.tui.keymap
    from runway_tui.engine.config import TuiNames

    with pytest.raises(ConfigError) as info:
        load_config(path, tui_names=TuiNames(keymap_ids=("migrate-up", "refresh"), themes=("nord",)))
    assert info.value.problems == [f"{path}:15: tui.theme: unknown theme 'nrod' (did you mean 'nord'?)",
                                   f"{path}:18: tui.keymap.migrate-upp: unknown binding id (did you mean "
                                   f"'migrate-up'?)"]
