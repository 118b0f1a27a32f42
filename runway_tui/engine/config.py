"""The YAML configuration: discovery, `${VAR}` interpolation and strict, schema-driven validation.

Values are read from the YAML node tree, never through YAML's implicit typing, so a value is only
ever converted to the type its key declares: `127.0.0.1`, `0123` or `yes` given for a string key stay
exactly the string that was written. Every error names the file, the line and the dotted key, and the
whole file is checked in one read: several errors are reported together, in file order (`ConfigErrors`).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from runway_tui.engine.errors import ConfigError, ConfigErrors
from runway_tui.engine.uri import mask_uri, scrub, uri_secrets

DEFAULT_CONFIG_NAME = "runway.yaml"
EMBEDDED = "embedded"


@dataclass(frozen=True)
class Timeouts:
    """Every wait the engine makes is bounded by one of these."""

    server_selection_ms: int = 5000
    connect_ms: int = 5000
    socket_ms: int = 0
    lock_wait_s: float = 30.0
    lock_ttl_s: float = 60.0
    embedded_start_s: float = 30.0
    # An idle embedded daemon stays up this long after its last user left, so that the next command
    # connects at once; 0 stops it with its last user.
    embedded_grace_s: float = 60.0


@dataclass(frozen=True)
class WriteConcernConfig:
    """The write concern of every write we make (state, audit, lock, each step's commit) and, through
    `ctx.db`, of the migrations' own writes. Durable by default: what is reported applied survives a crash."""

    w: str | int = "majority"
    j: bool = True
    wtimeout_ms: int = 0  # 0: wait as long as it takes (bounded by the socket timeout, if any)

    def client_options(self) -> dict[str, object]:
        options: dict[str, object] = {"w": self.w, "journal": self.j}
        if self.wtimeout_ms:
            options["wTimeoutMS"] = self.wtimeout_ms
        return options


@dataclass(frozen=True)
class AppConfig:
    """One named application (environment): where its database is and how to treat it."""

    name: str
    uri: str = field(repr=False)  # may hold a password: repr() shows `masked_uri` never this
    database: str
    scripts_dir: Path
    config_path: Path
    migrations_collection: str = "migrations"
    auditlog_collection: str = "auditlog"
    lock_collection: str = "migrations_lock"
    auditlog_limit: int | None = None
    read_only: bool = False
    production: bool = False
    # Runs of several steps in ONE transaction with all their records (`up --all --group`): all or nothing.
    group: bool = False
    timeouts: Timeouts = field(default_factory=Timeouts)
    write_concern: WriteConcernConfig = field(default_factory=WriteConcernConfig)
    write_concern_explicit: bool = False  # given in the config: wins over w=/journal= in the URI
    # The project's conventions (top-level keys, copied into every application, since they describe the
    # script directory and the record shapes): `compat: mongorunway` keeps Mongorunway's exact record and
    # audit fields and writes Mongorunway-format templates; `filename_strategy` says how a file name gives
    # its version ("numerical": `001_name.py`, "unix_timestamp": `1796172596_name.py`, version from the
    # file's `version` variable); `use_filename_strategy: false` accepts any name.
    compat: str = "runway"
    filename_strategy: str = "numerical"
    use_filename_strategy: bool = True
    # From a mongorunway.yaml (runway_tui/compat/mongorunway/config.py): the audit entries' `date_fmt` and the
    # zone Mongorunway users read dates in; "nothing to do" as a failure (raise_on_transaction_failure, for
    # the Mongorunway verbs); app_events handlers (event class name, dotted path, priority); and whether the
    # audit collection is Mongorunway's own (use_auditlog), which it reads back.
    date_format: str = "%Y-%m-%d %H:%M:%S"
    timezone: str = "UTC"
    fail_when_nothing_to_do: bool = False
    event_handlers: tuple[tuple[str, str, int | None], ...] = ()
    mongorunway_auditlog: bool = True
    fleet: Any = None  # a FleetConfig (engine/fleet/config.py): this application is a fleet of tenant databases

    @property
    def is_embedded(self) -> bool:
        return self.uri == EMBEDDED

    @property
    def embedded_dir(self) -> Path:
        """Where the embedded daemon keeps its data: next to the config file, so it survives restarts."""
        return self.config_path.parent / ".runway" / "embedded"

    @property
    def masked_uri(self) -> str:
        return mask_uri(self.uri)

    @property
    def secrets(self) -> list[str]:
        """Strings that must never be shown (the URI's password)."""
        return uri_secrets(self.uri)


@dataclass(frozen=True)
class TuiConfig:
    """Settings of the terminal UI front end."""

    theme: str = "textual-dark"
    poll_interval_s: float = 2.0
    log_max_lines: int = 5000
    keymap: dict[str, str] = field(default_factory=dict)
    # the line of `theme` and of each `keymap.<id>` key: the TUI checks names the engine cannot know
    lines: dict[str, int] = field(default_factory=dict, compare=False)
    # the read-only explorer (engine/inspect.py): every read is bounded, may go to a secondary, and redacts
    redact_fields: tuple[str, ...] = ()  # field names (any depth) or glob paths such as "*.ssn"
    inspect_read_preference: str = "primaryPreferred"
    inspect_max_time_ms: int = 5000
    schema_sample_size: int = 1000
    slow_op_threshold_s: float = 1.0


@dataclass(frozen=True)
class TuiNames:
    """The keymap ids and theme names a front end knows: given to `load_config` so that an unknown one is
    reported with the file's other errors, in file order (the engine cannot know them: it knows no Textual)."""

    keymap_ids: tuple[str, ...]
    themes: tuple[str, ...]


@dataclass(frozen=True)
class Config:
    """A whole configuration file."""

    path: Path
    scripts_dir: Path
    default_app: str | None
    tui: TuiConfig
    applications: dict[str, AppConfig]
    # Interpolation errors are kept per application so that a missing `${PROD_PASSWORD}`
    # only stops someone who actually selects `prod`.
    app_errors: dict[str, ConfigError] = field(default_factory=dict)
    # One line per key read but without meaning for us (a mongorunway.yaml): shown, never silently dropped.
    notes: tuple[str, ...] = ()

    @property
    def app_names(self) -> list[str]:
        return list(self.applications) + [n for n in self.app_errors if n not in self.applications]

    def app(self, name: str | None = None) -> AppConfig:
        """Select an application: `name` > `RUNWAY_APP` > `default_app` > the only one."""
        if name is not None and not name.strip():
            raise ConfigError(f"{self.path}: --app is empty; name one of the applications "
                              f"({', '.join(self.app_names) or 'none'}) or leave --app out")
        chosen = name or os.environ.get("RUNWAY_APP") or self.default_app
        names = self.app_names
        if not chosen:
            if len(names) == 1:
                chosen = names[0]
            else:
                raise ConfigError(
                    f"{self.path}: several applications ({', '.join(names)}); choose one with --app NAME, "
                    "RUNWAY_APP or default_app"
                )
        if chosen in self.app_errors:
            raise self.app_errors[chosen]
        if chosen not in self.applications:
            raise ConfigError(
                f"{self.path}: unknown application {chosen!r}{_did_you_mean(chosen, names)}; "
                f"known: {', '.join(names) or 'none'}"
            )
        return self.applications[chosen]


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
        from runway_tui.compat.mongorunway.config import find_mongorunway_config

        found = find_mongorunway_config(Path.cwd())
        if found is not None:
            _check_config_file(found, "(found below the current folder)")
            return found.resolve()
        raise ConfigError(
            f"no configuration found: pass --config PATH, set RUNWAY_CONFIG, or create ./{DEFAULT_CONFIG_NAME} "
            "(sample_config.yaml documents every key; a mongorunway.yaml below this folder is found too)"
        )
    _check_config_file(path, "")
    return path.resolve()


MAX_CONFIG_BYTES = 1024 * 1024  # a configuration is a few kilobytes; anything this large is not one


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
    from runway_tui.compat.mongorunway.config import is_mongorunway_file, read_mongorunway_config

    if is_mongorunway_file(config_path):
        return read_mongorunway_config(config_path)
    return _Parser(config_path, tui_names).parse()


# --------------------------------------------------------------------------------------------- schema

_STR, _BOOL, _INT, _NUM, _MAP, _STRMAP = "string", "boolean", "integer", "number", "mapping", "string map"
_STRLIST = "list of strings"
READ_PREFERENCES = ("primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest")

_TIMEOUT_KEYS: dict[str, str] = {
    "server_selection_ms": _INT,
    "connect_ms": _INT,
    "socket_ms": _INT,
    "lock_wait_s": _NUM,
    "lock_ttl_s": _NUM,
    "embedded_start_s": _NUM,
    "embedded_grace_s": _NUM,
}
_APP_KEYS: dict[str, str] = {
    "uri": _STR,
    "database": _STR,
    "migrations_collection": _STR,
    "auditlog_collection": _STR,
    "lock_collection": _STR,
    "auditlog_limit": _INT,
    "read_only": _BOOL,
    "production": _BOOL,
    "group": _BOOL,
    "timeouts": _MAP,
    "write_concern": _MAP,
    "fleet": _MAP,
}
_WRITE_CONCERN_KEYS: dict[str, str] = {"w": _STR, "j": _BOOL, "wtimeout_ms": _INT}
_APP_REQUIRED = ("uri", "database")
_TUI_KEYS: dict[str, str] = {"theme": _STR, "poll_interval_s": _NUM, "log_max_lines": _INT, "keymap": _STRMAP,
                             "redact_fields": _STRLIST, "inspect_read_preference": _STR, "inspect_max_time_ms": _INT,
                             "schema_sample_size": _INT, "slow_op_threshold_s": _NUM}
_TOP_KEYS: dict[str, str] = {"scripts_dir": _STR, "default_app": _STR, "applications": _MAP, "tui": _MAP,
                             "compat": _STR, "filename_strategy": _STR, "use_filename_strategy": _BOOL}
COMPAT_MODES = ("runway", "mongorunway")
FILENAME_STRATEGIES = ("numerical", "unix_timestamp")
_TOP_REQUIRED = ("scripts_dir", "applications")

_NULLS = {"", "~", "null", "Null", "NULL"}
_INVALID_DB_CHARS = set('/\\. "$*<>:|?\x00')
_RESERVED_DATABASES = {"admin", "local", "config"}  # the server's own: migrating them is never meant
MAX_INT = 2**63 - 1
# Upper bounds of the timeouts (beyond them the driver or date arithmetic overflows): ~24 days, one year.
_MAX_MS, _MAX_S = 2**31 - 1, 365 * 24 * 3600.0
_TLS_FILE_OPTIONS = ("tlsCAFile", "tlsCertificateKeyFile", "tlsCRLFile")


def compose_yaml(path: Path) -> yaml.Node | None:
    """The file's YAML node tree (every value keeps its line), or one line naming what is wrong with it."""
    from runway_tui.engine.project_files import NotReadable, read_text

    try:
        text = read_text(path, MAX_CONFIG_BYTES, "configuration")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save the configuration as UTF-8") from None
    except NotReadable as exc:
        raise ConfigError(f"{path}: cannot read the configuration: it {exc.strerror}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror}") from None
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise ConfigError(f"{path}: not valid YAML for a configuration: nested too deeply") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = exc.problem or exc.context or "syntax error"
        raise ConfigError(f"{path}{line}: not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None


class _Parser:
    """Walks the composed YAML node tree so every value keeps its line number."""

    def __init__(self, path: Path, tui_names: TuiNames | None = None) -> None:
        self.path = path
        self.name = path.name
        self.tui_names = tui_names
        self.problems: list[ConfigError] = []
        self.secrets: list[str] = []  # every URI's password and secret options: scrubbed from every error

    def error(self, node: yaml.Node | None, key: str, problem: str) -> ConfigError:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        where = f" {key}:" if key else ""
        error = ConfigError(f"{self.path}{line}:{where} {problem}")
        error.line = node.start_mark.line + 1 if node is not None else 0
        return error

    @contextmanager
    def collecting(self) -> Iterator[None]:
        """Note an error and go on with the next key, so one read reports every error of the file."""
        try:
            yield
        except ConfigError as exc:
            self.problems.append(exc)

    def raise_problems(self) -> None:
        """All the errors noted, in file order: one line each (a lone error stays a plain `ConfigError`)."""
        if not self.problems:
            return
        ordered = sorted(self.problems, key=lambda error: error.line)  # stable: same line keeps its order
        raise ordered[0] if len(ordered) == 1 else ConfigErrors(ordered)

    # -- entry point
    def parse(self) -> Config:
        """The configuration, or its errors with every secret the file holds scrubbed from their text: an
        error may quote a value that is also a URI's password, or another application's URI."""
        try:
            config = self.read()
        except ConfigError as exc:
            raise self.scrubbed(exc) from None
        if not config.app_errors:
            return config
        return replace(config, app_errors={name: self.scrubbed(error) for name, error in config.app_errors.items()})

    def scrubbed(self, error: ConfigError) -> ConfigError:
        if isinstance(error, ConfigErrors):
            return ConfigErrors([self.scrubbed(one) for one in error.errors])
        clean = ConfigError(scrub(str(error), self.secrets))
        clean.line = error.line
        return clean

    def read(self) -> Config:
        root = compose_yaml(self.path)
        if root is None:
            raise ConfigError(f"{self.path}: the file is empty; it needs 'scripts_dir' and 'applications'")
        top = self.mapping(root, "", _TOP_KEYS, _TOP_REQUIRED)

        scripts_dir = self.path.parent  # stands in while a bad scripts_dir is reported
        if "scripts_dir" in top:
            with self.collecting():
                scripts_dir = self.parse_scripts_dir(top["scripts_dir"])
        default_app = None
        with self.collecting():
            default_app = self.optional(top, "default_app", _STR)
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
                    except _InterpolationError as exc:
                        app_errors[name] = exc.error
        if default_app is not None and names and default_app not in names:
            self.problems.append(self.error(
                top["default_app"], "default_app",
                f"names no application{_did_you_mean(default_app, names)}; known: {', '.join(names)}",
            ))
        self.raise_problems()
        return Config(self.path, scripts_dir, default_app, tui, applications, app_errors)

    def parse_scripts_dir(self, node: yaml.Node) -> Path:
        raw = self.scalar(node, "scripts_dir", _STR)
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
                value = self.optional(top, key, _STR)
                if value is None:
                    continue
                if value not in allowed:
                    raise self.error(top[key], key, f"{value!r} is not one of {', '.join(allowed)}"
                                                    f"{_did_you_mean(value, list(allowed))}")
                conventions[key] = value
        with self.collecting():
            use = self.optional(top, "use_filename_strategy", _BOOL)
            if use is not None:
                conventions["use_filename_strategy"] = use
        return conventions

    def parse_app(self, name: str, node: yaml.Node, scripts_dir: Path,
                  conventions: dict[str, Any] | None = None) -> AppConfig:
        prefix = f"applications.{name}"
        from runway_tui.engine.fleet.config import has_fleet_key, parse_fleet

        values = self.mapping(node, prefix, _APP_KEYS, () if has_fleet_key(node) else _APP_REQUIRED)
        uri = database = ""  # stand in while a bad value is reported
        if "uri" in values:
            with self.collecting():
                uri = self.scalar(values["uri"], f"{prefix}.uri", _STR, interpolate_app=True)
                self.check_uri(values["uri"], f"{prefix}.uri", uri)
        if "database" in values:
            with self.collecting():
                database = self.scalar(values["database"], f"{prefix}.database", _STR, interpolate_app=True)
                self.check_database(values["database"], f"{prefix}.database", database)
        kwargs: dict[str, Any] = {}
        for key in ("migrations_collection", "auditlog_collection", "lock_collection"):
            if key in values:
                with self.collecting():
                    value = self.scalar(values[key], f"{prefix}.{key}", _STR, interpolate_app=True)
                    self.check_collection(values[key], f"{prefix}.{key}", value)
                    kwargs[key] = value
        for key in ("auditlog_limit", "read_only", "production", "group"):
            with self.collecting():
                value = self.optional(values, key, _APP_KEYS[key], prefix=prefix, interpolate_app=True)
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
        if "write_concern" in values and not _is_null(values["write_concern"]):
            with self.collecting():
                kwargs["write_concern"] = self.parse_write_concern(values["write_concern"], f"{prefix}.write_concern")
                kwargs["write_concern_explicit"] = True
        if "fleet" in values:  # one project, many tenant databases: parsed by engine/fleet/config.py
            with self.collecting():
                kwargs["fleet"] = parse_fleet(self, values["fleet"], prefix, uri, database)
                uri = uri or kwargs["fleet"].control.uri
        return AppConfig(name=name, uri=uri, database=database, scripts_dir=scripts_dir,
                         config_path=self.path, **(conventions or {}), **kwargs)

    def parse_timeouts(self, node: yaml.Node, prefix: str) -> Timeouts:
        values = self.mapping(node, prefix, _TIMEOUT_KEYS, ())
        kwargs: dict[str, Any] = {}
        for key, kind in _TIMEOUT_KEYS.items():
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
        values = self.mapping(node, prefix, _WRITE_CONCERN_KEYS, ())
        kwargs: dict[str, Any] = {}
        with self.collecting():
            w = self.optional(values, "w", _STR, prefix=prefix, interpolate_app=True)
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
            j = self.optional(values, "j", _BOOL, prefix=prefix, interpolate_app=True)
            if j is not None:
                kwargs["j"] = j
        with self.collecting():
            wtimeout = self.optional(values, "wtimeout_ms", _INT, prefix=prefix, interpolate_app=True)
            if wtimeout is not None:
                if not 0 <= wtimeout <= _MAX_MS:
                    raise self.error(values["wtimeout_ms"], f"{prefix}.wtimeout_ms", f"must be 0 to {_MAX_MS}")
                kwargs["wtimeout_ms"] = wtimeout
        if kwargs.get("w") == 0 and kwargs.get("j", True):
            raise self.error(node, f"{prefix}.w", "w: 0 (unacknowledged) cannot be journaled; give j: false too")
        return WriteConcernConfig(**kwargs)

    def parse_tui(self, node: yaml.Node | None) -> TuiConfig:
        if node is None or (isinstance(node, yaml.ScalarNode) and node.value in _NULLS):
            return TuiConfig()
        values = self.mapping(node, "tui", _TUI_KEYS, ())
        kwargs: dict[str, Any] = {}
        for key, kind in _TUI_KEYS.items():
            if key not in values:
                continue
            with self.collecting():
                if kind == _STRMAP:
                    kwargs[key] = self.string_map(values[key], f"tui.{key}")
                elif kind == _STRLIST:
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
                                                f"unknown binding id ({_closest(key_node.value, ids)})"))
        theme = kwargs.get("theme")
        if theme is not None and theme not in self.tui_names.themes:
            self.problems.append(self.error(values["theme"], "tui.theme", f"unknown theme {theme!r} "
                                            f"({_closest(theme, sorted(self.tui_names.themes))})"))

    def check_inspect(self, values: dict[str, yaml.Node], kwargs: dict[str, Any]) -> None:
        """The explorer's keys: a known read preference, positive bounds, non-empty redaction patterns."""
        preference = kwargs.get("inspect_read_preference")
        if preference is not None and preference not in READ_PREFERENCES:
            self.problems.append(self.error(values["inspect_read_preference"], "tui.inspect_read_preference",
                                            f"{preference!r} is not a read preference"
                                            f"{_did_you_mean(preference, list(READ_PREFERENCES))}; use one of "
                                            f"{', '.join(READ_PREFERENCES)}"))
        for key in ("inspect_max_time_ms", "schema_sample_size", "slow_op_threshold_s"):
            if key in kwargs and kwargs[key] <= 0:
                self.problems.append(self.error(values[key], f"tui.{key}", "must be a positive number"))
        if any(not pattern.strip() for pattern in kwargs.get("redact_fields", ())):
            self.problems.append(self.error(values["redact_fields"], "tui.redact_fields",
                                            "patterns must not be empty"))

    # -- node helpers
    def pairs(self, node: yaml.MappingNode, prefix: str) -> list[tuple[yaml.ScalarNode, yaml.Node]]:
        """The key/value pairs; a non-plain or duplicate key is noted as an error and left out."""
        seen: dict[str, yaml.Node] = {}
        result = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(self.error(key_node, prefix, "keys must be plain names"))
                continue
            key = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            if key_node.value in seen:
                first = seen[key_node.value].start_mark.line + 1
                self.problems.append(self.error(key_node, key, f"duplicate key (first given on line {first})"))
                continue
            seen[key_node.value] = key_node
            result.append((key_node, value_node))
        return result

    def mapping(self, node: yaml.Node, prefix: str, schema: dict[str, str],
                required: tuple[str, ...]) -> dict[str, yaml.Node]:
        """The known keys of a mapping; unknown and missing required keys are noted as errors."""
        if not isinstance(node, yaml.MappingNode):
            where = prefix or "the top level"
            raise self.error(node, prefix, f"expected a mapping (key: value lines) at {where}, got {_describe(node)}")
        values: dict[str, yaml.Node] = {}
        suggested: set[str] = set()  # a misspelt required key is one error ("did you mean"), not two
        for key_node, value_node in self.pairs(node, prefix):
            key = key_node.value
            dotted = f"{prefix}.{key}" if prefix else key
            if key not in schema:
                suggested.update(difflib.get_close_matches(key, list(schema), n=1, cutoff=0.6))
                self.problems.append(self.error(key_node, dotted, f"unknown key{_did_you_mean(key, list(schema))}"))
                continue
            values[key] = value_node
        for key in required:
            if key in suggested and key not in values:
                continue
            if key not in values or _is_null(values[key]):
                dotted = f"{prefix}.{key}" if prefix else key
                self.problems.append(self.error(values.get(key, node), dotted, "required key is missing"))
                values.pop(key, None)
        return values

    def optional(self, values: dict[str, yaml.Node], key: str, kind: str, prefix: str = "",
                 interpolate_app: bool = False) -> Any:
        node = values.get(key)
        if node is None or _is_null(node):
            return None
        dotted = f"{prefix}.{key}" if prefix else key
        return self.scalar(node, dotted, kind, interpolate_app=interpolate_app)

    def scalar(self, node: yaml.Node, key: str, kind: str, interpolate_app: bool = False) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, key, f"expected a {kind}, got {_describe(node)}")
        try:
            raw = _interpolate(node.value)
        except _MissingVariable as exc:
            error = self.error(node, key, f"environment variable {exc.name} is not set "
                                          f"(export it, or give a default: ${{{exc.name}:-value}})")
            if interpolate_app:
                raise _InterpolationError(error) from None
            raise error from None
        except ValueError as exc:
            raise self.error(node, key, str(exc)) from None
        if kind == _STR:
            return raw
        text = raw.strip()
        if kind == _BOOL:
            if text.lower() in ("true", "false"):
                return text.lower() == "true"
            raise self.error(node, key, f"expected true or false, got {raw!r}")
        if kind == _INT:
            if re.fullmatch(r"[+-]?[0-9]+", text):
                value = int(text)
                if abs(value) > MAX_INT:
                    raise self.error(node, key, f"{raw!r} is beyond 64-bit integers")
                return value
            raise self.error(node, key, f"expected a whole number, got {raw!r}")
        if kind == _NUM:
            try:
                if not re.fullmatch(r"[0-9eE+.\-_]+|[+-]?(inf|infinity|nan)", text, re.IGNORECASE):
                    raise ValueError(text)  # float() would take non-ASCII digits ('٥') too
                value = float(text)
            except ValueError:
                raise self.error(node, key, f"expected a number, got {raw!r}") from None
            if value != value or value in (float("inf"), float("-inf")):
                raise self.error(node, key, f"expected a finite number, got {raw!r}")
            return value
        raise AssertionError(kind)

    def string_map(self, node: yaml.Node, key: str) -> dict[str, str]:
        if _is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, key, f"expected a mapping, got {_describe(node)}")
        result: dict[str, str] = {}
        for k, v in self.pairs(node, key):
            with self.collecting():
                result[k.value] = self.scalar(v, f"{key}.{k.value}", _STR)
        return result

    def string_list(self, node: yaml.Node, key: str) -> tuple[str, ...]:
        if _is_null(node):
            return ()
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, key,
                             f"expected a list of strings, e.g. [password, \"*.ssn\"], got {_describe(node)}")
        result: list[str] = []
        for index, item in enumerate(node.value):
            with self.collecting():
                result.append(self.scalar(item, f"{key}[{index}]", _STR))
        return tuple(result)

    # -- value checks
    def check_uri(self, node: yaml.Node, key: str, uri: str) -> None:
        if uri == EMBEDDED:
            return
        self.secrets.extend(uri_secrets(uri))
        masked = mask_uri(uri)
        if not re.match(r"(?i)^mongodb(\+srv)?://", uri):
            raise self.error(node, key, f"{masked!r} is neither 'embedded' nor a mongodb:// or mongodb+srv:// URI")
        if uri.lower().startswith("mongodb+srv://"):
            if not re.match(r"(?i)^mongodb\+srv://([^@/]+@)?[A-Za-z0-9.-]+\.[A-Za-z]{2,}(/.*)?$", uri):
                raise self.error(node, key, f"{masked!r} is not a valid mongodb+srv:// URI (one host name, no port)")
            return
        self.check_tls_files(node, key, uri)
        from pymongo import uri_parser
        from pymongo.errors import ConfigurationError, InvalidURI

        try:
            uri_parser.parse_uri(uri)
        except (InvalidURI, ConfigurationError, ValueError) as exc:
            from runway_tui.engine.uri import scrub

            reason = scrub(str(exc), uri_secrets(uri))
            raise self.error(node, key, f"{masked!r} is not a valid MongoDB URI: {reason}") from None

    def check_tls_files(self, node: yaml.Node, key: str, uri: str) -> None:
        """A missing certificate file is named here, not found later as an "internal error" of the driver."""
        from urllib.parse import unquote

        for name in _TLS_FILE_OPTIONS:
            for match in re.finditer(rf"(?i)[?&;]{name}=([^&;#]*)", uri):
                value = unquote(match.group(1))
                problem = "is empty" if not value else _file_problem(Path(value).expanduser())
                if problem:
                    raise self.error(node, f"{key} ({name})", f"{problem if not value else f'{value!r}: {problem}'}; "
                                                              "give the path of an existing file")
    def check_database(self, node: yaml.Node, key: str, name: str) -> None:
        bad = sorted(_INVALID_DB_CHARS & set(name))
        size = len(name.encode("utf-8", "surrogatepass"))
        if not name or bad or size > 63:
            reason = (f"contains {' '.join(repr(c) for c in bad)}" if bad else
                      f"must be 1 to 63 bytes in UTF-8, it has {size}")
            raise self.error(node, key, f"{name!r} is not a valid database name ({reason})")
        if name.lower() in _RESERVED_DATABASES:
            raise self.error(node, key, f"{name!r} is one of the server's own databases (admin, local, config); "
                                        "name your application's database")

    def check_collection(self, node: yaml.Node, key: str, name: str) -> None:
        reason = ("is empty" if not name else "contains '$'" if "$" in name else "contains a NUL character"
                  if "\x00" in name else "starts with 'system.'" if name.startswith("system.") else
                  "starts or ends with '.', or has '..'" if name.startswith(".") or name.endswith(".") or ".." in name
                  else "is longer than 200 bytes in UTF-8" if len(name.encode("utf-8", "surrogatepass")) > 200
                  else None)
        if reason:
            raise self.error(node, key, f"{name!r} is not a valid collection name ({reason})")


class _MissingVariable(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class _InterpolationError(Exception):
    def __init__(self, error: ConfigError) -> None:
        super().__init__(str(error))
        self.error = error


_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _interpolate(text: str) -> str:
    """Expand `${VAR}` and `${VAR:-default}` (defaults may nest); `$$` is a literal `$`."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            value, i = _expand_one(text, i + 2)
            out.append(value)
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _expand_one(text: str, start: int) -> tuple[str, int]:
    match = _VAR_NAME.match(text, start)
    if not match:
        snippet = text[start - 2:start + 10]
        raise ValueError(f"bad variable reference at '{snippet}': expected ${{NAME}} or ${{NAME:-default}}")
    name, i = match.group(), match.end()
    if text.startswith("}", i):
        if name not in os.environ:
            raise _MissingVariable(name)
        return os.environ[name], i + 1
    if not text.startswith(":-", i):
        raise ValueError(f"bad variable reference ${{{name}...: expected '}}' or ':-default}}'")
    # Find the matching closing brace, allowing nested ${...} inside the default.
    depth, j = 1, i + 2
    while j < len(text):
        if text.startswith("${", j):
            depth += 1
            j += 2
            continue
        if text[j] == "}":
            depth -= 1
            if depth == 0:
                break
        j += 1
    else:
        raise ValueError(f"unclosed ${{{name}:-...: missing '}}'")
    value = os.environ.get(name)
    if value:
        return value, j + 1
    return _interpolate(text[i + 2:j]), j + 1


def _file_problem(path: Path) -> str | None:
    """Why a file named by the configuration cannot be read (None: a regular file): the driver would hang on
    a FIFO."""
    from runway_tui.engine.project_files import check_regular

    try:
        check_regular(path)
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return str(exc.strerror)
    return None


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.style is None and node.value in _NULLS


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"{node.value!r}"


def _closest(word: str, choices: list[str]) -> str:
    """'did you mean X?' or, with nothing close, the names there are."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else f"known: {', '.join(choices)}"


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def with_lock_wait(config: AppConfig, seconds: float | None) -> AppConfig:
    """`config` with `timeouts.lock_wait_s` replaced (`--lock-wait SECONDS`); None leaves it as configured."""
    if seconds is None:
        return config
    return dataclasses.replace(config, timeouts=dataclasses.replace(config.timeouts, lock_wait_s=seconds))
