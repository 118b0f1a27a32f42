"""Helpers for the engine and CLI tests: migration file bodies, opening apps, a command recorder."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from pymongo import monitoring

from runway_tui.engine.app import MigrationApp
from runway_tui.engine.config import AppConfig, Timeouts, load_config

# Commands that change data or metadata on the server.
WRITE_COMMANDS = frozenset({
    "insert", "update", "delete", "findAndModify", "createIndexes", "create", "drop", "dropIndexes",
    "collMod", "bulkWrite", "dropDatabase", "renameCollection", "commitTransaction",
})


def migration(version: int, up: str = "pass", down: str = "pass", doc: str | None = None,
              transactional: bool | None = None, header: str = "") -> str:
    """A migration module's text; `up`/`down` are one-or-more lines of body (indented here)."""
    description = doc if doc is not None else f"Migration number {version}."
    flag = f"transactional = {transactional}\n" if transactional is not None else ""

    def indent(code: str) -> str:
        return "\n".join("    " + line for line in code.splitlines())

    return (f'"""{description}"""\n{header}\nversion = {version}\n{flag}\n\n'
            f"def upgrade(ctx):\n{indent(up)}\n\n\ndef downgrade(ctx):\n{indent(down)}\n")


def insert_doc(version: int, coll: str = "things") -> str:
    return f'ctx.db["{coll}"].insert_one({{"_id": {version}}}, session=ctx.session)'


def delete_doc(version: int, coll: str = "things") -> str:
    return f'ctx.db["{coll}"].delete_one({{"_id": {version}}}, session=ctx.session)'


def data_migration(version: int, coll: str = "things", **kwargs: Any) -> str:
    """Upgrade inserts {_id: version} into `coll`, downgrade deletes it."""
    return migration(version, up=insert_doc(version, coll), down=delete_doc(version, coll), **kwargs)


def app_config(project: Any, app: str | None = None, **overrides: Any) -> AppConfig:
    """The project's application config, with AppConfig fields or Timeouts fields overridden."""
    config = load_config(project.config_path).app(app)
    timeout_fields = {f.name for f in dataclasses.fields(Timeouts)}
    timeouts = {k: overrides.pop(k) for k in list(overrides) if k in timeout_fields}
    if timeouts:
        overrides["timeouts"] = dataclasses.replace(config.timeouts, **timeouts)
    return dataclasses.replace(config, **overrides) if overrides else config


def open_app(project: Any, read_only: bool | None = None, **overrides: Any) -> MigrationApp:
    return MigrationApp(app_config(project, **overrides), read_only=read_only)


class CommandRecorder(monitoring.CommandListener):
    """Records every command a client sends (name, database, collection)."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, str, Any]] = []
        self._lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        with self._lock:
            self.commands.append((event.command_name, event.database_name,
                                  event.command.get(event.command_name)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def clear(self) -> None:
        with self._lock:
            self.commands.clear()

    def writes(self, collection: str | None = None) -> list[tuple[str, str, Any]]:
        with self._lock:
            return [c for c in self.commands if c[0] in WRITE_COMMANDS
                    and (collection is None or c[2] == collection)]

    def names(self) -> list[str]:
        with self._lock:
            return [c[0] for c in self.commands]
