"""`MigrationSession`: the engine's state in Mongorunway's shape (`app.session.get_current_version()`...).

Moved here from engine/app.py (issue 19); `runway_tui.MigrationSession` and `runway_tui.engine.app.MigrationSession`
still name it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from runway_tui.engine.models import MigrationAuditlogEntry, MigrationReadModel

if TYPE_CHECKING:
    from runway_tui.engine.app import MigrationApp


class MigrationSession:
    """State accessors in Mongorunway's shape (`app.session.get_current_version()`...)."""

    uses_auditlog = True

    def __init__(self, app: MigrationApp) -> None:
        self._app = app

    def get_current_version(self) -> int | None:
        return self._app.repository.current_version()

    def get_all_migration_models(self) -> list[MigrationReadModel]:
        return [r.read_model for r in self._app.repository.all()]

    def get_migration_models_by_flag(self, is_applied: bool) -> list[MigrationReadModel]:
        return [m for m in self.get_all_migration_models() if m.is_applied is is_applied]

    def get_migration_model_by_version(self, version: int) -> MigrationReadModel | None:
        record = self._app.repository.get(version)
        return record.read_model if record else None

    def history(self, start: dt.datetime | None = None, end: dt.datetime | None = None, limit: int | None = 10,
                ascending_date: bool = False) -> Iterator[MigrationAuditlogEntry]:
        yield from self._app.journal.history(limit=limit, ascending=ascending_date, start=start, end=end)

    @property
    def scripts_dir(self) -> Path:
        return self._app.config.scripts_dir

    @property
    def app(self) -> MigrationApp:
        return self._app
