"""Which store shape an application uses: runway's (`MongoStore`), or Mongorunway's exact documents (compat).

`_mongorunway_shape` is the one place the engine reaches compat for storage; the lead wires it through the
plugin registries (engine/plugins.py) at the merge of issue 19.
"""

from __future__ import annotations

from typing import Any

from pymongo import MongoClient
from pymongo.database import Database

from runway_tui.engine import plugins
from runway_tui.engine.config import AppConfig
from runway_tui.engine.evidence import EvidenceStore
from runway_tui.engine.repository import AuditJournal, MigrationRepository
from runway_tui.engine.sources import SourceStore
from runway_tui.engine.store.mongo import MongoStore
from runway_tui.engine.store.protocol import MigrationStore


def store_for(config: AppConfig, client: MongoClient[dict[str, Any]], database: Database[dict[str, Any]], *,
              combined: bool) -> MigrationStore:
    """`compat: mongorunway` keeps Mongorunway's exact documents, our fields in side collections
    (runway_tui/compat/mongorunway/storage.py); otherwise one extended document each. `combined`: the
    server has the client-level `bulkWrite` (MongoDB 8.0)."""
    sources = SourceStore(database, config.migrations_collection, config.secrets)
    lease = database[config.lock_collection]
    shape = plugins.store_shape(config.compat) if config.compat else None  # compat registers its shapes
    store = (shape(config, database, sources, lease) if shape is not None else
             MongoStore(client, MigrationRepository(database, config.migrations_collection),
                        AuditJournal(database, config.auditlog_collection, config.auditlog_limit), sources, lease,
                        combined=combined))
    # each version's newest state change in the audit log, kept readable at any size (engine/evidence.py)
    store.evidence = EvidenceStore(database, config.auditlog_collection, store.audit)
    return store
