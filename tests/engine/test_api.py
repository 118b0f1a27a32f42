"""The Python API: the seed scenario in its exact shape, the other entry points, the example script."""

from __future__ import annotations

import re

import pytest

import runway_tui
from runway_tui import MigrationService, use_cases
from runway_tui.engine.errors import ConfigError, ExitCode
from tests.engine.helpers import data_migration
from tests.support.shapes import BYTES_LITERAL, printed_session_ids


def test_seed_scenario(project, monkeypatch, capsys):
    monkeypatch.chdir(project.root)
    closed: list[int] = []
    app = runway_tui.create_app("test", config="runway.yaml", raise_on_none=True, verbose_exc=True)

    @app.listen()
    def on_app_close(event: runway_tui.ClosingEvent) -> None:
        closed.append(1)
        print(f"{event.application.name!r} app successfully closed.")

    service = MigrationService(app.session)
    assert app.session.get_current_version() is None
    path = service.create_migration_file_template("my_awesome_migration")
    assert path == project.scripts_dir / "001_my_awesome_migration.py"
    assert len(app.session.get_all_migration_models()) == 0
    assert use_cases.refresh(app, verbose_exc=True) == ExitCode.OK
    assert len(app.session.get_all_migration_models()) == 1
    assert app.upgrade_once() == 1
    assert app.session.uses_auditlog
    for entry in app.session.history():
        print(entry)
    app.close()
    app.close()
    out = capsys.readouterr().out
    assert re.search(rf"MigrationAuditlogEntry\(session_id=Binary\({BYTES_LITERAL}, 4\), "
                     r"transaction_name='UpgradeTransaction', migration_read_model=MigrationReadModel\("
                     r"name='001_my_awesome_migration', version=1, checksum='[0-9a-f]{32}', "
                     r"description='my_awesome_migration', is_applied=False\)", out), out
    (session_id,) = printed_session_ids(out)
    assert len(session_id) == 16
    assert out.count("'test' app successfully closed.") == 1
    assert closed == [1]
    assert app.closed


def test_steps_and_context_manager(project):
    for version in (1, 2, 3):
        project.write_migration(version, f"m{version}", data_migration(version))
    with runway_tui.create_app(config=project.config_path) as app:
        use_cases.refresh(app)
        assert app.upgrade_to(3) == 3
        assert app.session.get_current_version() == 3
        assert app.downgrade_once() == 1
        assert app.session.get_current_version() == 2
        assert app.downgrade_to(0) == 2
        assert app.session.get_current_version() is None
        assert [m.version for m in app.session.get_migration_models_by_flag(False)] == [1, 2, 3]
        assert app.session.get_migration_model_by_version(2).name == "002_m2"
        assert use_cases.upgrade(app, all_=True) == ExitCode.OK
        assert use_cases.check(app) == ExitCode.OK
        assert use_cases.downgrade(app, to=99) == ExitCode.BAD_INPUT
    assert app.closed


def test_create_app_errors(project, caplog):
    assert runway_tui.create_app("nope", config=project.config_path) is None
    assert "unknown application 'nope'" in caplog.text
    with pytest.raises(ConfigError, match="unknown application 'nope'"):
        runway_tui.create_app("nope", config=project.config_path, raise_on_none=True)


def test_public_exports():
    for name in ("create_app", "ClosingEvent", "MigrationService", "use_cases", "MigrationAuditlogEntry",
                 "MigrationReadModel", "StepAppliedEvent", "StepFailedEvent", "LockAcquiredEvent",
                 "RefreshDoneEvent", "PlanComputedEvent"):
        assert hasattr(runway_tui, name), name

