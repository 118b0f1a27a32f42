"""The registries a compatibility layer fills, so that the engine runs its code without importing it.

The engine knows runway's own config file, file format and store; everything else plugs in here. The
package root (`runway_tui/__init__.py`) calls `runway_tui.compat.mongorunway.register()` before any engine
module is used, so every registry below is filled by the time the engine asks it. Registering twice under
one name replaces the first (re-registration in tests is harmless); the order of registration is the order
of asking.

- config readers: `register_config_reader(reader)`; asked by `config_readers()` (engine/config/discovery.py)
- script formats: `register_script_format(fmt)`; asked by `script_format(name)` and `script_formats()`
  (engine/scripts, and the runner for a file's environment and entry point)
- store shapes: `register_store_shape(name, factory)`; asked by `store_shape(name)` for `compat: NAME`
- startup hooks: `register_startup_hook(hook)`; asked by `startup_hooks()` when a MigrationApp starts
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from runway_tui.engine.config.model import AppConfig, Config


class ConfigReader(Protocol):
    """A configuration file format other than runway.yaml (e.g. Mongorunway's mongorunway.yaml)."""

    name: str  # e.g. "mongorunway": the registry's key

    def find(self, start: Path) -> Path | None:
        """Its file below `start`, when the current folder holds no runway.yaml (None: there is none)."""

    def claims(self, path: Path) -> bool:
        """Whether `path` (already found, a regular file) is this reader's format."""

    def read(self, path: Path) -> Config:
        """The whole configuration, or `ConfigError`/`ConfigErrors` naming file, line and key."""


@dataclass(frozen=True)
class FormatCheck:
    """What a format says of a file whose common parts (docstring, `version`) are valid."""

    problem: str | None = None  # why the file cannot run (it is shown broken)
    transactional: bool | None = None  # the default when the file does not say (None: True)


class ScriptFormat(Protocol):
    """A migration file format: how `ast` recognises it, checks it and describes it; its template; and what a
    step needs to run it (an import environment and the function to call)."""

    name: str  # "runway", "mongorunway": stored in `ScriptFile.format`, and a project's `compat` names one

    @property
    def template(self) -> str:
        """A new file's text, with `{description}` and `{version}` placeholders (`str.format`)."""

    def recognises(self, tree: ast.Module) -> bool:
        """Whether a parsed file is in this format (the others are asked first; runway's format takes the rest)."""

    def description(self, tree: ast.Module) -> str:
        """The description the file gives (its docstring, read the way the format's own tool reads it)."""

    def check(self, tree: ast.Module, functions: dict[str, ast.stmt], version_line: int) -> FormatCheck:
        """Whether the file can run, read with `ast` only (never executed here)."""

    def environment(self, project_dirs: Sequence[Path]) -> AbstractContextManager[Any]:
        """What must be importable while one of its files runs (entered around the step); `project_dirs`: the
        config's folder and the migrations folder's parent, as the project's own CLI had them."""

    def entry_point(self, module: ModuleType, name: str, context: Any, session_hex: str) -> Callable[..., Any]:
        """The function a step calls with its context, from the loaded module (`name`: upgrade/downgrade)."""


# A store shape builds the `MigrationStore` (engine/store/protocol.py) of one application from its config, its
# database, the stored sources and the lease collection; "runway" is the engine's own and is not registered.
StoreShape = Callable[["AppConfig", Any, Any, Any], Any]
# A startup hook sees every MigrationApp built with project code allowed, before it emits StartingEvent.
StartupHook = Callable[[Any], None]
# A session factory builds `app.session` for every MigrationApp (Mongorunway's accessors).
SessionFactory = Callable[[Any], Any]

_config_readers: dict[str, ConfigReader] = {}
_script_formats: dict[str, ScriptFormat] = {}
_store_shapes: dict[str, StoreShape] = {}
_startup_hooks: list[StartupHook] = []
_session_factory: SessionFactory | None = None


def register_config_reader(reader: ConfigReader) -> None:
    """Let `load_config` find and read another configuration format (`reader.name` is its key)."""
    _config_readers[reader.name] = reader


def config_readers() -> Sequence[ConfigReader]:
    """The registered readers, in registration order (runway.yaml's own reader is not among them)."""
    return tuple(_config_readers.values())


def register_script_format(fmt: ScriptFormat) -> None:
    """Let the script directory recognise, check, template and run another file format (`fmt.name`)."""
    _script_formats[fmt.name] = fmt


def script_formats() -> Sequence[ScriptFormat]:
    """Every registered format, the engine's "runway" format among them, in registration order."""
    _ensure_runway_format()
    return tuple(_script_formats.values())


def script_format(name: str) -> ScriptFormat:
    """The format called `name`; LookupError when nothing registered it (a file's or a project's format)."""
    _ensure_runway_format()
    try:
        return _script_formats[name]
    except KeyError:
        raise LookupError(f"no migration file format {name!r} is registered "
                          f"(known: {', '.join(_script_formats)})") from None


def register_store_shape(name: str, factory: StoreShape) -> None:
    """Let `compat: NAME` projects keep their state in another document shape
    (`factory(config, database, sources, lease)` -> a MigrationStore)."""
    _store_shapes[name] = factory


def store_shape(name: str) -> StoreShape | None:
    """The factory registered for `compat: NAME`; None for runway's own shape (and unknown names)."""
    return _store_shapes.get(name)


def register_session_factory(factory: SessionFactory) -> None:
    """`factory(app)` builds the object a MigrationApp offers as `app.session` (Mongorunway's accessors)."""
    global _session_factory
    _session_factory = factory


def session_for(app: Any) -> Any:
    """`app.session` for a new MigrationApp: what the registered factory builds, or None without one."""
    return _session_factory(app) if _session_factory is not None else None


def register_startup_hook(hook: StartupHook) -> None:
    """Run `hook(app)` for every MigrationApp that may run project code, before its StartingEvent."""
    if hook not in _startup_hooks:
        _startup_hooks.append(hook)


def startup_hooks() -> Sequence[StartupHook]:
    return tuple(_startup_hooks)


def _ensure_runway_format() -> None:
    """The engine's own format is always known, first (asked before any compat format recognises a file)."""
    if "runway" not in _script_formats:
        from runway_tui.engine.scripts.formats import RUNWAY_FORMAT

        _script_formats["runway"] = RUNWAY_FORMAT
