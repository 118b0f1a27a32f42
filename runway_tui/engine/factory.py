"""`create_app`: from a config file and an application name to a connected MigrationApp."""

from __future__ import annotations

import logging
import os
from typing import Any

from runway_tui.engine.app import Clock, MigrationApp
from runway_tui.engine.config import load_config
from runway_tui.engine.errors import RunwayError
from runway_tui.engine.messages import print_traceback
from runway_tui.engine.uri import scrub

logger = logging.getLogger("runway_tui")


def create_app(name: str | None = None, config: str | os.PathLike[str] | None = None, *,
               raise_on_none: bool = False, verbose_exc: bool = False, read_only: bool | None = None,
               clock: Clock | None = None, **kwargs: Any) -> MigrationApp | None:
    """Load the config, select application `name`, connect. On failure: raise when `raise_on_none`,
    else log the one-line reason (and the traceback with `verbose_exc`) and return None."""
    app_config = None
    try:
        app_config = load_config(config).app(name)
        return MigrationApp(app_config, read_only=read_only, clock=clock, **kwargs)
    except RunwayError as exc:
        if verbose_exc:
            secrets = app_config.secrets if app_config is not None else []
            print_traceback(exc, lambda text: scrub(text, secrets))
        if raise_on_none:
            raise
        logger.error("%s", exc)
        return None
