"""The YAML configuration: discovery, `${VAR}` interpolation and strict, schema-driven validation.

Map of the package (`from runway_tui.engine.config import ...` keeps working for every name below):
- model.py        frozen dataclasses: Config, AppConfig, Timeouts, WriteConcernConfig, TuiConfig, TuiNames
- nodes.py        the public YAML-node toolkit (NodeReader, kinds, file:line errors) every reader builds on
- runway_yaml.py  runway.yaml's schema -> Config
- interpolate.py  `${VAR}` expansion
- suggest.py      "did you mean" for misspelt keys and names
- discovery.py    find_config_path and load_config (other formats come from `engine.plugins` config readers)
"""

from runway_tui.engine.config.discovery import find_config_path, load_config
from runway_tui.engine.config.model import (
    DEFAULT_CONFIG_NAME,
    EMBEDDED,
    AppConfig,
    Config,
    Timeouts,
    TuiConfig,
    TuiNames,
    WriteConcernConfig,
    with_lock_wait,
)
from runway_tui.engine.config.nodes import MAX_CONFIG_BYTES, NodeReader, compose_yaml
from runway_tui.engine.config.runway_yaml import (
    COMPAT_MODES,
    FILENAME_STRATEGIES,
    READ_PREFERENCES,
    RunwayYamlReader,
)

__all__ = [
    "COMPAT_MODES", "DEFAULT_CONFIG_NAME", "EMBEDDED", "FILENAME_STRATEGIES", "MAX_CONFIG_BYTES", "READ_PREFERENCES",
    "AppConfig", "Config", "NodeReader", "RunwayYamlReader", "Timeouts", "TuiConfig", "TuiNames",
    "WriteConcernConfig", "compose_yaml", "find_config_path", "load_config", "with_lock_wait",
]
