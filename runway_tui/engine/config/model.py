"""The configuration's model: frozen dataclasses, one per section, with no YAML in sight.

`runway_yaml.py` reads runway.yaml into these; a compat reader (registered in `engine.plugins`) reads its own
file into the same model. Nothing here touches the file system or the server.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runway_tui.engine.backfill.throttle import ThrottleSettings
from runway_tui.engine.config.suggest import did_you_mean
from runway_tui.engine.errors import ConfigError
from runway_tui.engine.uri import mask_uri, uri_secrets

DEFAULT_CONFIG_NAME = "runway.yaml"
EMBEDDED = "embedded"  # the URI that names the embedded daemon


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
    # `rehearsal: {uri, database}`: where `rehearse` builds its scratch (default: the embedded daemon, a new name)
    rehearsal_uri: str | None = field(default=None, repr=False)
    rehearsal_database: str | None = None
    # `backfill: {batch_ms, max_docs_per_s, max_lag_s}`: the throttle of ctx.backfill/ctx.batches (a call may override)
    backfill: ThrottleSettings = field(default_factory=ThrottleSettings)
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
        return uri_secrets(self.uri) + (uri_secrets(self.rehearsal_uri) if self.rehearsal_uri else [])


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
                f"{self.path}: unknown application {chosen!r}{did_you_mean(chosen, names)}; "
                f"known: {', '.join(names) or 'none'}"
            )
        return self.applications[chosen]


def with_lock_wait(config: AppConfig, seconds: float | None) -> AppConfig:
    """`config` with `timeouts.lock_wait_s` replaced (`--lock-wait SECONDS`); None leaves it as configured."""
    if seconds is None:
        return config
    return dataclasses.replace(config, timeouts=dataclasses.replace(config.timeouts, lock_wait_s=seconds))
