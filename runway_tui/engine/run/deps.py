"""`RunDeps`: what the step runner needs, and nothing more (it never sees the `MigrationApp`).

The runner is the most safety-critical code of the project; with its dependencies named here it can be
built from parts (a store, a lease, a session, a clock) and read without the app beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pymongo import MongoClient
    from pymongo.database import Database

    from runway_tui.engine.backfill.control import BackfillControl
    from runway_tui.engine.backfill.throttle import ThrottleSettings
    from runway_tui.engine.events import MigrationEvent
    from runway_tui.engine.guard import OwnCollectionsGuard
    from runway_tui.engine.lock import MigrationLock
    from runway_tui.engine.models import MigrationAuditlogEntry
    from runway_tui.engine.run.loading import ScriptLoader
    from runway_tui.engine.run.session import RunSession
    from runway_tui.engine.store.protocol import MigrationStore


@dataclass(frozen=True)
class RunEvents:
    """Where the runner's events and log lines go. `source` is what each event names as its app (Mongorunway's
    `app_events` handlers and the front ends read it); the runner never calls it."""

    source: Any
    emit: Callable[[MigrationEvent], None]
    log: Callable[[str, str], None]


@dataclass(frozen=True)
class RunTarget:
    """The database a migration's context names, and how steps can run there."""

    database: Database[dict[str, Any]]
    client: MongoClient[dict[str, Any]]
    application: str
    supports_transactions: bool
    session_hex: str  # the engine's session id (a Mongorunway file's business rules see it)
    project_dirs: tuple[Path, ...]  # importable while a Mongorunway file runs (`import migrations`)
    config_dir: Path  # tracebacks are shown relative to it


@dataclass(frozen=True)
class RunJournal:
    """The engine's bookkeeping around a step: audit entries dated after the evidence, the evidence kept,
    who runs a step, and runway's collections changed by a migration (indexes made again)."""

    entry: Callable[..., MigrationAuditlogEntry]
    written: Callable[[MigrationAuditlogEntry], None]
    runner_document: Callable[[], dict[str, Any]]
    collections_changed: Callable[[], None]


@dataclass(frozen=True)
class BackfillSetup:
    """A backfill's pause/resume/cancel flags (set by a front end) and the application's throttle defaults."""

    control: BackfillControl
    settings: ThrottleSettings


@dataclass(frozen=True)
class RunDeps:
    """Everything a `StepRunner` uses."""

    store: MigrationStore
    lease: MigrationLock
    events: RunEvents
    clock: Callable[[], dt.datetime]
    identity: Callable[[], str]  # user@host, recorded with an applied record (read at each step)
    sessions: RunSession
    redact: Callable[[str], str]
    loader: ScriptLoader
    guard: OwnCollectionsGuard
    target: RunTarget
    journal: RunJournal
    backfill: BackfillSetup
