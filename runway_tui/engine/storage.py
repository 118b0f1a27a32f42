"""Which repository and audit journal an application uses: ours, or Mongorunway's shapes (compat)."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from runway_tui.engine.config import AppConfig
from runway_tui.engine.repository import AuditJournal, MigrationRepository


def storage_for(config: AppConfig, database: Database[dict[str, Any]]) -> tuple[MigrationRepository, AuditJournal]:
    """`compat: mongorunway` keeps Mongorunway's exact documents, our fields in side collections
    (runway_tui/compat/mongorunway/storage.py); otherwise one extended document each."""
    if config.compat == "mongorunway":
        from runway_tui.compat.mongorunway.storage import mongorunway_storage

        return mongorunway_storage(config, database)
    return (MigrationRepository(database, config.migrations_collection),
            AuditJournal(database, config.auditlog_collection, config.auditlog_limit))
