"""Mongorunway's Python API over our one engine API: `MigrationService` and the use cases.

`runway_tui.application.use_cases` and `runway_tui.application.services.migration_service` (Mongorunway's
`mongorunway.application...` paths with the package name changed) re-export these; so do `runway_tui`'s
`use_cases` and `MigrationService`, over `MigrationSession` (Mongorunway's `app.session`, session.py) beside
`MigrationApp` in engine/app.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runway_tui.compat.mongorunway.session import MigrationSession
from runway_tui.engine.app import MigrationApp
from runway_tui.engine.errors import ExitCode, RunwayError
from runway_tui.engine.messages import print_traceback, visible

logger = logging.getLogger("runway_tui")


class MigrationService:
    """Authoring operations on a session (Mongorunway's shape: `MigrationService(app.session)`)."""

    def __init__(self, session: MigrationSession) -> None:
        self.session = session

    def create_migration_file_template(self, name: str, description: str | None = None) -> Path:
        """Write the next version's file from the template and return its path (never overwrites)."""
        return self.session.app.create_migration_file_template(name, description)


# ----------------------------------------------------------------- use cases: an exit code instead of raising


def _guarded(action: Callable[[], Any], app: MigrationApp, verbose_exc: bool) -> ExitCode:
    try:
        action()
    except RunwayError as exc:
        logger.error("%s", visible(app.redact(str(exc))))
        if verbose_exc:
            print_traceback(exc, app.redact)
        return exc.exit_code
    return ExitCode.OK


def refresh(app: MigrationApp, verbose_exc: bool = False) -> ExitCode:
    """Synchronise the files with the migrations collection."""
    return _guarded(app.refresh, app, verbose_exc)


def upgrade(app: MigrationApp, steps: int | None = None, to: int | None = None, all_: bool = False,
            verbose_exc: bool = False) -> ExitCode:
    return _guarded(lambda: app.upgrade(steps=steps, to=to, all_=all_), app, verbose_exc)


def downgrade(app: MigrationApp, steps: int | None = None, to: int | None = None, all_: bool = False,
              verbose_exc: bool = False) -> ExitCode:
    return _guarded(lambda: app.downgrade(steps=steps, to=to, all_=all_), app, verbose_exc)


def check(app: MigrationApp, verbose_exc: bool = False) -> ExitCode:
    """VALIDATION_FAILED when anything needs attention (drift, orphans, broken files, failed state)."""
    try:
        report = app.status()
    except RunwayError as exc:
        logger.error("%s", visible(app.redact(str(exc))))
        return exc.exit_code
    return ExitCode.OK if report.is_clean else ExitCode.VALIDATION_FAILED
