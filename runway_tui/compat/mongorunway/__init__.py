"""Mongorunway compatibility: its configuration file (`config`), its migration files (recognised by `files`,
run by `steps` with the `shim` package standing in for `mongorunway`), its document shapes (`storage`), its
app_events (`events`) and its Python API (`api`), so a Mongorunway project works unchanged without Mongorunway.

The engine never imports this package: `register()` plugs it into `runway_tui.engine.plugins`, and the package
root (`runway_tui/__init__.py`) calls it before anything else runs.
"""

from __future__ import annotations

from typing import Any


def register() -> None:
    """Fill the engine's registries with Mongorunway's config reader, file format, store shape and startup hook.
    Idempotent (a second call registers the same objects again); cheap (storage, events and steps load when
    first used)."""
    from runway_tui.compat.mongorunway.config import MongorunwayConfigReader
    from runway_tui.compat.mongorunway.files import MONGORUNWAY_FORMAT
    from runway_tui.engine import plugins

    plugins.register_config_reader(MongorunwayConfigReader())
    plugins.register_script_format(MONGORUNWAY_FORMAT)
    plugins.register_store_shape("mongorunway", _store_shape)
    plugins.register_startup_hook(_subscribe_app_events)
    plugins.register_session_factory(_session)


def _store_shape(config: Any, database: Any, sources: Any, lease: Any) -> Any:
    """Mongorunway's exact records and audit entries, our fields in side collections (storage.py)."""
    from runway_tui.compat.mongorunway.storage import mongorunway_store

    return mongorunway_store(config, database, sources, lease)


def _session(app: Any) -> Any:
    """Mongorunway's `app.session` accessors (session.py)."""
    from runway_tui.compat.mongorunway.session import MigrationSession

    return MigrationSession(app)


def _subscribe_app_events(app: Any) -> None:
    """A mongorunway.yaml's app_events handlers, subscribed before the app's StartingEvent."""
    if app.config.event_handlers:
        from runway_tui.compat.mongorunway.events import subscribe_configured

        subscribe_configured(app)
