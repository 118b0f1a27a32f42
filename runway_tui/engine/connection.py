"""Connecting to the server and learning what it is (version, topology, transaction support)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from pymongo import MongoClient
from pymongo.errors import ConfigurationError, PyMongoError

from runway_tui.engine.config import AppConfig
from runway_tui.engine.errors import ConfigError, ServerUnreachableError
from runway_tui.engine.store import driver_errors
from runway_tui.engine.uri import mask_uri, scrub

AUTH_FAILED = 18


@dataclass(frozen=True)
class ServerInfo:
    """What `hello` and `buildInfo` told us."""

    version: str
    topology: str  # "standalone", "replica set" or "sharded"
    set_name: str | None
    address: str  # masked URI, safe to show
    supports_transactions: bool
    max_wire_version: int = 0
    local_time: dt.datetime | None = field(default=None, compare=False)  # server clock at the probe

    @property
    def supports_client_bulk_write(self) -> bool:
        """MongoDB 8.0 (wire version 25) added the cross-collection `bulkWrite` command."""
        return self.max_wire_version >= 25

    @property
    def supports_change_streams(self) -> bool:
        """Change streams need a replica set (or a sharded cluster's mongos): never a standalone."""
        return self.topology != "standalone"

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "topology": self.topology, "set_name": self.set_name,
                "address": self.address, "supports_transactions": self.supports_transactions}


def make_client(uri: str, app: AppConfig, **extra: Any) -> MongoClient[dict[str, Any]]:
    """A client with every timeout bounded by the application's settings."""
    timeouts = app.timeouts
    options: dict[str, Any] = {
        "serverSelectionTimeoutMS": timeouts.server_selection_ms,
        "connectTimeoutMS": timeouts.connect_ms,
        "appname": "runway-tui",
        "tz_aware": False,
    }
    if timeouts.socket_ms:
        options["socketTimeoutMS"] = timeouts.socket_ms
    if app.write_concern_explicit or not re.search(r"(?i)[?&;](w|journal|wtimeoutms)=", uri):
        options.update(app.write_concern.client_options())  # every write, the steps' commits and ctx.db inherit it
    options.update(extra)
    try:
        return MongoClient(uri, **options)
    except (ConfigurationError, ValueError) as exc:
        raise ServerUnreachableError(f"{mask_uri(uri)}: {scrub(str(exc), app.secrets)}") from None
    except OSError as exc:  # a TLS file that cannot be read or is not a certificate
        raise ConfigError(f"{app.config_path}: applications.{app.name}.uri: {mask_uri(uri)}: cannot use the TLS "
                          f"files it names: {scrub(str(exc), app.secrets)}") from None


def probe_server(client: MongoClient[dict[str, Any]], app: AppConfig, shown_uri: str) -> ServerInfo:
    """One `hello` (plus `buildInfo`): fails fast with a clear error if the server is not usable."""
    try:
        hello = client.admin.command("hello")
        build = client.admin.command("buildInfo")
    except PyMongoError as exc:
        raise driver_errors.connect_failed(mask_uri(shown_uri), exc, lambda text: scrub(text, app.secrets),
                                           app.name) from None
    if hello.get("msg") == "isdbgrid":
        topology = "sharded"
    elif hello.get("setName"):
        topology = "replica set"
    else:
        topology = "standalone"
    supports = topology != "standalone" and hello.get("logicalSessionTimeoutMinutes") is not None
    return ServerInfo(version=str(build.get("version", "?")), topology=topology, set_name=hello.get("setName"),
                      address=mask_uri(shown_uri), supports_transactions=supports,
                      max_wire_version=int(hello.get("maxWireVersion", 0) or 0), local_time=hello.get("localTime"))


def unreachable(uri: str, exc: BaseException, app: AppConfig) -> ServerUnreachableError:
    """The server of `app` cannot be reached (engine/store/driver_errors.py words it)."""
    return driver_errors.unreachable(mask_uri(uri), exc, lambda text: scrub(text, app.secrets), app.name)
