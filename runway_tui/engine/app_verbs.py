"""The engine API's convenience names on `MigrationApp`: events, Mongorunway's counting verbs
(`upgrade_once()`...), the audit log's reads, the explorer's overview and a backfill's pause flags. Each is one
line over the app's parts; they live apart so that app.py reads as the connection and the operations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from pymongo.errors import PyMongoError

from runway_tui.engine import overview
from runway_tui.engine.errors import ChangeStreamError
from runway_tui.engine.events import EventBus, MigrationEvent

if TYPE_CHECKING:
    from pymongo import MongoClient
    from pymongo.database import Database

    from runway_tui.engine.audit_reader import AuditReader
    from runway_tui.engine.backfill.control import BackfillControl
    from runway_tui.engine.connection import ServerInfo
    from runway_tui.engine.models import MigrationAuditlogEntry, RunResult
    from runway_tui.engine.state_at import StateAt
    from runway_tui.engine.store.collections import OwnCollections
    from runway_tui.engine.timespec import TimeSpec
    from runway_tui.engine.watch import ChangeWatch


class AppVerbs:
    """Mixed into `MigrationApp` (which provides the attributes and methods declared here)."""

    events: EventBus
    audit_log: AuditReader
    backfill_control: BackfillControl
    identity: str
    upgrade: Callable[..., RunResult]
    downgrade: Callable[..., RunResult]
    guard_connection: Callable[..., AbstractContextManager[None]]
    server_info: ServerInfo
    shown_address: str
    database: Database[dict[str, Any]]
    own_collections: OwnCollections
    client: MongoClient[dict[str, Any]]
    redact: Callable[[str], str]

    # ------------------------------------------------------------------ events
    def listen(self, *event_types: type[MigrationEvent]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self.events.listen(*event_types)

    def subscribe(self, handler: Callable[..., Any], *event_types: type[MigrationEvent]) -> Callable[..., Any]:
        return self.events.subscribe(handler, *event_types)

    def unsubscribe(self, handler: Callable[..., Any]) -> None:
        self.events.unsubscribe(handler)

    def emit(self, event: MigrationEvent) -> None:
        self.events.dispatch(event)

    # ------------------------------------------------------------------ the server
    def watch_changes(self) -> ChangeWatch:
        """A change stream on runway's own collections, already open (engine/watch.py): another operator's
        changes from now on. Raises ChangeStreamError where there is none (a standalone server)."""
        from runway_tui.engine.watch import ChangeWatch

        if not self.server_info.supports_change_streams:
            raise ChangeStreamError(f"the server at {self.shown_address} is {self.server_info.topology}: no change "
                                    "streams")
        return ChangeWatch(self.database, self.own_collections.meanings(), self.shown_address, self.redact).open()

    def ping(self) -> bool:
        try:
            self.client.admin.command("ping")
            return True
        except PyMongoError:
            return False

    # ------------------------------------------------------------------ Mongorunway's verbs: how many steps ran
    def upgrade_once(self) -> int:
        return len(self.upgrade().completed)

    def downgrade_once(self) -> int:
        return len(self.downgrade().completed)

    def upgrade_to(self, version: int) -> int:
        return len(self.upgrade(to=version).completed)

    def downgrade_to(self, version: int) -> int:
        return len(self.downgrade(to=version).completed)

    def upgrade_all(self) -> int:
        return len(self.upgrade(all_=True).completed)

    def downgrade_all(self) -> int:
        return len(self.downgrade(all_=True).completed)

    # ------------------------------------------------------------------ the audit log (engine/audit_reader.py)
    def history(self, *args: Any, **kwargs: Any) -> list[MigrationAuditlogEntry]:
        """Audit entries, newest first (`AuditReader.history`: its filters and paging)."""
        return self.audit_log.history(*args, **kwargs)

    def state_at(self, at: dt.datetime | TimeSpec | str) -> StateAt:
        return self.audit_log.state_at(at)

    def history_since(self, shown: list[MigrationAuditlogEntry], limit: int) -> list[MigrationAuditlogEntry] | None:
        return self.audit_log.history_since(shown, limit)

    def stored_source(self, version: int, checksum: str) -> str | None:
        return self.audit_log.stored_source(version, checksum)

    def history_count(self, version: int | None = None, text: str | None = None) -> int:
        return self.audit_log.history_count(version, text)

    # ------------------------------------------------------------------ database overview (engine/overview.py)
    def database_overview(self) -> list[dict[str, Any]]:
        """Collections with estimated count, size, index count and validator presence."""
        with self.guard_connection():
            return overview.collections_overview(self)

    def collections_list(self) -> list[dict[str, Any]]:
        """The collections, without statistics (one command): fill them with `collection_stats`."""
        with self.guard_connection():
            return overview.collections_list(self)

    def collection_stats(self, name: str) -> dict[str, Any]:
        with self.guard_connection():
            return overview.collection_stats(self, name)

    def collection_detail(self, name: str, sample: int = 5) -> dict[str, Any]:
        with self.guard_connection():
            return overview.collection_detail(self, name, sample)

    # ------------------------------------------------------------------ a running backfill (engine/backfill/)
    def pause_backfill(self) -> None:
        """Ask the running backfill to stop after its current batch and wait, the lease held (thread-safe, no
        database call: the step's worker writes what it must). Other operators see who paused it."""
        self.backfill_control.pause(self.identity)

    @property
    def backfill_pause_asked(self) -> bool:
        return self.backfill_control.asked().request.value == "pause"

    def resume_backfill(self) -> None:
        self.backfill_control.resume(self.identity)

    def cancel_backfill(self) -> None:
        """Stop the running backfill after its current batch: the migration is left `paused` at its checkpoint and
        the lease released; the next `up` resumes it."""
        self.backfill_control.cancel(self.identity)

