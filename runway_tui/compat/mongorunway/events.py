"""`app_events` of a mongorunway.yaml: the project's own handlers, subscribed to our Starting/Closing events.

Mongorunway calls prioritized handlers first (ascending priority), then plain ones in the order given; our
bus calls handlers in subscription order, so they are subscribed in that order. The handler receives our
event, which has Mongorunway's `application` attribute.
"""

from __future__ import annotations

import importlib
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from runway_tui.engine.errors import ConfigError
from runway_tui.engine.events import ClosingEvent, MigrationEvent, StartingEvent

if TYPE_CHECKING:
    from collections.abc import Iterator

    from runway_tui.engine.app import MigrationApp

EVENT_TYPES: dict[str, type[MigrationEvent]] = {"StartingEvent": StartingEvent, "ClosingEvent": ClosingEvent}


@contextmanager
def project_on_path(*folders: Path) -> Iterator[None]:
    """The project's own modules importable (Mongorunway's users put `PYTHONPATH=.`), only for the import."""
    added = [str(f) for f in folders if str(f) not in sys.path]
    sys.path[:0] = added
    try:
        yield
    finally:
        for folder in added:
            if folder in sys.path:
                sys.path.remove(folder)


def subscribe_configured(app: MigrationApp) -> None:
    handlers = sorted(app.config.event_handlers, key=lambda h: (h[2] is None, h[2] or 0))
    with project_on_path(Path.cwd(), app.config.config_path.parent):
        for event, dotted, _priority in handlers:
            module_name, _, attribute = dotted.rpartition(".")
            try:
                handler = getattr(importlib.import_module(module_name), attribute)
            except (ImportError, AttributeError) as exc:
                raise ConfigError(f"{app.config.config_path}: app_events.{event}: cannot load {dotted!r} "
                                  f"({type(exc).__name__}: {exc}); fix the dotted path or remove it") from None
            if not callable(handler):
                raise ConfigError(f"{app.config.config_path}: app_events.{event}: {dotted!r} is not callable")
            app.subscribe(handler, EVENT_TYPES[event])
