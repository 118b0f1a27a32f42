"""A stand-in for the `mongorunway` package, so Mongorunway migration files and project packages import
and run unchanged without Mongorunway installed.

`modules()` builds the module objects registered under Mongorunway's names (`mongorunway`,
`mongorunway.application.ux`, ...) while a step runs (see `steps.environment`); they expose the
classes of this package, so `isinstance` checks between files, project packages and runway-tui agree.
"""

from __future__ import annotations

import types
import typing

from runway_tui.compat.mongorunway.shim import api, commands, domain, ux

_DOMAIN = {
    "migration": ("MigrationProcess",),
    "migration_command": ("MigrationCommand", "AnyCommand", "AnyCommandSequence"),
    "migration_context": ("MigrationContext",),
    "migration_business_rule": ("MigrationBusinessRule", "AbstractMigrationBusinessRule", "RuleSequence"),
    "migration_exception": ("MigrationError", "MigrationFailedError", "MigrationBusinessRuleBrokenError",
                            "NothingToUpgradeError", "NothingToDowngradeError"),
}
_COMMAND_NAMES = ("make_snake_case_global_alias", *(c.__name__ for c in commands.BUILTIN_COMMANDS),
                  *commands.ALIASES)
_UX_NAMES = ("MIGRATION_SCHEMA_VALIDATOR", "APPLIED_MIGRATION_INDEX", "PENDING_MIGRATION_INDEX",
             "ValidationAction", "ValidationLevel")
_PROVIDED = "migration files' API: commands, rules, processes, the context, ux constants"
_cache: dict[str, types.ModuleType] | None = None


def _module(name: str, values: dict[str, typing.Any], package: bool) -> types.ModuleType:
    module = types.ModuleType(name, f"runway-tui's stand-in for {name}")
    module.__dict__.update(values)
    if package:
        module.__path__ = []  # submodules come only from sys.modules (no files to find)

    def missing(attribute: str) -> typing.NoReturn:
        raise AttributeError(f"module {name!r} has no attribute {attribute!r} in runway-tui's Mongorunway "
                             f"compatibility layer (it provides {_PROVIDED})")

    module.__getattr__ = missing  # type: ignore[method-assign]
    return module


def _mongo_types() -> dict[str, typing.Any]:
    """`mongorunway.mongo`'s type aliases (used in annotations of custom commands)."""
    import pymongo
    from pymongo.client_session import ClientSession
    from pymongo.collection import Collection
    from pymongo.cursor import Cursor
    from pymongo.database import Database

    document = dict[str, typing.Any]
    return {"DocumentType": document, "Client": pymongo.MongoClient[document], "Database": Database[document],
            "Collection": Collection[document], "ClientSession": ClientSession, "Cursor": Cursor[document]}


def modules() -> dict[str, types.ModuleType]:
    """Mongorunway's module names -> stand-ins (built once; the same objects every step)."""
    global _cache
    if _cache is not None:
        return _cache
    pick = {
        "domain": {n: getattr(domain, n) for names in _DOMAIN.values() for n in names},
        "commands": {n: getattr(commands, n) for n in _COMMAND_NAMES},
        "ux": {n: getattr(ux, n) for n in _UX_NAMES},
    }
    top = {**pick["domain"], **pick["commands"], "migration": api.migration,
           "migration_with_rule": api.migration_with_rule}
    built = {
        "mongorunway": _module("mongorunway", top, package=True),
        "mongorunway.api": _module("mongorunway.api", {"migration": api.migration,
                                                       "migration_with_rule": api.migration_with_rule}, False),
        "mongorunway.mongo": _module("mongorunway.mongo", _mongo_types(), False),
        "mongorunway.util": _module("mongorunway.util", {"as_snake_case": commands.as_snake_case}, False),
        "mongorunway.domain": _module("mongorunway.domain", {}, package=True),
        "mongorunway.infrastructure": _module("mongorunway.infrastructure", {}, package=True),
        "mongorunway.infrastructure.commands": _module("mongorunway.infrastructure.commands", pick["commands"],
                                                       False),
        "mongorunway.application": _module("mongorunway.application", {}, package=True),
        "mongorunway.application.ux": _module("mongorunway.application.ux", pick["ux"], False),
    }
    for part, names in _DOMAIN.items():
        built[f"mongorunway.domain.{part}"] = _module(f"mongorunway.domain.{part}",
                                                      {n: getattr(domain, n) for n in names}, False)
    for name, module in built.items():  # `mongorunway.application.ux` is an attribute of its parent too
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(built[parent], child, module)
    _cache = built
    return built
