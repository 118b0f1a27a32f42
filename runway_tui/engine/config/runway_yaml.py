"""runway.yaml's schema, read into the configuration model (`model.py`) with the node toolkit (`nodes.py`).

Adding a key: its kind in the schema tables below, its field in `model.py`, its reading in the section's
`parse_*` method, and a line in sample_config.yaml.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml

from runway_tui.engine.backfill.throttle import ThrottleSettings, settings_problem
from runway_tui.engine.config.model import (
    EMBEDDED,
    AppConfig,
    Config,
    Timeouts,
    TuiConfig,
    TuiNames,
    WriteConcernConfig,
)
from runway_tui.engine.config.nodes import (
    BOOL,
    INT,
    MAP,
    NULLS,
    NUM,
    STR,
    STRLIST,
    STRMAP,
    InterpolationError,
    NodeReader,
    compose_yaml,
    is_null,
)
from runway_tui.engine.config.suggest import closest, did_you_mean
from runway_tui.engine.errors import ConfigError

READ_PREFERENCES = ("primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest")

TIMEOUT_KEYS: dict[str, str] = {
    "server_selection_ms": INT,
    "connect_ms": INT,
    "socket_ms": INT,
    "lock_wait_s": NUM,
    "lock_ttl_s": NUM,
    "embedded_start_s": NUM,
    "embedded_grace_s": NUM,
}
APP_KEYS: dict[str, str] = {
    "uri": STR,
    "database": STR,
    "migrations_collection": STR,
    "auditlog_collection": STR,
    "lock_collection": STR,
    "auditlog_limit": INT,
    "read_only": BOOL,
    "production": BOOL,
    "group": BOOL,
    "timeouts": MAP,
    "write_concern": MAP,
    "rehearsal": MAP,
    "backfill": MAP,
    "fleet": MAP,
}
BACKFILL_KEYS: dict[str, str] = {"batch_ms": INT, "max_docs_per_s": NUM, "max_lag_s": NUM}
REHEARSAL_KEYS: dict[str, str] = {"uri": STR, "database": STR}
WRITE_CONCERN_KEYS: dict[str, str] = {"w": STR, "j": BOOL, "wtimeout_ms": INT}
APP_REQUIRED = ("uri", "database")
TUI_KEYS: dict[str, str] = {"theme": STR, "poll_interval_s": NUM, "log_max_lines": INT, "keymap": STRMAP,
                            "redact_fields": STRLIST, "inspect_read_preference": STR, "inspect_max_time_ms": INT,
                            "schema_sample_size": INT, "slow_op_threshold_s": NUM}
TOP_KEYS: dict[str, str] = {"scripts_dir": STR, "default_app": STR, "applications": MAP, "tui": MAP,
                            "compat": STR, "filename_strategy": STR, "use_filename_strategy": BOOL}
COMPAT_MODES = ("runway", "mongorunway")
FILENAME_STRATEGIES = ("numerical", "unix_timestamp")
TOP_REQUIRED = ("scripts_dir", "applications")
# Upper bounds of the timeouts (beyond them the driver or date arithmetic overflows): ~24 days, one year.
_MAX_MS, _MAX_S = 2**31 - 1, 365 * 24 * 3600.0


class RunwayYamlReader(NodeReader):
    """runway.yaml: the top level, the applications, their timeouts and write concern, the TUI's section."""

    def __init__(self, path: Path, tui_names: TuiNames | None = None) -> None:
        super().__init__(path)
        self.tui_names = tui_names

    def read(self) -> Config:
        root = compose_yaml(self.path)
        if root is None:
            raise ConfigError(f"{self.path}: the file is empty; it needs 'scripts_dir' and 'applications'")
        top = self.mapping(root, "", TOP_KEYS, TOP_REQUIRED)

        scripts_dir = self.path.parent  # stands in while a bad scripts_dir is reported
        if "scripts_dir" in top:
            with self.collecting():
                scripts_dir = self.parse_scripts_dir(top["scripts_dir"])
        default_app = None
        with self.collecting():
            default_app = self.optional(top, "default_app", STR)
        tui = TuiConfig()
        with self.collecting():
            tui = self.parse_tui(top.get("tui"))
        conventions = self.parse_conventions(top)

        applications: dict[str, AppConfig] = {}
        app_errors: dict[str, ConfigError] = {}
        names: list[str] = []
        apps_node = top.get("applications")
        if apps_node is not None and (not isinstance(apps_node, yaml.MappingNode) or not apps_node.value):
            self.problems.append(self.error(apps_node, "applications",
                                            "expected a mapping of application names to settings"))
        elif apps_node is not None:
            for name_node, app_node in self.pairs(apps_node, "applications"):
                name = name_node.value
                names.append(name)
                with self.collecting():
                    try:
                        applications[name] = self.parse_app(name, app_node, scripts_dir, conventions)
                    except InterpolationError as exc:
                        app_errors[name] = exc.error
        if default_app is not None and names and default_app not in names:
            self.problems.append(self.error(
                top["default_app"], "default_app",
                f"names no application{did_you_mean(default_app, names)}; known: {', '.join(names)}",
            ))
        self.raise_problems()
        return Config(self.path, scripts_dir, default_app, tui, applications, app_errors)

    def parse_scripts_dir(self, node: yaml.Node) -> Path:
        raw = self.scalar(node, "scripts_dir", STR)
        if not raw:
            raise self.error(node, "scripts_dir", "must not be empty")
        try:
            return (self.path.parent / Path(raw).expanduser()).resolve()
        except (RuntimeError, OSError) as exc:  # a loop of symbolic links
            raise self.error(node, "scripts_dir", f"{raw!r} cannot be resolved ({exc}); "
                             "it must name a folder") from None

    # -- sections
    def parse_conventions(self, top: dict[str, yaml.Node]) -> dict[str, Any]:
        """The project-wide keys every application inherits (`compat`, `filename_strategy`, ...)."""
        conventions: dict[str, Any] = {}
        for key, allowed in (("compat", COMPAT_MODES), ("filename_strategy", FILENAME_STRATEGIES)):
            with self.collecting():
                value = self.optional(top, key, STR)
                if value is None:
                    continue
                if value not in allowed:
                    raise self.error(top[key], key, f"{value!r} is not one of {', '.join(allowed)}"
                                                    f"{did_you_mean(value, list(allowed))}")
                conventions[key] = value
        with self.collecting():
            use = self.optional(top, "use_filename_strategy", BOOL)
            if use is not None:
                conventions["use_filename_strategy"] = use
        return conventions

    def parse_app(self, name: str, node: yaml.Node, scripts_dir: Path,
                  conventions: dict[str, Any] | None = None) -> AppConfig:
        prefix = f"applications.{name}"
        from runway_tui.engine.fleet.config import has_fleet_key, parse_fleet

        values = self.mapping(node, prefix, APP_KEYS, () if has_fleet_key(node) else APP_REQUIRED)
        uri = database = ""  # stand in while a bad value is reported
        if "uri" in values:
            with self.collecting():
                uri = self.scalar(values["uri"], f"{prefix}.uri", STR, interpolate_app=True)
                self.check_uri(values["uri"], f"{prefix}.uri", uri)
        if "database" in values:
            with self.collecting():
                database = self.scalar(values["database"], f"{prefix}.database", STR, interpolate_app=True)
                self.check_database(values["database"], f"{prefix}.database", database)
        kwargs: dict[str, Any] = {}
        for key in ("migrations_collection", "auditlog_collection", "lock_collection"):
            if key in values:
                with self.collecting():
                    value = self.scalar(values[key], f"{prefix}.{key}", STR, interpolate_app=True)
                    self.check_collection(values[key], f"{prefix}.{key}", value)
                    kwargs[key] = value
        for key in ("auditlog_limit", "read_only", "production", "group"):
            with self.collecting():
                value = self.optional(values, key, APP_KEYS[key], prefix=prefix, interpolate_app=True)
                if value is not None:
                    kwargs[key] = value
        if kwargs.get("auditlog_limit") is not None and kwargs["auditlog_limit"] < 1:
            self.problems.append(self.error(values["auditlog_limit"], f"{prefix}.auditlog_limit",
                                            "must be at least 1 (or null)"))
        collections = [kwargs.get(k, getattr(AppConfig, k)) for k in
                       ("migrations_collection", "auditlog_collection", "lock_collection")]
        if len(set(collections)) != 3:
            self.problems.append(self.error(node, prefix, "migrations, audit log and lock collections must be "
                                                          "three different names"))
        if "timeouts" in values:
            with self.collecting():
                kwargs["timeouts"] = self.parse_timeouts(values["timeouts"], f"{prefix}.timeouts")
        if "write_concern" in values and not is_null(values["write_concern"]):
            with self.collecting():
                kwargs["write_concern"] = self.parse_write_concern(values["write_concern"], f"{prefix}.write_concern")
                kwargs["write_concern_explicit"] = True
        if "rehearsal" in values and not is_null(values["rehearsal"]):
            with self.collecting():
                kwargs.update(self.parse_rehearsal(values["rehearsal"], f"{prefix}.rehearsal"))
        if "backfill" in values and not is_null(values["backfill"]):
            with self.collecting():
                kwargs["backfill"] = self.parse_backfill(values["backfill"], f"{prefix}.backfill")
        if "fleet" in values:  # one project, many tenant databases: parsed by engine/fleet/config.py
            with self.collecting():
                kwargs["fleet"] = parse_fleet(self, values["fleet"], prefix, uri, database)
                uri = uri or kwargs["fleet"].control.uri
        return AppConfig(name=name, uri=uri, database=database, scripts_dir=scripts_dir,
                         config_path=self.path, **(conventions or {}), **kwargs)

    def parse_rehearsal(self, node: yaml.Node, prefix: str) -> dict[str, Any]:
        """`rehearsal: {uri, database}`: the scratch server of `rehearse` (its password is a secret too)."""
        values = self.mapping(node, prefix, REHEARSAL_KEYS, ())
        out: dict[str, Any] = {}
        if "uri" in values:
            out["rehearsal_uri"] = self.scalar(values["uri"], f"{prefix}.uri", STR, interpolate_app=True)
            if out["rehearsal_uri"] != EMBEDDED:
                self.check_uri(values["uri"], f"{prefix}.uri", out["rehearsal_uri"])
        if "database" in values:
            out["rehearsal_database"] = self.scalar(values["database"], f"{prefix}.database", STR)
            self.check_database(values["database"], f"{prefix}.database", out["rehearsal_database"])
        return out

    def parse_backfill(self, node: yaml.Node, prefix: str) -> ThrottleSettings:
        """`backfill: {batch_ms, max_docs_per_s, max_lag_s}`: each checked as a call's argument would be."""
        values = self.mapping(node, prefix, BACKFILL_KEYS, ())
        settings = ThrottleSettings()
        for key, kind in BACKFILL_KEYS.items():
            with self.collecting():
                value = self.optional(values, key, kind, prefix=prefix, interpolate_app=True)
                if value is None:
                    continue
                trial = dataclasses.replace(settings, **{key: value})
                problem = settings_problem(trial)
                if problem is not None:
                    said = problem.split(", not ")[0].replace(f"{key} ", "", 1)  # "must be a number above 0"
                    raise self.error(values[key], f"{prefix}.{key}", said)
                settings = trial
        return settings

    def parse_timeouts(self, node: yaml.Node, prefix: str) -> Timeouts:
        values = self.mapping(node, prefix, TIMEOUT_KEYS, ())
        kwargs: dict[str, Any] = {}
        for key, kind in TIMEOUT_KEYS.items():
            with self.collecting():
                value = self.optional(values, key, kind, prefix=prefix, interpolate_app=True)
                if value is None:
                    continue
                if value < 0 or (value == 0 and key not in ("socket_ms", "embedded_grace_s")):
                    raise self.error(values[key], f"{prefix}.{key}", "must be a positive number")
                ceiling = _MAX_MS if key.endswith("_ms") else _MAX_S
                if value > ceiling:
                    raise self.error(values[key], f"{prefix}.{key}", f"must be at most {ceiling:g}")
                kwargs[key] = value
        return Timeouts(**kwargs)

    def parse_write_concern(self, node: yaml.Node, prefix: str) -> WriteConcernConfig:
        values = self.mapping(node, prefix, WRITE_CONCERN_KEYS, ())
        kwargs: dict[str, Any] = {}
        with self.collecting():
            w = self.optional(values, "w", STR, prefix=prefix, interpolate_app=True)
            if w is not None:
                w = w.strip()
                if re.fullmatch(r"[0-9]+", w):
                    kwargs["w"] = int(w)
                elif w and re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", w):
                    kwargs["w"] = w  # "majority" or a tag set name
                else:
                    raise self.error(values["w"], f"{prefix}.w", f"expected 'majority', a number of nodes or a "
                                                                 f"tag set name, got {w!r}")
        with self.collecting():
            j = self.optional(values, "j", BOOL, prefix=prefix, interpolate_app=True)
            if j is not None:
                kwargs["j"] = j
        with self.collecting():
            wtimeout = self.optional(values, "wtimeout_ms", INT, prefix=prefix, interpolate_app=True)
            if wtimeout is not None:
                if not 0 <= wtimeout <= _MAX_MS:
                    raise self.error(values["wtimeout_ms"], f"{prefix}.wtimeout_ms", f"must be 0 to {_MAX_MS}")
                kwargs["wtimeout_ms"] = wtimeout
        if kwargs.get("w") == 0 and kwargs.get("j", True):
            raise self.error(node, f"{prefix}.w", "w: 0 (unacknowledged) cannot be journaled; give j: false too")
        return WriteConcernConfig(**kwargs)

    def parse_tui(self, node: yaml.Node | None) -> TuiConfig:
        if node is None or (isinstance(node, yaml.ScalarNode) and node.value in NULLS):
            return TuiConfig()
        values = self.mapping(node, "tui", TUI_KEYS, ())
        kwargs: dict[str, Any] = {}
        for key, kind in TUI_KEYS.items():
            if key not in values:
                continue
            with self.collecting():
                if kind == STRMAP:
                    kwargs[key] = self.string_map(values[key], f"tui.{key}")
                elif kind == STRLIST:
                    kwargs[key] = self.string_list(values[key], f"tui.{key}")
                else:
                    value = self.optional(values, key, kind, prefix="tui")
                    if value is not None:
                        kwargs[key] = value
        if kwargs.get("poll_interval_s", 1.0) <= 0:
            self.problems.append(self.error(values["poll_interval_s"], "tui.poll_interval_s",
                                            "must be a positive number"))
        if kwargs.get("log_max_lines", 1) < 1:
            self.problems.append(self.error(values["log_max_lines"], "tui.log_max_lines", "must be at least 1"))
        lines = {"theme": values["theme"].start_mark.line + 1} if "theme" in values else {}
        keymap_keys: list[yaml.ScalarNode] = []
        if isinstance(values.get("keymap"), yaml.MappingNode):
            keymap_keys = [k for k, _ in values["keymap"].value if isinstance(k, yaml.ScalarNode)]
            lines |= {f"keymap.{k.value}": k.start_mark.line + 1 for k in keymap_keys}
        self.check_inspect(values, kwargs)
        self.check_tui_names(values, kwargs, keymap_keys)
        return TuiConfig(**kwargs, lines=lines)

    def check_tui_names(self, values: dict[str, yaml.Node], kwargs: dict[str, Any],
                        keymap_keys: list[yaml.ScalarNode]) -> None:
        """Keymap ids and the theme name, checked against the names the front end gave (if it gave them)."""
        if self.tui_names is None:
            return
        ids = list(self.tui_names.keymap_ids)
        for key_node in keymap_keys:
            if key_node.value not in ids and key_node.value in kwargs.get("keymap", {}):
                self.problems.append(self.error(key_node, f"tui.keymap.{key_node.value}",
                                                f"unknown binding id ({closest(key_node.value, ids)})"))
        theme = kwargs.get("theme")
        if theme is not None and theme not in self.tui_names.themes:
            self.problems.append(self.error(values["theme"], "tui.theme", f"unknown theme {theme!r} "
                                            f"({closest(theme, sorted(self.tui_names.themes))})"))

    def check_inspect(self, values: dict[str, yaml.Node], kwargs: dict[str, Any]) -> None:
        """The explorer's keys: a known read preference, positive bounds, non-empty redaction patterns."""
        preference = kwargs.get("inspect_read_preference")
        if preference is not None and preference not in READ_PREFERENCES:
            self.problems.append(self.error(values["inspect_read_preference"], "tui.inspect_read_preference",
                                            f"{preference!r} is not a read preference"
                                            f"{did_you_mean(preference, list(READ_PREFERENCES))}; use one of "
                                            f"{', '.join(READ_PREFERENCES)}"))
        for key in ("inspect_max_time_ms", "schema_sample_size", "slow_op_threshold_s"):
            if key in kwargs and kwargs[key] <= 0:
                self.problems.append(self.error(values[key], f"tui.{key}", "must be a positive number"))
        if any(not pattern.strip() for pattern in kwargs.get("redact_fields", ())):
            self.problems.append(self.error(values["redact_fields"], "tui.redact_fields",
                                            "patterns must not be empty"))
