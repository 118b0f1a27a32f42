"""Finding the configuration file, and reading it with the reader that claims it.

runway.yaml is ours (`runway_yaml.py`); other readers (a Mongorunway project's mongorunway.yaml) are
registered in `engine.plugins` by the compat layer, so the engine finds and reads their files without knowing
them.
"""

from __future__ import annotations

import os
from pathlib import Path

from runway_tui.engine import plugins
from runway_tui.engine.config.model import DEFAULT_CONFIG_NAME, Config, TuiNames
from runway_tui.engine.config.runway_yaml import RunwayYamlReader
from runway_tui.engine.errors import ConfigError


def find_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--config PATH` > `RUNWAY_CONFIG` > `./runway.yaml` > the shallowest `mongorunway.yaml`/`.yml` below the
    current directory (as Mongorunway finds its own, skipping virtualenvs). Whatever is found must be a
    regular file: a FIFO or a device named like a configuration is refused here, in one line."""
    if explicit is not None and not str(explicit).strip():
        raise ConfigError("--config is empty; give the path of the configuration file or leave --config out")
    candidate = explicit or os.environ.get("RUNWAY_CONFIG")
    if candidate:
        path = Path(candidate).expanduser()
        source = "--config" if explicit else "RUNWAY_CONFIG"
        _check_config_file(path, f"(from {source})")
        return path.resolve()
    path = Path.cwd() / DEFAULT_CONFIG_NAME
    if not os.path.lexists(path):
        found = _found_by_readers(Path.cwd())
        if found is not None:
            _check_config_file(found, "(found below the current folder)")
            return found.resolve()
        raise ConfigError(
            f"no configuration found: pass --config PATH, set RUNWAY_CONFIG, or create ./{DEFAULT_CONFIG_NAME} "
            "(sample_config.yaml documents every key; a mongorunway.yaml below this folder is found too)"
        )
    _check_config_file(path, "")
    return path.resolve()



def _check_config_file(path: Path, source: str) -> None:
    """A configuration is a regular file (a link to one is fine): one line naming it otherwise."""
    from runway_tui.engine.project_files import check_regular

    where = f" {source}" if source else ""
    try:
        check_regular(path)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found{where}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration{where}: it {exc.strerror}; give the "
                          "configuration file itself") from None


def load_config(path: str | os.PathLike[str] | None = None, tui_names: TuiNames | None = None) -> Config:
    """Read, interpolate and validate a configuration file (see `find_config_path` for discovery).

    Every error of the file is reported in one `ConfigErrors` (one `ConfigError` when there is one);
    `tui_names` also checks `tui.keymap` ids and `tui.theme` against what the front end knows."""
    config_path = find_config_path(path)
    for reader in plugins.config_readers():
        if reader.claims(config_path):
            return reader.read(config_path)
    return RunwayYamlReader(config_path, tui_names).parse()


def _found_by_readers(start: Path) -> Path | None:
    """The first file a registered reader finds below `start` (a mongorunway.yaml), when there is no runway.yaml."""
    for reader in plugins.config_readers():
        found = reader.find(start)
        if found is not None:
            return found
    return None
