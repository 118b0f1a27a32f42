"""Every tenant at a glance: status, plan and check of each tenant database (never writes).

Each tenant is read through its own read-only `MigrationApp`, which runs none of the project's code; the
reads of one cluster run in a bounded pool, so a fleet of hundreds is read in seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from runway_tui.engine.app import MigrationApp
from runway_tui.engine.config import AppConfig
from runway_tui.engine.errors import RunwayError, ServerUnreachableError, UsageError
from runway_tui.engine.fleet.pool import FleetRequest
from runway_tui.engine.fleet.targets import Cluster, Tenant, resolve, tenant_config
from runway_tui.engine.messages import one_line
from runway_tui.engine.models import LockInfo

READ_POOL = 8  # reads in flight per cluster
T = TypeVar("T")


@dataclass
class TenantStatus:
    """One line of `fleet status`; `state` colours it: up_to_date, pending, problems, locked, unreachable, error."""

    tenant: Tenant
    current_version: int | None = None
    pending: int = 0
    problems: list[str] = field(default_factory=list)
    lock: str | None = None  # who holds the tenant's lease, if anyone
    error: str | None = None
    unreachable: bool = False
    blockers: list[str] = field(default_factory=list)  # plan only
    steps: list[int] = field(default_factory=list)  # plan only: the versions the plan would run
    target_version: int | None = None  # plan only

    @property
    def state(self) -> str:
        if self.unreachable:
            return "unreachable"
        if self.error:
            return "error"
        if self.problems:
            return "drift" if any(p.startswith("drift") for p in self.problems) else "problems"
        if self.lock:
            return "locked"
        return "pending" if self.pending else "up_to_date"

    def to_json(self) -> dict[str, Any]:
        return {"cluster": self.tenant.cluster, "database": self.tenant.database,
                "current_version": self.current_version, "pending": self.pending, "problems": self.problems,
                "lock": self.lock, "state": self.state, "error": self.error}


@dataclass
class FleetStatus:
    databases: list[TenantStatus]
    clusters: list[Cluster]

    @property
    def unreachable(self) -> list[str]:
        return [f"{c.masked_uri}: {c.error}" for c in self.clusters if c.error]

    @property
    def counts(self) -> dict[str, int]:
        states = [d.state for d in self.databases]
        names = ("up_to_date", "pending", "problems", "drift", "locked", "unreachable", "error")
        return {"databases": len(self.databases), **{name: states.count(name) for name in names},
                "clusters_unreachable": sum(1 for c in self.clusters if c.error)}


def fleet_status(app: AppConfig, only: list[str] | None = None, *, plan: FleetRequest | None = None,
                 clusters: list[Cluster] | None = None) -> FleetStatus:
    """Each tenant's status (and, with `plan` = the `up`/`down` request, its plan); unreachable clusters are
    listed with their reason, their known tenants marked unreachable."""
    clusters = clusters if clusters is not None else resolve(app, only)

    def read(tenant: Tenant) -> TenantStatus:
        return _read_tenant(app, tenant, plan, unreachable=clusters[tenant.cluster_index].error)

    rows: list[TenantStatus] = []
    for cluster in clusters:
        rows.extend(_pooled(read, cluster.tenants))
    return FleetStatus(rows, clusters)


def _pooled(work: Callable[[Tenant], T], tenants: list[Tenant]) -> list[T]:
    if not tenants:
        return []
    with ThreadPoolExecutor(max_workers=min(READ_POOL, len(tenants)), thread_name_prefix="fleet-read") as pool:
        return list(pool.map(work, tenants))


def _read_tenant(app: AppConfig, tenant: Tenant, plan: FleetRequest | None, unreachable: str | None) -> TenantStatus:
    row = TenantStatus(tenant)
    if unreachable:
        row.unreachable, row.error = True, unreachable
        return row
    config = tenant_config(app, app.fleet.targets[tenant.cluster_index], tenant.database)
    try:
        engine = MigrationApp(config, read_only=True, project_code=False, front_end="fleet")
    except ServerUnreachableError as exc:
        row.unreachable, row.error = True, one_line(str(exc), limit=300)
        return row
    except RunwayError as exc:
        row.error = one_line(str(exc), limit=300)
        return row
    try:
        lock = engine.lock_info()
        report = engine.status(lease=lock)
        row.current_version = report.current_version
        row.pending = len(report.pending)
        row.problems = sorted({f"{p.value.replace('_', ' ')} {r.version}" for r in report.rows
                               for p in report.needs_attention(r)})
        row.lock = _lock_text(lock)
        if plan is not None:
            try:
                planned = engine.plan(plan.direction, report=report, **plan.engine_kwargs())
            except UsageError as exc:
                row.blockers = [one_line(str(exc), limit=300)]
            else:
                row.blockers = list(planned.blockers)
                row.steps = [s.version for s in planned.steps]
                row.target_version = planned.target_version
    except ServerUnreachableError as exc:
        row.unreachable, row.error = True, one_line(str(exc), limit=300)
    except Exception as exc:  # one tenant's odd state never hides the others
        row.error = one_line(str(exc), limit=300)
    finally:
        engine.close()
    return row


def _lock_text(lock: LockInfo | None) -> str | None:
    if lock is None:
        return None
    dead = " (expired)" if lock.expired else ""
    return f"{lock.who} for '{lock.operation}'{dead}"
