"""The tenant databases of a fleet, cluster by cluster, and each tenant's own application config.

A cluster that cannot be reached is kept with its reason (its tenants cannot be run, the others can): the
summary and the exit code say which.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from dataclasses import dataclass, field

from pymongo.errors import PyMongoError

from runway_tui.engine.config import AppConfig
from runway_tui.engine.connection import make_client, unreachable
from runway_tui.engine.errors import RunwayError
from runway_tui.engine.fleet.config import FleetConfig, FleetTarget, Wave

_SYSTEM_DATABASES = {"admin", "local", "config"}


@dataclass(frozen=True)
class Tenant:
    """One tenant database on one cluster (`cluster` is the masked URI: safe to show and to record)."""

    cluster_index: int
    cluster: str
    database: str

    @property
    def key(self) -> str:
        return f"{self.cluster_index}|{self.database}"


@dataclass
class Cluster:
    """A target's tenants as resolved now, or why they could not be."""

    index: int
    target: FleetTarget
    tenants: list[Tenant] = field(default_factory=list)
    error: str | None = None  # "cannot reach ...": the cluster is unreachable

    @property
    def masked_uri(self) -> str:
        return self.target.masked_uri


def tenant_config(app: AppConfig, target: FleetTarget, database: str) -> AppConfig:
    """The application's config for one tenant: every key of the application, that cluster and database."""
    return dataclasses.replace(app, uri=target.uri, database=database, fleet=None)


def resolve(app: AppConfig, only: list[str] | None = None) -> list[Cluster]:
    """Every cluster of the fleet with its tenant databases (sorted by name), `--only` applied."""
    fleet: FleetConfig = app.fleet
    clusters = [_resolve_one(app, index, target) for index, target in enumerate(fleet.targets)]
    if only:
        wanted = set(only)
        for cluster in clusters:
            cluster.tenants = [t for t in cluster.tenants if t.database in wanted]
    return clusters


def _resolve_one(app: AppConfig, index: int, target: FleetTarget) -> Cluster:
    cluster = Cluster(index, target)
    selector = target.databases
    if selector.names is not None:  # a list is known without the server: an unreachable cluster still names them
        cluster.tenants = [Tenant(index, target.masked_uri, name) for name in sorted(set(selector.names))]
    probe = tenant_config(app, target, "admin")
    try:
        client = make_client(target.uri, probe)
    except RunwayError as exc:
        cluster.error = str(exc)
        return cluster
    try:
        if selector.names is not None:
            client.admin.command("ping")
            return cluster
        if selector.match is not None:
            names = [n for n in client.list_database_names() if fnmatch.fnmatchcase(n, selector.match)]
        else:
            catalog = selector.catalog
            assert catalog is not None
            names = [str(doc[catalog.field]) for doc in client[catalog.database][catalog.collection].find(
                catalog.filter, {catalog.field: 1, "_id": 0}) if doc.get(catalog.field)]
    except PyMongoError as exc:
        cluster.error = str(unreachable(target.uri, exc, probe))
        return cluster
    finally:
        client.close()
    names = [n for n in names if n not in _SYSTEM_DATABASES]
    cluster.tenants = [Tenant(index, target.masked_uri, name) for name in sorted(set(names))]
    return cluster


def short_cluster(masked_uri: str) -> str:
    """`host:port[,host:port]` of a masked URI: what tells clusters apart in a narrow column."""
    rest = masked_uri.split("://", 1)[-1]
    return rest.split("/", 1)[0].split("@")[-1] or masked_uri


def wave_of(waves: tuple[Wave, ...], database: str) -> int:
    """The index of the first wave whose `match` takes `database` (the last wave without one takes the rest);
    -1: no wave takes it (the tenant is left out of the run)."""
    for index, wave in enumerate(waves):
        if wave.match is None or fnmatch.fnmatchcase(database, wave.match):
            return index
    return -1
