"""The `fleet:` block of an application, parsed into a typed `FleetConfig`.

The parser is the configuration's own (`engine/config/runway_yaml.py` hands us its `NodeReader` and the
block's node), so every error names the file, the line and the dotted key like the rest of the file, and
several are reported together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from runway_tui.engine.uri import mask_uri

DEFAULT_CONTROL_DATABASE = "runway_fleet"
DEFAULT_CONCURRENCY = 4

_FLEET_KEYS = {"targets": "list", "concurrency": "integer", "max_failures": "integer", "waves": "list",
               "control": "mapping"}
_TARGET_KEYS = {"uri": "string", "databases": "mapping"}
_SELECTOR_KEYS = {"match": "string", "list": "list", "catalog": "mapping"}
_CATALOG_KEYS = {"database": "string", "collection": "string", "field": "string", "filter": "mapping"}
_WAVE_KEYS = {"name": "string", "match": "string"}
_CONTROL_KEYS = {"uri": "string", "database": "string"}


@dataclass(frozen=True)
class Catalog:
    """Tenant database names read from a collection: `field` of each document matching `filter`."""

    database: str
    collection: str
    field: str
    filter: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DatabaseSelector:
    """How one cluster's tenant databases are found: exactly one of `match` (a glob), `names`, `catalog`."""

    match: str | None = None
    names: tuple[str, ...] | None = None
    catalog: Catalog | None = None

    def describe(self) -> str:
        if self.match is not None:
            return f"match {self.match!r}"
        if self.names is not None:
            return f"list of {len(self.names)}"
        assert self.catalog is not None
        return f"catalog {self.catalog.database}.{self.catalog.collection}.{self.catalog.field}"


@dataclass(frozen=True)
class FleetTarget:
    """One cluster and how its tenant databases are found."""

    uri: str = field(repr=False)  # may hold a password: shown only as `masked_uri`
    databases: DatabaseSelector

    @property
    def masked_uri(self) -> str:
        return mask_uri(self.uri)


@dataclass(frozen=True)
class Wave:
    """Tenants whose database name matches `match` (None: every tenant not in an earlier wave)."""

    name: str
    match: str | None = None


@dataclass(frozen=True)
class Control:
    """Where fleet runs are recorded."""

    uri: str = field(repr=False)
    database: str = DEFAULT_CONTROL_DATABASE


@dataclass(frozen=True)
class FleetConfig:
    targets: tuple[FleetTarget, ...]
    control: Control
    concurrency: int = DEFAULT_CONCURRENCY  # per cluster, across every runner of a run
    max_failures: int = 0  # after more failed tenants than this, no new tenant starts
    waves: tuple[Wave, ...] = (Wave("all"),)


def has_fleet_key(node: yaml.Node) -> bool:
    """Whether an application's mapping has a `fleet:` key (then `uri` and `database` are optional)."""
    return isinstance(node, yaml.MappingNode) and any(
        isinstance(key, yaml.ScalarNode) and key.value == "fleet" for key, _ in node.value)


def parse_fleet(parser: Any, node: yaml.Node, prefix: str, app_uri: str, app_database: str) -> FleetConfig:
    """`applications.NAME.fleet`, read with the configuration's parser (`engine/config/nodes.py`'s `NodeReader`);
    the application's own `uri` + `database`, when given, are one more target (listed first)."""
    key = f"{prefix}.fleet"
    values = parser.mapping(node, key, _FLEET_KEYS, ())
    targets: list[FleetTarget] = []
    if app_uri and app_database:
        targets.append(FleetTarget(app_uri, DatabaseSelector(names=(app_database,))))
    if "targets" in values:
        with parser.collecting():
            targets.extend(_targets(parser, values["targets"], f"{key}.targets"))
    if not targets:
        parser.problems.append(parser.error(values.get("targets", node), f"{key}.targets",
                                            "a fleet needs at least one target (uri + databases)"))
    concurrency, max_failures = DEFAULT_CONCURRENCY, 0
    with parser.collecting():
        concurrency = _bounded(parser, values, "concurrency", key, 1, DEFAULT_CONCURRENCY)
    with parser.collecting():
        max_failures = _bounded(parser, values, "max_failures", key, 0, 0)
    waves: tuple[Wave, ...] = (Wave("all"),)
    if "waves" in values:
        with parser.collecting():
            waves = _waves(parser, values["waves"], f"{key}.waves")
    control = Control(targets[0].uri if targets else "")
    if "control" in values:
        with parser.collecting():
            control = _control(parser, values["control"], f"{key}.control", control)
    return FleetConfig(tuple(targets), control, concurrency, max_failures, waves)


def _bounded(parser: Any, values: dict[str, yaml.Node], name: str, key: str, low: int, default: int) -> int:
    value = parser.optional(values, name, "integer", prefix=key, interpolate_app=True)
    if value is None:
        return default
    if value < low:
        raise parser.error(values[name], f"{key}.{name}", f"must be at least {low}")
    return int(value)


def _sequence(parser: Any, node: yaml.Node, key: str, example: str) -> list[yaml.Node]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise parser.error(node, key, f"expected a non-empty list, e.g. {example}")
    return list(node.value)


def _targets(parser: Any, node: yaml.Node, key: str) -> list[FleetTarget]:
    targets = []
    for index, item in enumerate(_sequence(parser, node, key, "- {uri: ..., databases: {match: \"tenant_*\"}}")):
        where = f"{key}[{index}]"
        with parser.collecting():
            values = parser.mapping(item, where, _TARGET_KEYS, ("uri", "databases"))
            if "uri" not in values or "databases" not in values:
                continue
            uri = parser.scalar(values["uri"], f"{where}.uri", "string", interpolate_app=True)
            parser.check_uri(values["uri"], f"{where}.uri", uri)
            if uri == "embedded":
                raise parser.error(values["uri"], f"{where}.uri", "a fleet target must be a mongodb:// URI")
            targets.append(FleetTarget(uri, _selector(parser, values["databases"], f"{where}.databases")))
    return targets


def _selector(parser: Any, node: yaml.Node, key: str) -> DatabaseSelector:
    values = parser.mapping(node, key, _SELECTOR_KEYS, ())
    if len(values) != 1:
        raise parser.error(node, key, "give exactly one of match: \"tenant_*\", list: [...] or "
                                      "catalog: {database, collection, field, filter}")
    if "match" in values:
        pattern = parser.scalar(values["match"], f"{key}.match", "string")
        if not pattern:
            raise parser.error(values["match"], f"{key}.match", "must not be empty")
        return DatabaseSelector(match=pattern)
    if "list" in values:
        names = []
        for index, item in enumerate(_sequence(parser, values["list"], f"{key}.list", "[tenant_a, tenant_b]")):
            name = parser.scalar(item, f"{key}.list[{index}]", "string")
            parser.check_database(item, f"{key}.list[{index}]", name)
            names.append(name)
        return DatabaseSelector(names=tuple(names))
    where = f"{key}.catalog"
    catalog = parser.mapping(values["catalog"], where, _CATALOG_KEYS, ("database", "collection", "field"))
    strings = {name: parser.scalar(catalog[name], f"{where}.{name}", "string")
               for name in ("database", "collection", "field") if name in catalog}
    if len(strings) != 3:
        raise parser.error(values["catalog"], where, "needs database, collection and field")
    parser.check_database(catalog["database"], f"{where}.database", strings["database"])
    parser.check_collection(catalog["collection"], f"{where}.collection", strings["collection"])
    query: dict[str, Any] = {}
    if "filter" in catalog:
        if not isinstance(catalog["filter"], yaml.MappingNode):
            raise parser.error(catalog["filter"], f"{where}.filter", "expected a mapping (a MongoDB filter)")
        query = yaml.SafeLoader("").construct_document(catalog["filter"])
    return DatabaseSelector(catalog=Catalog(strings["database"], strings["collection"], strings["field"], query))


def _waves(parser: Any, node: yaml.Node, key: str) -> tuple[Wave, ...]:
    waves: list[Wave] = []
    for index, item in enumerate(_sequence(parser, node, key, "[{name: canary, match: \"tenant_000*\"}, "
                                                              "{name: rest}]")):
        where = f"{key}[{index}]"
        values = parser.mapping(item, where, _WAVE_KEYS, ("name",))
        if "name" not in values:
            continue
        name = parser.scalar(values["name"], f"{where}.name", "string")
        if any(wave.name == name for wave in waves):
            raise parser.error(values["name"], f"{where}.name", f"wave {name!r} is named twice")
        match = parser.optional(values, "match", "string", prefix=where)
        if match is None and index != len(node.value) - 1:
            raise parser.error(item, where, "only the last wave may leave out match (it takes every tenant left)")
        waves.append(Wave(name, match or None))
    return tuple(waves)


def _control(parser: Any, node: yaml.Node, key: str, default: Control) -> Control:
    values = parser.mapping(node, key, _CONTROL_KEYS, ())
    uri, database = default.uri, default.database
    if "uri" in values:
        uri = parser.scalar(values["uri"], f"{key}.uri", "string", interpolate_app=True)
        parser.check_uri(values["uri"], f"{key}.uri", uri)
    if "database" in values:
        database = parser.scalar(values["database"], f"{key}.database", "string", interpolate_app=True)
        parser.check_database(values["database"], f"{key}.database", database)
    return Control(uri, database)
