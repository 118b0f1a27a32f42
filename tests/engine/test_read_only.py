"""Read-only: the engine itself refuses every mutating operation and sends no write command."""

from __future__ import annotations

import pytest

from runway_tui.compat.mongorunway.api import MigrationService
from runway_tui.engine.app import MigrationApp
from runway_tui.engine.errors import ExitCode, ReadOnlyError
from runway_tui.engine.models import Direction
from tests.engine.helpers import app_config, data_migration, open_app


@pytest.mark.parametrize("source", ["argument", "config"])
def test_every_mutating_operation_is_refused_without_writing(recorder, project, mongo_client, source):
    project.write_migration(1, "a", data_migration(1))
    project.write_migration(2, "b", data_migration(2))
    with open_app(project) as setup:
        setup.upgrade()
    path = project.scripts_dir / "001_a.py"
    path.write_text(path.read_text() + "# drift\n")
    before_files = sorted(p.name for p in project.scripts_dir.iterdir())
    recorder.clear()
    if source == "argument":
        app = open_app(project, read_only=True)
    else:
        app = MigrationApp(app_config(project, read_only=True))
        assert app.config.read_only
    with app:
        assert app.read_only
        operations = {
            "refresh": app.refresh,
            "template": lambda: app.create_migration_file_template("nope"),
            "service template": lambda: MigrationService(app.session).create_migration_file_template("nope"),
            "up": app.upgrade,
            "up all": lambda: app.upgrade(all_=True),
            "down": app.downgrade,
            "upgrade_once": app.upgrade_once,
            "downgrade_to": lambda: app.downgrade_to(0),
            "mark": lambda: app.mark(2, applied=True),
            "accept": lambda: app.accept(1),
            "unlock": lambda: app.unlock(force=True),
        }
        for name, operation in operations.items():
            with pytest.raises(ReadOnlyError) as info:
                operation()
            assert "read-only" in str(info.value), name
            assert info.value.exit_code == ExitCode.BAD_INPUT
        # inspection still works
        assert app.status().current_version == 1
        assert [s.version for s in app.plan(Direction.UP, ignore_drift=True).steps] == [2]
        assert len(app.history()) == 1
    assert recorder.names()
    assert recorder.writes() == []
    assert sorted(p.name for p in project.scripts_dir.iterdir()) == before_files
    db = mongo_client[project.db_name]
    assert db["migrations"].find_one({"_id": 2})["is_applied"] is False
    assert db["things"].count_documents({}) == 1


def test_config_read_only_applies_when_no_argument_is_given(project):
    with MigrationApp(app_config(project, read_only=True), read_only=None) as app:
        assert app.read_only
        with pytest.raises(ReadOnlyError):
            app.refresh()
