"""`Fleet`: the one object the front ends use for a fleet application (the CLI's `fleet ...`, the TUI's
Fleet screen); it opens the run record only for what needs it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pymongo.errors import PyMongoError

from runway_tui.engine.config import AppConfig
from runway_tui.engine.errors import ReadOnlyError, RunwayError, UsageError
from runway_tui.engine.fleet.inspect import FleetStatus, fleet_status
from runway_tui.engine.fleet.pool import FleetOutcome, FleetRequest, FleetRunner, TenantOutcome, read_outcome
from runway_tui.engine.fleet.record import RunRecord, open_record
from runway_tui.engine.fleet.targets import wave_of
from runway_tui.engine.models import Direction
from runway_tui.engine.policy import Access, resolve_access
from runway_tui.engine.uri import mask_uri


class Fleet:
    """A fleet application: its tenants' status and plans, its runs."""

    def __init__(self, app: AppConfig, *, read_only_flag: bool = False, write_flag: bool = False) -> None:
        if app.fleet is None:
            raise UsageError(f"application {app.name!r} is not a fleet: give it a 'fleet:' block "
                             "(see README, Fleet) or use the commands without 'fleet'")
        self.app = app
        self.config = app.fleet
        self.access: Access = resolve_access(app, read_only_flag=read_only_flag, write_flag=write_flag)

    @property
    def name(self) -> str:
        return self.app.name

    @property
    def secrets(self) -> list[str]:
        found = list(self.app.secrets)
        for uri in [t.uri for t in self.config.targets] + [self.config.control.uri]:
            from runway_tui.engine.uri import uri_secrets

            found.extend(uri_secrets(uri))
        return found

    @property
    def control_address(self) -> str:
        return f"{mask_uri(self.config.control.uri)} database {self.config.control.database}"

    # ------------------------------------------------------------------ inspection (never writes)
    def status(self, only: list[str] | None = None) -> FleetStatus:
        return fleet_status(self.app, only)

    def plan(self, request: FleetRequest, only: list[str] | None = None, wave: str | None = None) -> FleetStatus:
        """Each tenant's plan (`wave`: only the tenants of that wave, as `fleet up --wave NAME` runs them)."""
        if wave is not None and wave not in [w.name for w in self.config.waves]:
            raise UsageError(f"--wave {wave}: no such wave; the fleet's waves are "
                             f"{', '.join(w.name for w in self.config.waves)}")
        found = fleet_status(self.app, only, plan=request)
        if wave is not None:
            index = [w.name for w in self.config.waves].index(wave)
            found.databases = [d for d in found.databases if wave_of(self.config.waves, d.tenant.database) == index]
        return found

    def history(self, limit: int = 20) -> list[dict[str, Any]]:
        with _Record(self.app) as record:
            return record.history(limit)

    def run_outcome(self, run_id: str) -> FleetOutcome:
        with _Record(self.app) as record:
            if record.run(run_id) is None:
                raise UsageError(f"no fleet run {run_id!r} (see 'runway-tui fleet history')")
            return read_outcome(record, run_id, self.app.name)

    def running(self) -> dict[str, Any] | None:
        with _Record(self.app) as record:
            return record.running()

    def watch(self, on_change: Callable[[], None], stop: Callable[[], bool]) -> bool:
        """Call `on_change` whenever the run record changes (a change stream on the control database), until
        `stop()`; False at once when the server has none or it broke (the caller polls)."""
        try:
            with _Record(self.app) as record:
                for _ in record.watch(stop):
                    on_change()
        except (PyMongoError, RunwayError):
            return False
        return True

    # ------------------------------------------------------------------ runs
    def run(self, request: FleetRequest, *, concurrency: int | None = None, max_failures: int | None = None,
            wave: str | None = None, only: list[str] | None = None, new: bool = False, resume: str | None = None,
            on_start: Callable[[str, bool], None] | None = None,
            on_result: Callable[[TenantOutcome], None] | None = None) -> FleetOutcome:
        """Create (or join, or resume) a run and take part in it until every tenant has a result."""
        if self.access.read_only:
            raise ReadOnlyError(f"application {self.name!r} is read-only: refusing to run the fleet "
                                f"{request.direction.value} ({self.access.reason})")
        with _Record(self.app) as record:
            runner = FleetRunner(self.app, record, request, self.access, concurrency=concurrency,
                                 max_failures=max_failures, wave=wave, only=only, on_result=on_result)
            run_id, joined = runner.start(new=new, resume=resume)
            if on_start is not None:
                on_start(run_id, joined)
            outcome = runner.run(run_id)
            outcome.joined = joined
            return outcome


class _Record:
    def __init__(self, app: AppConfig) -> None:
        self.record = open_record(app)

    def __enter__(self) -> RunRecord:
        return self.record

    def __exit__(self, *exc: object) -> None:
        self.record.close()


__all__ = ["Direction", "Fleet", "FleetOutcome", "FleetRequest", "FleetStatus", "TenantOutcome"]
