"""runway-tui: MongoDB schema migrations with a terminal UI, a headless CLI and a Python API.

This is also the composition root: every import of a `runway_tui.*` module runs this file first, and its
first act plugs the compatibility layer into the engine's registries (`engine/plugins.py`), so the engine
never imports compat and still finds a mongorunway.yaml, reads Mongorunway's files and keeps its shapes.
"""

from runway_tui.compat.mongorunway import register as _register_mongorunway

_register_mongorunway()

from runway_tui.application import use_cases  # noqa: E402  (after the registration above, on purpose)
from runway_tui.compat.mongorunway.api import MigrationService  # noqa: E402
from runway_tui.compat.mongorunway.session import MigrationSession  # noqa: E402
from runway_tui.engine.app import MigrationApp  # noqa: E402
from runway_tui.engine.config import AppConfig, Config, load_config  # noqa: E402
from runway_tui.engine.errors import ExitCode, RunwayError  # noqa: E402
from runway_tui.engine.events import (  # noqa: E402
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
from runway_tui.engine.factory import create_app  # noqa: E402
from runway_tui.engine.models import MigrationAuditlogEntry, MigrationReadModel  # noqa: E402
from runway_tui.version import __version__  # noqa: E402

__all__ = [
    "AppConfig", "ApplicationEvent", "ClosingEvent", "Config", "ExitCode", "HandlerFailedEvent",
    "LockAcquiredEvent", "LockReleasedEvent", "LockWaitingEvent", "LogEvent", "MigrationApp",
    "MigrationAuditlogEntry", "MigrationEvent", "MigrationReadModel", "MigrationService", "MigrationSession",
    "PlanComputedEvent", "RefreshDoneEvent", "RunwayError", "StartingEvent", "StateChangedEvent",
    "StepAppliedEvent", "StepFailedEvent", "StepLogEvent", "StepProgressEvent", "StepStartedEvent",
    "__version__", "create_app", "load_config", "use_cases",
]
