"""Seeing the commands this process sends: one global pymongo listener, switched on for a block.

pymongo cannot unregister a global listener, so there is exactly one (registered on import) and tests
open a `watch()` to collect what it sees meanwhile. It observes every client created after the import,
the engine's included, without any hook in the engine.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pymongo import monitoring

NETWORK_ERRORS = {"AutoReconnect", "ConnectionFailure", "NetworkTimeout"}


@dataclass(frozen=True)
class SeenCommand:
    name: str
    target: str  # "<database>.<collection or 1>"
    outcome: str  # "ok", "failed" or "sent" (no reply yet)
    write_concern: dict[str, Any] | None = field(default=None, compare=False)  # as sent
    code: int | None = None  # the server's error code of a failed command
    errtype: str = ""  # the exception type of a command that failed without a reply (network)
    reply: dict[str, Any] = field(default_factory=dict, compare=False)
    command: dict[str, Any] = field(default_factory=dict, compare=False)  # as sent (a shallow copy)

    @property
    def collections(self) -> set[str]:
        """The collections it writes to (a client `bulkWrite` names several: "db.a,db.b")."""
        return {namespace.rsplit(".", 1)[-1] for namespace in self.target.split(",")}

    @property
    def network_failure(self) -> bool:
        return self.outcome == "failed" and self.errtype in NETWORK_ERRORS


class _Watch(monitoring.CommandListener):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: list[dict[int, SeenCommand]] = []  # one ordered dict (request id -> command) per watch

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        target = f"{event.database_name}.{event.command.get(event.command_name)}"
        if event.command_name == "bulkWrite":  # the client-level command: its namespaces are listed apart
            target = ",".join(str(info.get("ns")) for info in event.command.get("nsInfo", []))
        with self._lock:
            for seen in self._active:
                seen[event.request_id] = SeenCommand(event.command_name, target, "sent",
                                                     write_concern=event.command.get("writeConcern"),
                                                     command=dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._settle(event.request_id, "ok", reply=dict(event.reply))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        failure = dict(event.failure or {})
        code = failure.get("code")
        self._settle(event.request_id, "failed", code=int(code) if isinstance(code, int) else None,
                     errtype=str(failure.get("errtype", "")), reply=failure)

    def _settle(self, request_id: int, outcome: str, **details: Any) -> None:
        with self._lock:
            for seen in self._active:
                before = seen.get(request_id)
                if before is not None:
                    seen[request_id] = SeenCommand(before.name, before.target, outcome, before.write_concern,
                                                   command=before.command, **details)

    @contextmanager
    def watch(self) -> Iterator[Seen]:
        seen: dict[int, SeenCommand] = {}
        with self._lock:
            self._active.append(seen)
        try:
            yield Seen(seen, self._lock)
        finally:
            with self._lock:
                self._active.remove(seen)


class Seen:
    """The commands seen during one `watch()` block (a live view: read it any time)."""

    def __init__(self, commands: dict[int, SeenCommand], lock: threading.Lock) -> None:
        self._commands, self._lock = commands, lock

    def all(self) -> list[SeenCommand]:
        with self._lock:
            return list(self._commands.values())

    def named(self, *names: str) -> list[SeenCommand]:
        return [c for c in self.all() if c.name in names]


WATCH = _Watch()
monitoring.register(WATCH)
watch = WATCH.watch
