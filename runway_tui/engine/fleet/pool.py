"""Running a fleet: waves in order, a bounded pool per cluster, a failure budget, several runners on one run.

Every tenant is its own unit, driven through the engine's public API (`MigrationApp.upgrade`/`downgrade`),
so each keeps its own lease, transactions and records; nothing spans databases. A runner claims a tenant in
the run record, then the engine takes the tenant's own lease for the run, so no tenant is migrated twice
even beside a plain `runway-tui up` on it, and a claim whose runner was killed expires and is taken over.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runway_tui.engine.app import MigrationApp
from runway_tui.engine.config import AppConfig
from runway_tui.engine.errors import (
    BlockedError,
    DatabaseMovedError,
    ExitCode,
    LockTimeoutError,
    RunwayError,
    ServerUnreachableError,
    UsageError,
)
from runway_tui.engine.events import StepStartedEvent
from runway_tui.engine.fleet.record import RESULTS, Claim, RunRecord, new_run_id, runner_id
from runway_tui.engine.fleet.targets import Cluster, Tenant, resolve, tenant_config, wave_of
from runway_tui.engine.messages import one_line
from runway_tui.engine.models import Direction
from runway_tui.engine.policy import Access, resolve_access
from runway_tui.engine.scripts import ScriptDirectory

POLL_S = 0.2  # how often a runner looks again at tenants other runners hold


@dataclass(frozen=True)
class FleetRequest:
    """What every tenant is asked to do: the flags of `up`/`down`."""

    direction: Direction
    steps: int | None = None
    to: int | None = None
    all_: bool = False
    ignore_drift: bool = False
    allow_out_of_order: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"direction": self.direction.value, "steps": self.steps, "to": self.to, "all": self.all_,
                "ignore_drift": self.ignore_drift, "allow_out_of_order": self.allow_out_of_order}

    def engine_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"steps": self.steps, "to": self.to, "all_": self.all_,
                                  "ignore_drift": self.ignore_drift}
        if self.direction is Direction.UP:
            kwargs["allow_out_of_order"] = self.allow_out_of_order
        return kwargs

    def target(self, app: AppConfig) -> int | None:
        """Every tenant's target version, known before any starts (None: `--steps N` depends on each tenant)."""
        if self.to is not None:
            return self.to
        if self.direction is Direction.DOWN:
            return 0 if self.all_ else None
        if self.steps is not None:
            return None
        versions = [s.version for s in ScriptDirectory.for_app(app).scan() if s.version is not None]
        return max(versions, default=0)


@dataclass
class TenantOutcome:
    tenant: Tenant
    result: str
    error: str | None = None
    from_version: int | None = None
    to_version: int | None = None  # where the tenant stands after the run (before it: its target)
    target: int | None = None  # the fleet's intent for it (None: `--steps N`, per tenant)
    duration_ms: int = 0
    runner: str | None = None
    lock_held: bool = False
    unreachable: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"cluster": self.tenant.cluster, "database": self.tenant.database, "from": self.from_version,
                "to": self.to_version, "target": self.target, "result": self.result, "error": self.error,
                "duration_ms": self.duration_ms, "runner": self.runner}


@dataclass
class FleetOutcome:
    """The whole run as its record says, whoever ran each tenant."""

    run_id: str
    application: str
    targets: list[TenantOutcome]
    unreachable: list[str] = field(default_factory=list)  # "cluster: reason"
    joined: bool = False

    @property
    def counts(self) -> dict[str, int]:
        return {name: sum(1 for t in self.targets if t.result == name) for name in RESULTS}

    @property
    def exit_code(self) -> ExitCode:
        """1 a tenant failed; 5 a cluster unreachable; 4 a tenant blocked; 3 a tenant's lease held elsewhere
        beyond the lock wait; 0 every tenant ok or unchanged."""
        if any(t.result == "failed" for t in self.targets):
            return ExitCode.STEP_FAILED
        if self.unreachable or any(t.unreachable for t in self.targets):
            return ExitCode.UNREACHABLE
        if any(t.result == "blocked" for t in self.targets):
            return ExitCode.VALIDATION_FAILED
        if any(t.result == "not_started" for t in self.targets):
            return ExitCode.LOCK_TIMEOUT
        return ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "application": self.application, "counts": self.counts,
                "targets": [t.to_json() for t in self.targets], "unreachable": self.unreachable}


def fleet_access(app: AppConfig, *, read_only_flag: bool = False, write_flag: bool = False) -> Access:
    return resolve_access(app, read_only_flag=read_only_flag, write_flag=write_flag)


class FleetRunner:
    """One runner process's part of a fleet run (`run()` returns when the whole run is finished)."""

    def __init__(self, app: AppConfig, record: RunRecord, request: FleetRequest, access: Access, *,
                 concurrency: int | None = None, max_failures: int | None = None, wave: str | None = None,
                 only: list[str] | None = None, on_result: Callable[[TenantOutcome], None] | None = None,
                 on_note: Callable[[str], None] | None = None) -> None:
        self.app = app
        self.fleet = app.fleet
        self.record = record
        self.request = request
        self.access = access
        self.concurrency = concurrency or self.fleet.concurrency
        self.max_failures = self.fleet.max_failures if max_failures is None else max_failures
        self.wave = wave
        self.only = only
        self.on_result = on_result or (lambda outcome: None)
        self.on_note = on_note or (lambda text: None)
        self.runner = runner_id()
        self.started_at: Any = None  # the run's start (server time): what a tenant taken over did since
        self._print = threading.Lock()
        self._stop = threading.Event()
        if wave is not None and wave not in [w.name for w in self.fleet.waves]:
            raise UsageError(f"--wave {wave}: no such wave; the fleet's waves are "
                             f"{', '.join(w.name for w in self.fleet.waves)}")

    # ------------------------------------------------------------------ the run
    def start(self, *, new: bool = False, resume: str | None = None) -> tuple[str, bool]:
        """Create the run (every tenant's intent written first) or join the one in progress: (run id, joined)."""
        if resume is not None:
            doc = self.record.run(resume)
            if doc is None or doc.get("application") != self.app.name:
                raise UsageError(f"--resume {resume}: no fleet run of application {self.app.name!r} has this id "
                                 "(see 'runway-tui fleet history')")
            if doc["state"] == "finished":
                self.record.reopen(resume)
            self._adopt(doc)
            return resume, True
        while True:
            if not new:
                doc = self.record.running()
                if doc is not None:
                    return self._join(doc), True
            run_id = new_run_id()
            if self.record.claim_run(run_id, self.request.to_json(), [w.name for w in self.fleet.waves],
                                     self.max_failures, self.concurrency, self.runner, replace=new):
                self._create(run_id)
                self._adopt(self.record.run(run_id) or {})
                return run_id, False
            new = False  # another runner registered a run just now: join it

    def _join(self, doc: dict[str, Any]) -> str:
        if doc["request"] != self.request.to_json():
            raise UsageError(f"fleet run {doc['_id']} is in progress with another request "
                             f"({describe_request(doc['request'])}); join it with the same flags, or start another "
                             "with --new")
        run_id = doc["_id"]
        deadline = time.monotonic() + max(30.0, self.app.timeouts.lock_wait_s)
        while doc is not None and doc["state"] == "preparing":  # its creator is writing every tenant's intent
            if time.monotonic() > deadline:
                raise UsageError(f"fleet run {run_id} was registered but never prepared (its runner may have "
                                 "stopped); start another with --new")
            time.sleep(POLL_S)
            doc = self.record.run(run_id)
        self._adopt(doc or {})
        return run_id

    def _adopt(self, doc: dict[str, Any]) -> None:
        self.max_failures = int(doc.get("max_failures", self.max_failures))
        self.started_at = doc.get("started_at")
        self.concurrency = int(doc.get("concurrency", self.concurrency))

    def _create(self, run_id: str) -> None:
        clusters = resolve(self.app, self.only)
        target = self.request.target(self.app)
        waves = list(self.fleet.waves)
        chosen: list[tuple[Tenant, int, int | None]] = []
        for cluster in clusters:
            for tenant in cluster.tenants:
                index = wave_of(self.fleet.waves, tenant.database)
                if index < 0 or (self.wave is not None and waves[index].name != self.wave):
                    continue
                chosen.append((tenant, index, target))
        self.record.create(run_id, self.concurrency, chosen, [_cluster_json(c) for c in clusters])

    def run(self, run_id: str) -> FleetOutcome:
        """Run tenants of `run_id` until every one has a result (ours or another runner's)."""
        beat = threading.Thread(target=self._heartbeat, args=(run_id,), name="fleet-heartbeat", daemon=True)
        beat.start()
        try:
            doc = self.record.run(run_id) or {}
            budget_spent = False
            for wave in range(len(doc.get("waves", []))):
                budget_spent = self._run_wave(run_id, wave)
                if budget_spent:
                    break
            while self.record.live_claims(run_id):
                time.sleep(POLL_S)  # the budget is spent: others finish the tenants they started
            failures = self.record.failures(run_id)
            reason = (f"failure budget spent: {failures} tenant(s) failed, max_failures {self.max_failures}"
                      if budget_spent else "its runner stopped before it finished")
            self.record.finish(run_id, reason)
        finally:
            self._stop.set()
            beat.join(timeout=5)
        return self.outcome(run_id)

    def _claimable(self, run_id: str) -> bool:
        return bool(self.record.claimable(run_id))

    def _budget_spent(self, run_id: str) -> bool:
        return self.record.failures(run_id) > self.max_failures

    def _run_wave(self, run_id: str, wave: int) -> bool:
        """Run this wave's tenants until every one has a result; True when the failure budget is spent."""
        while True:
            if self._budget_spent(run_id):
                return True
            left = self.record.unfinished(run_id, wave)
            if not left:
                return False
            clusters = sorted({doc["cluster_index"] for doc in left})
            workers = [threading.Thread(target=self._worker, args=(run_id, wave, index, slot),
                                        name=f"fleet-{index}-{slot}", daemon=True)
                       for index in clusters for slot in range(self.concurrency)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            if self.record.unfinished(run_id, wave) and not self._claimable(run_id):
                time.sleep(POLL_S)  # the rest are held by other runners: look again shortly

    def _worker(self, run_id: str, wave: int, cluster_index: int, slot_number: int) -> None:
        """Take a slot of the cluster's cap, claim a tenant, run it, give the slot back; again until none is left.
        The slot is held for one tenant at a time, so several runners share the cap tenant by tenant."""
        holder = f"{self.runner}/{cluster_index}.{slot_number}"
        while not self._stop.is_set() and not self._budget_spent(run_id):
            slot = self.record.take_slot(run_id, cluster_index, holder)
            if slot is None:
                return  # the cluster's cap is reached (by other runners' workers): the wave loop looks again
            try:
                claim = self.record.claim(run_id, wave, cluster_index, self.runner)
                if claim is None:
                    return
                if self._budget_spent(run_id):  # a tenant failed elsewhere meanwhile: this one does not start
                    self.record.release(run_id, claim, self.runner)
                    return
                outcome = self._run_tenant(claim)
                outcome.runner = self.runner
                kept = self.record.result(run_id, claim, self.runner, outcome.result, error=outcome.error,
                                          from_version=outcome.from_version, to_version=outcome.to_version,
                                          duration_ms=outcome.duration_ms)
                if kept:
                    with self._print:
                        self.on_result(outcome)
            finally:
                self.record.free_slot(slot, holder)

    def _run_tenant(self, claim: Claim) -> TenantOutcome:
        tenant = claim.tenant
        target = self.fleet.targets[tenant.cluster_index]
        config = tenant_config(self.app, target, tenant.database)
        started = time.monotonic()
        outcome = TenantOutcome(tenant, "failed", target=claim.to)

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            engine = MigrationApp(config, access=self.access, front_end="fleet")
        except ServerUnreachableError as exc:
            outcome.result, outcome.error, outcome.unreachable = "not_started", _line(exc), True
            outcome.duration_ms = took()
            return outcome
        except RunwayError as exc:
            outcome.error, outcome.duration_ms = _line(exc), took()
            return outcome
        known = False  # the tenant's version before the run, as its own plan said
        first: list[int | None] = []  # a run that fails: where its first step started

        def started_step(event: StepStartedEvent) -> None:
            if not first and event.step is not None:
                first.append(event.step.from_version)

        engine.subscribe(started_step, StepStartedEvent)
        try:
            step = engine.upgrade if self.request.direction is Direction.UP else engine.downgrade
            result = step(**self.request.engine_kwargs())
            outcome.from_version, outcome.to_version = result.plan.current_version, result.current_version
            known = True
            outcome.result = "ok" if result.completed else "unchanged"
            if not result.completed and claim.token > 1 and self._moved_in_run(engine):
                # a runner that was stopped (kill -9) ran it to the end but never wrote its result
                outcome.result, outcome.from_version = "ok", None
                outcome.error = "applied by a runner that stopped before recording it (its claim was taken over)"
        except (BlockedError, DatabaseMovedError) as exc:
            outcome.result, outcome.error = "blocked", _line(exc)
        except LockTimeoutError as exc:
            outcome.result, outcome.error, outcome.lock_held = "not_started", _line(exc), True
        except RunwayError as exc:
            outcome.error = _line(exc)
        except Exception as exc:  # a bug must not stop the other tenants: the tenant fails, the line says why
            outcome.error = f"internal error: {_line(exc)}"
        finally:
            if not known:  # refused or failed: where it started and where the tenant stands now
                outcome.to_version = _current(engine)
                outcome.from_version = first[0] if first else outcome.to_version
            engine.close()
        outcome.duration_ms = took()
        return outcome

    def _moved_in_run(self, engine: MigrationApp) -> bool:
        """Whether the tenant's audit log has a step of this run's direction since the run started."""
        if self.started_at is None:
            return False
        try:
            return bool(engine.history(limit=1, since=self.started_at, action=self.request.direction.value))
        except RunwayError:
            return False

    def _heartbeat(self, run_id: str) -> None:
        interval = max(0.2, self.record.ttl_ms / 3000)
        while not self._stop.wait(interval):
            try:
                self.record.heartbeat(run_id, self.runner)
            except Exception:  # the control server blinked: the next beat tries again
                continue

    # ------------------------------------------------------------------ the record, read back
    def outcome(self, run_id: str) -> FleetOutcome:
        return read_outcome(self.record, run_id, self.app.name)


def read_outcome(record: RunRecord, run_id: str, application: str) -> FleetOutcome:
    doc = record.run(run_id) or {}
    targets = []
    for row in record.results(run_id):
        if row["database"] is None:
            continue
        error = row.get("error")
        targets.append(TenantOutcome(Tenant(row["cluster_index"], row["cluster"], row["database"]),
                                     row["result"] or "not_started", error, row.get("from"), row.get("to"),
                                     row.get("target"), row.get("duration_ms") or 0, row.get("runner"),
                                     unreachable=bool(error and error.startswith("cluster unreachable")
                                                      and row["result"] == "not_started")))
    unreachable = [f"{c['cluster']}: {c['error']}" for c in doc.get("clusters", []) if c.get("error")]
    return FleetOutcome(run_id, application, targets, unreachable)


def _current(engine: MigrationApp) -> int | None:
    try:
        return engine.status().current_version
    except Exception:
        return None


def _line(exc: BaseException) -> str:
    return one_line(str(exc), limit=500)


def _cluster_json(cluster: Cluster) -> dict[str, Any]:
    return {"index": cluster.index, "cluster": cluster.masked_uri, "error": cluster.error,
            "tenants": len(cluster.tenants)}


def describe_request(request: dict[str, Any]) -> str:
    """A fleet run's request as its flags (`up --steps 2`), for messages and `fleet history`."""
    parts = [request.get("direction", "?")]
    for key in ("steps", "to"):
        if request.get(key) is not None:
            parts.append(f"--{key} {request[key]}")
    if request.get("all"):
        parts.append("--all")
    return " ".join(parts)


__all__ = ["FleetOutcome", "FleetRequest", "FleetRunner", "TenantOutcome", "fleet_access", "new_run_id",
           "read_outcome"]
