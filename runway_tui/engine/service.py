"""The seed's old path of `MigrationService`: it lives in compat/mongorunway/api.py (Mongorunway's API shape)."""

from runway_tui.compat.mongorunway.api import MigrationService

__all__ = ["MigrationService"]
