"""Reading a Mongorunway project's `mongorunway.yaml` into our own configuration model.

Every key of Mongorunway 1.0.7a0 (research/mongorunway.md §3) is either mapped onto our model or named in
one note saying why it has no meaning here; none is silently dropped. Values are read honestly: `127.0.0.1`
stays a host and a password with digits stays that password (Mongorunway's `convert_string` mangled both).
`filesystem.scripts_dir` is relative to the current directory, as Mongorunway resolves it. A
`mongorunway.yaml` implies `compat: mongorunway`: records and audit entries keep Mongorunway's exact shape.
"""

from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from runway_tui.engine.config.model import AppConfig, Config, TuiConfig
from runway_tui.engine.config.nodes import (
    BOOL,
    INT,
    MAP,
    MAX_CONFIG_BYTES,
    STR,
    InterpolationError,
    NodeReader,
    compose_yaml,
    describe,
    is_null,
)
from runway_tui.engine.config.suggest import did_you_mean
from runway_tui.engine.errors import ConfigError

CONFIG_NAMES = ("mongorunway.yaml", "mongorunway.yml")
SKIPPED_FOLDERS = frozenset({".venv", ".git", "node_modules", "site-packages", "dist-packages", "__pycache__"})
DEFAULT_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_FOLDERS = 20_000  # discovery searches at most this many folders below the current one

# filesystem.filename_strategy: the class name (any dotted prefix) -> our conventions
STRATEGIES: dict[str, dict[str, Any]] = {
    "NumericalFilenameStrategy": {"filename_strategy": "numerical"},
    "UnixFilenameStrategy": {"filename_strategy": "unix_timestamp"},
    "MissingFilenameStrategy": {"use_filename_strategy": False},  # any name is valid, kept unchanged
}
# Mongorunway's built-in event handlers, and what runway-tui does instead of each.
BUILTIN_HANDLERS = {
    "sync_scripts_with_repository": "runway-tui synchronises new files with the records before every step",
    "raise_if_migrations_checksum_mismatch": "runway-tui blocks 'up' and 'down' on a changed applied file "
                                             "(drift) already",
    "recalculate_migrations_checksum": "runway-tui never re-accepts an edited applied file silently; accept one "
                                       "with 'runway-tui accept VERSION' (audited)",
}
EVENTS = {"StartingEvent", "ClosingEvent"}

_TOP = {"filesystem": MAP, "applications": MAP, "logging": MAP}
_FILESYSTEM = {"scripts_dir": STR, "filename_strategy": STR, "use_filename_strategy": BOOL}
_APP = {"app_client": MAP, "app_database": STR, "app_repository": MAP, "app_auditlog_journal": MAP,
        "use_auditlog": BOOL, "app_auditlog_limit": INT, "app_timezone": STR, "app_date_format": STR,
        "app_events": MAP, "raise_on_transaction_failure": BOOL, "use_logging": BOOL, "use_indexing": BOOL,
        "use_schema_validation": BOOL, "type": STR}
_UNUSED_APP_KEYS = {
    "use_logging": "runway-tui has its own logging (--debug, the TUI's log pane)",
    "use_indexing": "runway-tui creates the indexes it needs itself (the key is dead in Mongorunway too)",
    "use_schema_validation": "runway-tui's own writes are validated by the engine (the key is dead in "
                             "Mongorunway too)",
    "type": "custom repository classes are not loaded; records are read from app_repository.collection",
}
# MongoClient keyword arguments that are not URI options, and what we do with each.
_CLIENT_NOT_URI = {"document_class", "tz_aware", "connect", "type_registry", "datetime_conversion", "driver",
                   "server_api", "event_listeners", "host", "port", "username", "password"}


def is_mongorunway_file(path: Path) -> bool:
    """A Mongorunway configuration: its name, or a top-level `mongorunway:` key (for any other name)."""
    if path.name in CONFIG_NAMES:
        return True
    from runway_tui.engine.project_files import read_text

    try:  # a file we refuse to read is not one: reading it as ours says why, in one line
        return any(line.startswith("mongorunway:") for line in read_text(path, MAX_CONFIG_BYTES).splitlines())
    except (OSError, UnicodeDecodeError):
        return False


def find_mongorunway_config(start: Path) -> Path | None:
    """The shallowest `mongorunway.yaml`/`.yml` below `start` (Mongorunway's discovery, made predictable):
    the folder's own file first, then each level in name order. Never inside a virtualenv (any folder
    holding a `pyvenv.cfg`, whatever its name), `site-packages`, `.git` or `node_modules`: a dependency's
    file there is not the project's."""
    level = [start]
    visited = 0
    while level:
        below: list[Path] = []
        for folder in level:
            visited += 1
            if visited > MAX_FOLDERS:  # a home directory or a monorepo: stop rather than hang
                return None
            names = _entries(folder)
            for name in CONFIG_NAMES:
                if name in names and not names[name]:
                    return folder / name
            below.extend(folder / name for name, is_dir in sorted(names.items())
                         if is_dir and name not in SKIPPED_FOLDERS and not (folder / name / "pyvenv.cfg").exists())
        level = below
    return None


def _entries(folder: Path) -> dict[str, bool]:
    """Name -> is a folder (not following links to folders); an unreadable folder has none, it is not fatal."""
    import os

    try:
        with os.scandir(folder) as entries:
            return {entry.name: _is_folder(entry) for entry in entries}
    except OSError:
        return {}


def _is_folder(entry: Any) -> bool:
    try:
        return bool(entry.is_dir(follow_symlinks=False))
    except OSError:
        return False


def read_mongorunway_config(path: Path, cwd: Path | None = None) -> Config:
    """Read a Mongorunway configuration file (see the module docstring)."""
    return _MongorunwayParser(path, cwd or Path.cwd()).parse()


class _MongorunwayParser(NodeReader):
    """The engine's public YAML node toolkit (line numbers in every error), with Mongorunway's schema."""

    def __init__(self, path: Path, cwd: Path) -> None:
        super().__init__(path)
        self.cwd = cwd
        self.notes: list[str] = []

    def note(self, node: yaml.Node, key: str, text: str) -> None:
        self.notes.append(f"{self.path}:{node.start_mark.line + 1}: {key}: {text}")

    def lenient(self, node: yaml.Node, prefix: str, schema: dict[str, str],
                required: tuple[str, ...] = ()) -> dict[str, yaml.Node]:
        """Like `mapping`, but an unknown key (Mongorunway ignores those) is a note, not an error."""
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, prefix, f"expected a mapping (key: value lines), got {describe(node)}")
        values: dict[str, yaml.Node] = {}
        for key_node, value_node in self.pairs(node, prefix):
            dotted = f"{prefix}.{key_node.value}" if prefix else key_node.value
            if key_node.value not in schema:
                self.note(key_node, dotted, f"unknown key, ignored (Mongorunway ignores it too)"
                                            f"{did_you_mean(key_node.value, list(schema))}")
                continue
            values[key_node.value] = value_node
        for key in required:
            if key not in values or is_null(values[key]):
                raise self.error(values.get(key, node), f"{prefix}.{key}" if prefix else key, "required key is missing")
        return values

    def read(self) -> Config:
        root = self.compose()
        top_level = self.mapping(root, "", {"mongorunway": MAP}, ("mongorunway",))
        top = self.lenient(top_level["mongorunway"], "mongorunway", _TOP, ("filesystem", "applications"))
        if "logging" in top:
            self.note(top["logging"], "mongorunway.logging", "not used: runway-tui has its own logging")
        filesystem = self.lenient(top["filesystem"], "mongorunway.filesystem", _FILESYSTEM, ("scripts_dir",))
        scripts_node = filesystem["scripts_dir"]
        scripts_raw = self.scalar(scripts_node, "mongorunway.filesystem.scripts_dir", STR)
        if not scripts_raw:
            raise self.error(scripts_node, "mongorunway.filesystem.scripts_dir", "must not be empty")
        scripts_dir = (self.cwd / Path(scripts_raw).expanduser()).resolve()  # Mongorunway: relative to cwd
        conventions: dict[str, Any] = {"compat": "mongorunway"}
        strategy = self.optional(filesystem, "filename_strategy", STR, prefix="mongorunway.filesystem")
        if strategy is not None:
            class_name = strategy.strip().rsplit(".", 1)[-1]
            if class_name not in STRATEGIES:
                raise self.error(filesystem["filename_strategy"], "mongorunway.filesystem.filename_strategy",
                                 f"{strategy!r} is not one of Mongorunway's strategies (NumericalFilenameStrategy, "
                                 "UnixFilenameStrategy, MissingFilenameStrategy); custom strategies are not loaded")
            conventions.update(STRATEGIES[class_name])
        use = self.optional(filesystem, "use_filename_strategy", BOOL, prefix="mongorunway.filesystem")
        if use is not None:
            conventions["use_filename_strategy"] = use and conventions.get("use_filename_strategy", True)

        apps_node = top["applications"]
        if not isinstance(apps_node, yaml.MappingNode) or not apps_node.value:
            raise self.error(apps_node, "mongorunway.applications", "expected a mapping of application names")
        applications: dict[str, AppConfig] = {}
        app_errors: dict[str, ConfigError] = {}
        for name_node, app_node in self.pairs(apps_node, "mongorunway.applications"):
            try:
                applications[name_node.value] = self.parse_mongorunway_app(name_node.value, app_node, scripts_dir,
                                                                           conventions)
            except InterpolationError as exc:
                app_errors[name_node.value] = exc.error
        return Config(self.path, scripts_dir, None, TuiConfig(), applications, app_errors, notes=tuple(self.notes))

    def compose(self) -> yaml.Node:
        root = compose_yaml(self.path)
        if root is None:
            raise ConfigError(f"{self.path}: the file is empty; it needs 'mongorunway:' with 'filesystem' and "
                              "'applications'")
        return root

    def parse_mongorunway_app(self, name: str, node: yaml.Node, scripts_dir: Path,
                              conventions: dict[str, Any]) -> AppConfig:
        prefix = f"mongorunway.applications.{name}"
        values = self.lenient(node, prefix, _APP, ("app_client", "app_database"))
        uri = self.client_uri(values["app_client"], f"{prefix}.app_client")
        self.check_uri(values["app_client"], f"{prefix}.app_client", uri)
        database = self.scalar(values["app_database"], f"{prefix}.app_database", STR, interpolate_app=True)
        self.check_database(values["app_database"], f"{prefix}.app_database", database)
        kwargs: dict[str, Any] = {"migrations_collection": self.collection_of(values, "app_repository", prefix,
                                                                               required=True) or "migrations"}
        journal = self.collection_of(values, "app_auditlog_journal", prefix, required=False)
        use_auditlog = self.optional(values, "use_auditlog", BOOL, prefix=prefix)
        if journal and use_auditlog:
            kwargs["auditlog_collection"] = journal
        else:
            # Our audit log is evidence the engine relies on: kept in a collection Mongorunway never reads.
            kwargs["auditlog_collection"] = "runway_auditlog"
            self.note(values.get("use_auditlog", node), f"{prefix}.use_auditlog",
                      "Mongorunway's audit log is off; runway-tui keeps its own in 'runway_auditlog'")
        kwargs["mongorunway_auditlog"] = bool(journal and use_auditlog)
        limit = self.optional(values, "app_auditlog_limit", INT, prefix=prefix)
        if limit is not None:
            if limit < 1:
                raise self.error(values["app_auditlog_limit"], f"{prefix}.app_auditlog_limit", "must be at least 1")
            kwargs["auditlog_limit"] = limit
        timezone = self.optional(values, "app_timezone", STR, prefix=prefix)
        if timezone is not None:
            try:
                zoneinfo.ZoneInfo(timezone.strip())
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise self.error(values["app_timezone"], f"{prefix}.app_timezone",
                                 f"{timezone!r} is not an IANA time zone (e.g. UTC, Europe/Paris)") from None
            kwargs["timezone"] = timezone.strip()
            if kwargs["timezone"] != "UTC":
                self.note(values["app_timezone"], f"{prefix}.app_timezone", "dates are stored in UTC, as Mongorunway "
                                                                            "stores them, and runway-tui shows UTC")
        date_format = self.optional(values, "app_date_format", STR, prefix=prefix)
        if date_format is not None:
            kwargs["date_format"] = date_format
        raise_on = self.optional(values, "raise_on_transaction_failure", BOOL, prefix=prefix)
        kwargs["fail_when_nothing_to_do"] = True if raise_on is None else raise_on
        if "app_events" in values:
            kwargs["event_handlers"] = self.event_handlers(values["app_events"], f"{prefix}.app_events")
        for key, why in _UNUSED_APP_KEYS.items():
            if key in values:
                self.note(values[key], f"{prefix}.{key}", f"not used: {why}")
        collections = {kwargs["migrations_collection"], kwargs["auditlog_collection"], AppConfig.lock_collection}
        if len(collections) != 3:
            raise self.error(node, prefix, "the migrations and audit log collections must have different names")
        return AppConfig(name=name, uri=uri, database=database, scripts_dir=scripts_dir, config_path=self.path,
                         **conventions, **kwargs)

    def collection_of(self, values: dict[str, yaml.Node], key: str, prefix: str, required: bool) -> str | None:
        node = values.get(key)
        if node is None or is_null(node):
            if required:
                raise self.error(node, f"{prefix}.{key}", "required key is missing (e.g. collection: migrations)")
            return None
        section = self.lenient(node, f"{prefix}.{key}", {"collection": STR, "reader": STR, "type": STR})
        for extra in ("reader", "type"):
            if extra in section:
                self.note(section[extra], f"{prefix}.{key}.{extra}", "not used: custom repository classes are not "
                                                                     "loaded; the collection is read directly")
        if "collection" not in section:
            if required:
                raise self.error(node, f"{prefix}.{key}.collection", "required key is missing")
            return None
        name = self.scalar(section["collection"], f"{prefix}.{key}.collection", STR, interpolate_app=True)
        self.check_collection(section["collection"], f"{prefix}.{key}.collection", name)
        return name

    def client_uri(self, node: yaml.Node, key: str) -> str:
        """`app_client` (MongoClient keyword arguments) as one URI: host, port, credentials, options."""
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, key, f"expected the MongoClient arguments (host:, port:...), got {describe(node)}")
        values = {k.value: v for k, v in self.pairs(node, key)}
        text = {k: self.scalar(v, f"{key}.{k}", STR, interpolate_app=True) for k, v in values.items()
                if isinstance(v, yaml.ScalarNode) and not is_null(v)}
        host = text.get("host", "localhost").strip()
        if host.lower().startswith(("mongodb://", "mongodb+srv://")):
            if "port" in text:
                self.note(values["port"], f"{key}.port", "ignored: host is a full URI")
            return host
        port = ""
        if "port" in values:
            port_value = self.scalar(values["port"], f"{key}.port", INT, interpolate_app=True)
            if not 0 < port_value < 65536:
                raise self.error(values["port"], f"{key}.port", f"{port_value} is not a TCP port (1 to 65535)")
            port = f":{port_value}"
        hosts = ",".join(f"{h.strip()}{port if ':' not in h.strip() else ''}" for h in host.split(","))
        userinfo = ""
        if "username" in text:
            userinfo = quote(text["username"], safe="")
            if "password" in text:
                userinfo += ":" + quote(text["password"], safe="")
            userinfo += "@"
        options = []
        for option, value_node in values.items():
            if option in _CLIENT_NOT_URI:
                if option not in ("host", "port", "username", "password"):
                    self.note(value_node, f"{key}.{option}", "not used: not a connection option runway-tui passes on")
                continue
            if not isinstance(value_node, yaml.ScalarNode) or is_null(value_node):
                self.note(value_node, f"{key}.{option}", "not used: only plain values become URI options")
                continue
            options.append(f"{quote(option, safe='')}={quote(text[option].strip(), safe='')}")
        return f"mongodb://{userinfo}{hosts}/" + (f"?{'&'.join(options)}" if options else "")

    def event_handlers(self, node: yaml.Node, key: str) -> tuple[tuple[str, str, int | None], ...]:
        """`{EventClass: [handler, 'Prioritized[N, handler]']}` -> (event, dotted path, priority)."""
        if is_null(node):
            return ()
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, key, f"expected a mapping of event classes to handler lists, got {describe(node)}")
        handlers: list[tuple[str, str, int | None]] = []
        for event_node, list_node in self.pairs(node, key):
            event = event_node.value.strip().rsplit(".", 1)[-1]
            where = f"{key}.{event_node.value}"
            if event not in EVENTS:
                raise self.error(event_node, where, f"{event!r} is not one of Mongorunway's events "
                                                   f"(StartingEvent, ClosingEvent)")
            items = list_node.value if isinstance(list_node, yaml.SequenceNode) else [list_node]
            for item in items:
                raw = self.scalar(item, where, STR).replace(" ", "")
                priority: int | None = None
                if raw.startswith("Prioritized[") and raw.endswith("]"):
                    number, _, raw = raw[len("Prioritized["):-1].partition(",")
                    if not number.lstrip("-").isdigit() or not raw:
                        raise self.error(item, where, "expected Prioritized[<number>, <dotted.path>]")
                    priority = int(number)
                short = raw.rsplit(".", 1)[-1]
                if short in BUILTIN_HANDLERS and raw.split(".", 1)[0] == "mongorunway":
                    self.note(item, where, f"{raw}: not needed: {BUILTIN_HANDLERS[short]}")
                    continue
                if "." not in raw:
                    raise self.error(item, where, f"{raw!r} is not a dotted path (module.function)")
                handlers.append((event, raw, priority))
        return tuple(handlers)



class MongorunwayConfigReader:
    """The `engine.plugins` config reader for mongorunway.yaml (registered by `compat.mongorunway.register`)."""

    name = "mongorunway"

    def find(self, start: Path) -> Path | None:
        return find_mongorunway_config(start)

    def claims(self, path: Path) -> bool:
        return is_mongorunway_file(path)

    def read(self, path: Path) -> Config:
        return read_mongorunway_config(path)
