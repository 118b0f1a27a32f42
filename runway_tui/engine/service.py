"""`MigrationService`: authoring operations on a session (Mongorunway's shape)."""

from __future__ import annotations

from pathlib import Path

from runway_tui.engine.app import MigrationSession


class MigrationService:
    def __init__(self, session: MigrationSession) -> None:
        self.session = session

    def create_migration_file_template(self, name: str, description: str | None = None) -> Path:
        """Write the next version's file from the template and return its path (never overwrites)."""
        return self.session.app.create_migration_file_template(name, description)
