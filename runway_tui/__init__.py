"""runway-tui: MongoDB schema migrations with a terminal UI, a headless CLI and a Python API."""

from runway_tui.engine import use_cases
from runway_tui.engine.app import MigrationApp, MigrationSession
from runway_tui.engine.config import AppConfig, Config, load_config
from runway_tui.engine.errors import ExitCode, RunwayError
from runway_tui.engine.events import (
    ApplicationEvent,
    ClosingEvent,
    HandlerFailedEvent,
    LockAcquiredEvent,
    LockReleasedEvent,
    LockWaitingEvent,
    LogEvent,
    MigrationEvent,
    PlanComputedEvent,
    RefreshDoneEvent,
    StartingEvent,
    StateChangedEvent,
    StepAppliedEvent,
    StepFailedEvent,
    StepLogEvent,
    StepProgressEvent,
    StepStartedEvent,
)
from runway_tui.engine.factory import create_app
from runway_tui.engine.models import MigrationAuditlogEntry, MigrationReadModel
from runway_tui.engine.service import MigrationService
from runway_tui.version import __version__

__all__ = [
    "AppConfig", "ApplicationEvent", "ClosingEvent", "Config", "ExitCode", "HandlerFailedEvent",
    "LockAcquiredEvent", "LockReleasedEvent", "LockWaitingEvent", "LogEvent", "MigrationApp",
    "MigrationAuditlogEntry", "MigrationEvent", "MigrationReadModel", "MigrationService", "MigrationSession",
    "PlanComputedEvent", "RefreshDoneEvent", "RunwayError", "StartingEvent", "StateChangedEvent",
    "StepAppliedEvent", "StepFailedEvent", "StepLogEvent", "StepProgressEvent", "StepStartedEvent",
    "__version__", "create_app", "load_config", "use_cases",
]
