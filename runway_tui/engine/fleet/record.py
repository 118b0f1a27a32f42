"""The fleet run record, in the control database: what the whole fleet was asked to do and where every tenant
stands, shared by every runner of the run.

- `fleet_runs`: one document per run: its id, who started it, the request, the waves, the failure budget and
  the number of failed tenants so far, its state (running / finished).
- `fleet_tenants`: one per tenant of a run, written (all of them) before the first tenant starts: the target
  version (the fleet's intent), then the tenant's result. A runner claims a tenant here with an expiring
  claim (renewed while it works), then takes the tenant's own lease through the engine; a claim that
  expires (its runner was killed) is taken over by another runner.
- `fleet_slots`: `concurrency` slots per cluster and run: a worker holds one while it runs a tenant, so the
  cap holds across every runner.

Dates are the control server's (its clock read once, then kept with the monotonic clock), as the leases'
are: runners' clocks do not matter.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pymongo
from pymongo import MongoClient, ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

from runway_tui.engine.config import AppConfig
from runway_tui.engine.connection import make_client, unreachable
from runway_tui.engine.fleet.targets import Tenant

RESULTS = ("ok", "failed", "blocked", "unchanged", "not_started")


def runner_id() -> str:
    """Who this runner is: user@host, pid and a random part (a pid is reused after a restart)."""
    try:
        user = getpass.getuser()
    except Exception:
        user = os.environ.get("USER", "unknown")
    return f"{user}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


@dataclass(frozen=True)
class Claim:
    """A tenant this runner holds in the run record (`token` fences a claim taken over meanwhile)."""

    tenant: Tenant
    token: int
    wave: int
    to: int | None


class RunRecord:
    """The control database's three collections, for one application."""

    def __init__(self, app: AppConfig, ttl_s: float) -> None:
        control = app.fleet.control
        self.app = app
        self.ttl_ms = int(ttl_s * 1000)
        self._clock: tuple[dt.datetime, float] | None = None
        probe = _control_config(app)
        self.client: MongoClient[dict[str, Any]] = make_client(control.uri, probe)
        database = self.client[control.database]
        self.runs = database["fleet_runs"]
        self.tenants = database["fleet_tenants"]
        self.slots = database["fleet_slots"]
        try:
            self.tenants.create_index([("run_id", 1), ("wave", 1), ("cluster_index", 1), ("database", 1)])
            self.runs.create_index([("application", 1), ("started_at", -1)])
            # one joinable run per application: two runners started together create one run, the other joins
            self.runs.create_index("active", unique=True, sparse=True)
        except PyMongoError as exc:
            self.client.close()
            raise unreachable(control.uri, exc, probe) from None

    def now(self) -> dt.datetime:
        """The control server's time: its `hello` read once, then advanced by our monotonic clock."""
        if self._clock is None:
            sent = time.monotonic()
            local = self.client.admin.command("hello").get("localTime")
            at = (sent + time.monotonic()) / 2
            if not isinstance(local, dt.datetime):
                local = dt.datetime.now(dt.UTC)
            self._clock = (local.replace(tzinfo=None), at)
        base, at = self._clock
        return base + dt.timedelta(seconds=time.monotonic() - at)

    def until(self) -> dt.datetime:
        """When a claim or a slot taken (or renewed) now expires."""
        return self.now() + dt.timedelta(milliseconds=self.ttl_ms)

    def close(self) -> None:
        with pymongo.timeout(1.0):
            self.client.close()

    # ------------------------------------------------------------------ runs
    def claim_run(self, run_id: str, request: dict[str, Any], waves: list[str], max_failures: int,
                  concurrency: int, runner: str, replace: bool) -> bool:
        """Register a new run as the application's joinable one; False: another runner registered one first
        (join it). `replace` (`--new`): the run in progress stays as it is but is no longer joined by default."""
        if replace:
            self.runs.update_many({"active": self.app.name}, {"$unset": {"active": ""}})
        try:
            self.runs.insert_one({"_id": run_id, "application": self.app.name, "active": self.app.name,
                                  "started_by": runner, "started_at": self.now(), "request": request,
                                  "waves": waves, "max_failures": max_failures, "concurrency": concurrency,
                                  "failures": 0, "clusters": [], "state": "preparing", "finished_at": None})
        except DuplicateKeyError:
            return False
        return True

    def create(self, run_id: str, concurrency: int, tenants: list[tuple[Tenant, int, int | None]],
               clusters: list[dict[str, Any]]) -> None:
        """Every tenant's intent, written before the first tenant starts; then the run is open to runners."""
        down = {c["index"]: f"cluster unreachable: {c['error']}" for c in clusters if c["error"]}
        docs = [{"_id": f"{run_id}|{tenant.key}", "run_id": run_id, "cluster_index": tenant.cluster_index,
                 "cluster": tenant.cluster, "database": tenant.database, "wave": wave, "target": to,
                 "from": None, "to": None, "result": "not_started" if tenant.cluster_index in down else None,
                 "error": down.get(tenant.cluster_index), "claim": None, "runner": None, "duration_ms": None}
                for tenant, wave, to in tenants]
        for cluster in clusters:  # an unreachable cluster whose tenants are not known: one entry says so
            if cluster["error"] and not any(t.cluster_index == cluster["index"] for t, _, _ in tenants):
                docs.append({"_id": f"{run_id}|{cluster['index']}|*", "run_id": run_id,
                             "cluster_index": cluster["index"], "cluster": cluster["cluster"], "database": None,
                             "wave": 0, "target": None, "from": None, "to": None, "result": "not_started",
                             "error": down[cluster["index"]], "claim": None, "runner": None, "duration_ms": None})
        if docs:
            self.tenants.insert_many(docs, ordered=False)
        slots = [{"_id": f"{run_id}|{c['index']}|{i}", "run_id": run_id, "cluster_index": c["index"],
                  "holder": None, "until": None} for c in clusters for i in range(concurrency)]
        if slots:
            self.slots.insert_many(slots, ordered=False)
        self.runs.update_one({"_id": run_id}, {"$set": {"clusters": clusters, "state": "running"}})

    def run(self, run_id: str) -> dict[str, Any] | None:
        return self.runs.find_one({"_id": run_id})

    def running(self) -> dict[str, Any] | None:
        """The application's joinable run in progress, if any."""
        return self.runs.find_one({"active": self.app.name})

    def history(self, limit: int) -> list[dict[str, Any]]:
        return list(self.runs.find({"application": self.app.name}, sort=[("started_at", -1)], limit=limit))

    def reopen(self, run_id: str) -> None:
        """`--resume` of a finished run: its tenants that never started may start now."""
        self.tenants.update_many({"run_id": run_id, "result": "not_started", "database": {"$ne": None}},
                                 {"$set": {"result": None, "error": None}})
        self.runs.update_one({"_id": run_id}, {"$set": {"state": "running", "finished_at": None}})
        with contextlib.suppress(DuplicateKeyError):  # else another run is the joinable one: resumed by id only
            self.runs.update_one({"_id": run_id}, {"$set": {"active": self.app.name}})

    def finish(self, run_id: str, reason: str) -> None:
        """Tenants nobody started get `not_started` with the reason; the run is finished."""
        self.tenants.update_many({"run_id": run_id, "result": None},
                                 {"$set": {"result": "not_started", "error": reason, "claim": None}})
        if self.tenants.count_documents({"run_id": run_id, "result": None}) == 0:
            self.runs.update_one({"_id": run_id, "state": "running"},
                                 {"$set": {"state": "finished", "finished_at": self.now()}, "$unset": {"active": ""}})

    def failures(self, run_id: str) -> int:
        doc = self.runs.find_one({"_id": run_id}, {"failures": 1})
        return int(doc["failures"]) if doc else 0

    def watch(self, stop: Callable[[], bool]) -> Iterator[None]:
        """One item per change of the run record (runs and tenants), until `stop()`; raises PyMongoError where the
        server has no change streams (a standalone): the caller polls instead."""
        pipeline = [{"$match": {"ns.coll": {"$in": ["fleet_runs", "fleet_tenants"]}}}]
        with self.runs.database.watch(pipeline, max_await_time_ms=500) as stream:
            while not stop():
                if stream.try_next() is not None:
                    yield None

    # ------------------------------------------------------------------ tenants
    def results(self, run_id: str) -> list[dict[str, Any]]:
        return list(self.tenants.find({"run_id": run_id}, sort=[("wave", 1), ("cluster_index", 1),
                                                                ("database", 1)]))

    def unfinished(self, run_id: str, wave: int) -> list[dict[str, Any]]:
        return list(self.tenants.find({"run_id": run_id, "wave": wave, "result": None}))

    def claim(self, run_id: str, wave: int, cluster_index: int, runner: str) -> Claim | None:
        """The next tenant of this wave and cluster that nobody holds (or whose holder's claim expired)."""
        doc = self.tenants.find_one_and_update(
            {"run_id": run_id, "wave": wave, "cluster_index": cluster_index, "result": None,
             "$or": [{"claim": None}, {"claim.until": {"$lt": self.now()}}]},
            {"$set": {"claim": {"runner": runner, "until": self.until()}}, "$inc": {"claims": 1}},
            sort=[("database", 1)], return_document=ReturnDocument.AFTER)
        if doc is None:
            return None
        tenant = Tenant(doc["cluster_index"], doc["cluster"], doc["database"])
        return Claim(tenant, doc["claims"], doc["wave"], doc["target"])

    def result(self, run_id: str, claim: Claim, runner: str, result: str, *, error: str | None,
               from_version: int | None, to_version: int | None, duration_ms: int) -> bool:
        """Write a tenant's result if we still hold its claim (False: it was taken over meanwhile)."""
        done = self.tenants.update_one(
            {"_id": f"{run_id}|{claim.tenant.key}", "result": None, "claim.runner": runner, "claims": claim.token},
            {"$set": {"result": result, "error": error, "from": from_version, "to": to_version,
                      "runner": runner, "duration_ms": duration_ms, "claim": None, "finished_at": self.now()}})
        if done.modified_count and result == "failed":
            self.runs.update_one({"_id": run_id}, {"$inc": {"failures": 1}})
        return bool(done.modified_count)

    def release(self, run_id: str, claim: Claim, runner: str) -> None:
        """Give a tenant back unstarted (the budget was spent before it began)."""
        self.tenants.update_one({"_id": f"{run_id}|{claim.tenant.key}", "claim.runner": runner,
                                 "claims": claim.token}, {"$set": {"claim": None}})

    # ------------------------------------------------------------------ slots (the per-cluster cap)
    def take_slot(self, run_id: str, cluster_index: int, holder: str) -> str | None:
        doc = self.slots.find_one_and_update(
            {"run_id": run_id, "cluster_index": cluster_index,
             "$or": [{"holder": None}, {"until": {"$lt": self.now()}}]},
            {"$set": {"holder": holder, "until": self.until()}})
        return doc["_id"] if doc else None

    def free_slot(self, slot: str, holder: str) -> None:
        self.slots.update_one({"_id": slot, "holder": holder}, {"$set": {"holder": None, "until": None}})

    def heartbeat(self, run_id: str, runner: str) -> None:
        """Renew every claim and slot this runner holds (called every third of the lease's time to live)."""
        self.tenants.update_many({"run_id": run_id, "result": None, "claim.runner": runner},
                                 {"$set": {"claim.until": self.until()}})
        self.slots.update_many({"run_id": run_id, "holder": {"$regex": f"^{_escape(runner)}/"}},
                               {"$set": {"until": self.until()}})

    def live_claims(self, run_id: str) -> int:
        """Tenants of the run held by a runner whose claim has not expired."""
        return self.tenants.count_documents({"run_id": run_id, "result": None, "claim": {"$ne": None},
                                             "claim.until": {"$gt": self.now()}})

    def claimable(self, run_id: str) -> int:
        """Tenants of the run nobody holds (or whose holder's claim expired)."""
        return self.tenants.count_documents({"run_id": run_id, "result": None,
                                             "$or": [{"claim": None}, {"claim.until": {"$lt": self.now()}}]})


def _escape(text: str) -> str:
    import re

    return re.escape(text)




def _control_config(app: AppConfig) -> AppConfig:
    import dataclasses

    control = app.fleet.control
    return dataclasses.replace(app, uri=control.uri, database=control.database, fleet=None)


def open_record(app: AppConfig) -> RunRecord:
    """The run record of a fleet application; one clear line when the control database cannot be reached."""
    return RunRecord(app, app.timeouts.lock_ttl_s)


__all__ = ["RESULTS", "Claim", "RunRecord", "new_run_id", "open_record", "runner_id"]
