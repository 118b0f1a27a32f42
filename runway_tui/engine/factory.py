"""`create_app`: from a config file and an application name to a connected MigrationApp."""

from __future__ import annotations

import atexit
import logging
import os
import weakref
from typing import Any

from runway_tui.engine.app import Clock, MigrationApp
from runway_tui.engine.config import AppConfig, Config, load_config
from runway_tui.engine.errors import RunwayError
from runway_tui.engine.messages import print_traceback, visible
from runway_tui.engine.uri import scrub

logger = logging.getLogger("runway_tui")


def create_app(name: str | None = None, configuration: str | os.PathLike[str] | Config | AppConfig | None = None, *,
               raise_on_none: bool = False, verbose_exc: bool = False, read_only: bool | None = None,
               clock: Clock | None = None, config: str | os.PathLike[str] | Config | AppConfig | None = None,
               **kwargs: Any) -> MigrationApp | None:
    """Load the config, select application `name`, connect. On failure: raise when `raise_on_none`,
    else log the one-line reason (and the traceback with `verbose_exc`) and return None.

    Mongorunway's signature: `configuration` is a path, a loaded `Config` (or one `AppConfig`), or None to
    find it (`RUNWAY_CONFIG`, ./runway.yaml, a mongorunway.yaml below the current folder); `config=` is the
    older spelling. The app is closed at interpreter exit if the script never closes it (Mongorunway sends
    its ClosingEvent then too), so its ClosingEvent handlers run exactly once either way."""
    app_config = None
    source = configuration if configuration is not None else config
    try:
        if isinstance(source, AppConfig):
            app_config = source
        else:
            project = source if isinstance(source, Config) else load_config(source)
            for note in project.notes:  # a mongorunway.yaml's keys without meaning for us
                logger.warning("note: %s", visible(note))
            app_config = project.app(name)
        app = MigrationApp(app_config, read_only=read_only, clock=clock, **kwargs)
        _close_at_exit(app)
        return app
    except RunwayError as exc:
        if verbose_exc:
            secrets = app_config.secrets if app_config is not None else []
            print_traceback(exc, lambda text: scrub(text, secrets))
        if raise_on_none:
            raise
        logger.error("%s", visible(str(exc)))
        return None


def _close_at_exit(app: MigrationApp) -> None:
    """Close an app left open when the interpreter exits (without keeping it alive until then)."""
    ref = weakref.ref(app)

    def close() -> None:
        alive = ref()
        if alive is not None:
            alive.close()

    atexit.register(close)
