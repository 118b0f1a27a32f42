"""`migration_service.MigrationService(app.session)`, as Mongorunway's scripts create it."""

from runway_tui.compat.mongorunway.api import MigrationService

__all__ = ["MigrationService"]
