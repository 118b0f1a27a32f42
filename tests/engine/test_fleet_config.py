"""The `fleet:` block: a typed FleetConfig, and errors that name the file, the line and the key (issue 22)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runway_tui.engine.config import load_config
from runway_tui.engine.errors import ConfigError
from runway_tui.engine.fleet.config import Catalog, DatabaseSelector, Wave

FLEET = """\
scripts_dir: migrations
applications:
  tenants:
    fleet:
      targets:
        - uri: ${EU_URI}
          databases: {match: "tenant_*"}
        - uri: mongodb://us.example.com:27017
          databases: {catalog: {database: admin_app, collection: tenants, field: db, filter: {active: true}}}
        - uri: mongodb://ap.example.com:27017
          databases: {list: [alpha, beta]}
      concurrency: 8
      max_failures: 2
      waves: [{name: canary, match: "tenant_000*"}, {name: rest}]
      control: {uri: "${EU_URI}", database: runway_fleet}
    timeouts: {lock_ttl_s: 7}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "runway.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


def test_the_issue_example_is_a_typed_fleet_and_every_other_key_applies(tmp_path, monkeypatch):
    monkeypatch.setenv("EU_URI", "mongodb://user:s3cret@eu.example.com:27017")
    app = load_config(write(tmp_path, FLEET)).app("tenants")
    fleet = app.fleet
    assert [t.databases for t in fleet.targets] == [
        DatabaseSelector(match="tenant_*"),
        DatabaseSelector(catalog=Catalog("admin_app", "tenants", "db", {"active": True})),
        DatabaseSelector(names=("alpha", "beta")),
    ]
    assert fleet.targets[0].uri == "mongodb://user:s3cret@eu.example.com:27017"
    assert "s3cret" not in repr(fleet) and "s3cret" not in fleet.targets[0].masked_uri
    assert (fleet.concurrency, fleet.max_failures) == (8, 2)
    assert fleet.waves == (Wave("canary", "tenant_000*"), Wave("rest"))
    assert (fleet.control.uri, fleet.control.database) == (fleet.targets[0].uri, "runway_fleet")
    assert app.timeouts.lock_ttl_s == 7  # the application's keys are each tenant's


def test_defaults_one_wave_control_on_the_first_target_and_the_apps_own_database_as_a_target(tmp_path):
    app = load_config(write(tmp_path, """\
        scripts_dir: migrations
        applications:
          tenants:
            uri: mongodb://a.example.com:27017
            database: main
            fleet:
              targets:
                - uri: mongodb://b.example.com:27017
                  databases: {match: "t_*"}
        """)).app("tenants")
    fleet = app.fleet
    assert [t.databases for t in fleet.targets] == [DatabaseSelector(names=("main",)),
                                                     DatabaseSelector(match="t_*")]
    assert fleet.waves == (Wave("all"),) and fleet.max_failures == 0 and fleet.concurrency >= 1
    assert fleet.control.uri == "mongodb://a.example.com:27017"
    assert fleet.control.database == "runway_fleet"


@pytest.mark.parametrize(("block", "line", "key", "says"), [
    ("      concurrency: 0\n", 6, "applications.tenants.fleet.concurrency", "at least 1"),
    ("      max_failures: -1\n", 6, "applications.tenants.fleet.max_failures", "at least 0"),
    ("      paralel: 3\n", 6, "applications.tenants.fleet.paralel", "unknown key"),
    ("      waves: [{name: a}, {name: b}]\n", 6, "applications.tenants.fleet.waves[0]", "only the last wave"),
    ("      waves: [{name: a, match: 'x*'}, {name: a}]\n", 6, "applications.tenants.fleet.waves[1].name",
     "named twice"),
    ("      control: {database: admin}\n", 6, "applications.tenants.fleet.control.database", "server's own"),
])
def test_a_bad_fleet_key_names_the_file_line_and_key(tmp_path, block, line, key, says):
    text = ("scripts_dir: migrations\napplications:\n  tenants:\n    fleet:\n      targets: "
            "[{uri: 'mongodb://a:1', databases: {match: 't_*'}}]\n" + block)
    path = tmp_path / "runway.yaml"
    path.write_text(text)
    message = error_of(path)
    assert f"{path}:{line}: {key}:" in message and says in message


def test_a_target_needs_exactly_one_way_to_find_its_databases_and_a_uri(tmp_path):
    path = write(tmp_path, """\
        scripts_dir: migrations
        applications:
          tenants:
            fleet:
              targets:
                - uri: mongodb://a.example.com:27017
                  databases: {match: "t_*", list: [a]}
                - databases: {list: [a]}
                - uri: mongodb://c.example.com:27017
                  databases: {list: ["bad.name"]}
        """)
    message = error_of(path)
    assert f"{path}:7: applications.tenants.fleet.targets[0].databases: give exactly one of" in message
    assert f"{path}:8: applications.tenants.fleet.targets[1].uri: required key is missing" in message
    assert f"{path}:10: applications.tenants.fleet.targets[2].databases.list[0]:" in message
    assert "not a valid database name" in message


def test_a_fleet_without_targets_is_refused_and_a_plain_app_still_needs_uri_and_database(tmp_path):
    path = write(tmp_path, """\
        scripts_dir: migrations
        applications:
          tenants:
            fleet: {concurrency: 2}
          plain:
            read_only: true
        """)
    message = error_of(path)
    assert f"{path}:4: applications.tenants.fleet.targets: a fleet needs at least one target" in message
    assert f"{path}:6: applications.plain.uri: required key is missing" in message


def test_a_target_password_never_appears_in_an_error(tmp_path):
    path = write(tmp_path, """\
        scripts_dir: migrations
        applications:
          tenants:
            fleet:
              targets:
                - uri: mongodb://u:hunter2@a.example.com:27017
                  databases: {match: "t_*"}
              concurrency: many
        """)
    message = error_of(path)
    assert "concurrency" in message and "hunter2" not in message
