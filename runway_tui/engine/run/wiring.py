"""How `MigrationApp` comes together: `open_connection` (the server, its client, what runway keeps there) and
`assemble` (the engine's parts over that connection). The composition root: each part gets narrow
dependencies; only this module sees the app whole."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runway_tui.engine.audit_reader import AuditReader
from runway_tui.engine.config import AppConfig
from runway_tui.engine.connection import ServerInfo, make_client, probe_server, unreachable
from runway_tui.engine.embedded import EmbeddedServer
from runway_tui.engine.errors import RunwayError
from runway_tui.engine.events import StateChangedEvent
from runway_tui.engine.guard import OwnCollectionsGuard
from runway_tui.engine.lock import MigrationLock, ServerClock
from runway_tui.engine.run.deps import BackfillSetup, RunDeps, RunEvents, RunJournal, RunTarget
from runway_tui.engine.run.entries import AuditEntries
from runway_tui.engine.run.evidence_book import EvidenceBook
from runway_tui.engine.run.loading import ScriptLoader
from runway_tui.engine.run.locking import LeaseHolding, LeaseParts
from runway_tui.engine.run.operation import Operation
from runway_tui.engine.run.refresh import sync
from runway_tui.engine.run.session import RunSession
from runway_tui.engine.run.stepping import StepParts, StepRuns
from runway_tui.engine.runner import DATE_FMT, StepRunner
from runway_tui.engine.storage import store_for
from runway_tui.engine.uri import mask_uri

if TYPE_CHECKING:
    from pymongo import MongoClient
    from pymongo.database import Database

    from runway_tui.engine.app import MigrationApp
    from runway_tui.engine.store.collections import OwnCollections
    from runway_tui.engine.store.protocol import MigrationStore


@dataclass(frozen=True)
class Connection:
    """What connecting opens. `shown_address` is what front ends display: never a password."""

    shown_address: str
    embedded: EmbeddedServer | None
    guard: OwnCollectionsGuard  # sees what a migration sends through `ctx` to runway's own collections
    client: MongoClient[dict[str, Any]]
    server_info: ServerInfo
    database: Database[dict[str, Any]]
    store: MigrationStore  # ours, or Mongorunway's exact shapes with our fields beside them
    lock: MigrationLock
    own_collections: OwnCollections  # the one answer to "which collections are runway's"
    sessions: RunSession


def open_connection(config: AppConfig, *, user: str, host: str, front_end: str) -> Connection:
    """Start the embedded daemon if configured, connect, and learn the server's capabilities."""
    uri, embedded = config.uri, None
    shown = mask_uri(uri)
    if config.is_embedded:
        embedded = EmbeddedServer(config.embedded_dir, config.timeouts.embedded_start_s,
                                  grace_s=config.timeouts.embedded_grace_s)
        uri = embedded.start()
        shown = f"embedded ({uri.split('?')[0]})"
    guard = OwnCollectionsGuard()
    client = make_client(uri, config, event_listeners=[guard],
                         **({"directConnection": True} if config.is_embedded else {}))
    try:
        info = probe_server(client, config, shown)
    except RunwayError:
        client.close()
        if embedded:
            embedded.stop()
        raise
    database = client[config.database]
    store = store_for(config, client, database, combined=info.supports_client_bulk_write)
    timeouts = config.timeouts
    lock = MigrationLock(store.lease, ServerClock(lambda: client.admin.command("hello"), info.local_time),
                         user=user, host=host, pid=os.getpid(), ttl_s=timeouts.lock_ttl_s,
                         wait_s=timeouts.lock_wait_s, client=front_end)
    own = store.own_collections()
    guard.configure(database.name, own.names)
    return Connection(shown, embedded, guard, client, info, database, store, lock, own, RunSession(client))


@dataclass(frozen=True)
class Parts:
    """The engine's parts over a connection: each owns its state, none sees the app."""

    book: EvidenceBook
    entries: AuditEntries
    lease: LeaseHolding
    runner: StepRunner
    operation: Operation
    runs: StepRuns
    audit_log: AuditReader


def assemble(app: MigrationApp, c: Connection) -> Parts:
    config, events = app.config, RunEvents(app, app.emit, app.log)
    assert c.store.evidence is not None
    book = EvidenceBook(c.store.evidence, c.store.audit, app.guard_connection)
    runs: list[StepRuns] = []  # filled below: the entries name the overrides of the run in progress
    entries = AuditEntries(session_id=app.session_id, date_fmt=config.date_format or DATE_FMT, now=app.now,
                           newest_date=book.newest_date, who=lambda: (app.user, app.host), pid=lambda: c.lock.pid,
                           front_end=app.front_end, overrides=lambda: runs[0].overrides if runs else (),
                           redact=app.redact)
    lease = LeaseHolding(LeaseParts(c.lock, c.sessions, c.store, events, app.guard_connection, entries.entry,
                                    book.forget_reading))
    target = RunTarget(c.database, c.client, app.name, c.server_info.supports_transactions, app.session_id.hex(),
                       (config.config_path.parent, config.scripts_dir.parent), config.config_path.parent)
    journal = RunJournal(entries.entry, book.written, app.runner_document, lease.collections_changed)
    runner = StepRunner(RunDeps(c.store, c.lock, events, app.now, lambda: app.identity, c.sessions, app.redact,
                                ScriptLoader(), c.guard, target, journal,
                                BackfillSetup(app.backfill_control, config.backfill)))
    operation = Operation(
        writing=app.gate.writing, store=c.store, lease=c.lock, scripts=app.scripts, scripts_dir=config.scripts_dir,
        identity=lambda: app.identity, runner_label=lambda: f"{app.identity} (pid {c.lock.pid}, {app.front_end})",
        now=app.now, synced_status=lambda: sync(operation)[1], status=app.status,
        read_evidence=lambda: book.read(under_lock=True),
        keep_evidence=lambda: book.keep(app.now(), lease_lost=c.lock.lost_reason is not None),
        entry=entries.entry, written=book.written, log=app.log,
        changed=lambda name: app.emit(StateChangedEvent(app, name)))
    runs.append(StepRuns(StepParts(operation, runner, lease, c.lock, app.plan_for, app.access,
                                   c.server_info.supports_transactions,
                                   lambda exc: unreachable(c.shown_address, exc, config))))
    audit_log = AuditReader(c.store, app.now, c.lock.clock.now, app.guard_connection)
    return Parts(book, entries, lease, runner, operation, runs[0], audit_log)
