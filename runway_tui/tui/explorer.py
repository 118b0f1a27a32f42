"""Glue between the TUI and the engine's read-only explorer: one `Inspector` per engine, made on demand.

The explorer's screens never import pymongo or bson: they receive plain data and extended JSON text.
"""

from __future__ import annotations

from typing import Any

from runway_tui.engine.errors import RunwayError
from runway_tui.engine.inspect import Inspector, InspectSettings
from runway_tui.engine.inspect_values import NotPermittedError

_CACHE = "_explorer_inspector"


def inspector_for(app: Any) -> Inspector | None:
    """The app's inspector for its current engine (a reconnect makes a new engine, so a new inspector)."""
    engine = getattr(app, "engine", None)
    if engine is None:
        return None
    cached = getattr(app, _CACHE, None)
    if cached is not None and cached[0] is engine:
        return cached[1]
    tui_config = getattr(app, "tui_config", None)
    settings = InspectSettings.from_tui(tui_config) if tui_config is not None else InspectSettings()
    inspector = Inspector.for_app(engine, settings)
    setattr(app, _CACHE, (engine, inspector))
    return inspector


def explain(exc: BaseException) -> str:
    """One line for the view that failed (RunwayErrors already are one line)."""
    if isinstance(exc, NotPermittedError):
        return "not permitted"
    if isinstance(exc, RunwayError):
        return str(exc)
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:300]
