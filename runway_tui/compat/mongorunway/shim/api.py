"""`@mongorunway.migration` and `@mongorunway.migration_with_rule`, as Mongorunway defines them."""

from __future__ import annotations

import collections.abc
import typing

from runway_tui.compat.mongorunway.shim.domain import MigrationBusinessRule, MigrationProcess

_ProcessT = typing.TypeVar("_ProcessT", bound=MigrationProcess)


def migration(process_func: typing.Callable[[], typing.Any], /) -> MigrationProcess:
    """Call the function now (when the file is loaded) and wrap the commands it returns."""
    result = process_func()
    if isinstance(result, MigrationProcess):
        return result
    if not isinstance(result, collections.abc.Sequence):
        raise ValueError(f"Migration process func {process_func!r} must return sequence of commands.")
    version = getattr(process_func, "__globals__", {}).get("version", None)
    if version is None:
        code = getattr(process_func, "__code__", None)
        raise AttributeError(f"Migration module {code.co_filename if code else ''!r} should have 'version' variable.")
    return MigrationProcess(result, migration_version=version, name=getattr(process_func, "__name__",
                                                                            "UNDEFINED_PROCESS"))


def migration_with_rule(rule: MigrationBusinessRule, /) -> typing.Callable[[_ProcessT], _ProcessT]:
    """Add a business rule to the process below (stack it above `@mongorunway.migration`)."""
    if not isinstance(rule, MigrationBusinessRule):
        raise ValueError(f"Rule must be instance of {MigrationBusinessRule!r}.")

    def decorator(process: _ProcessT) -> _ProcessT:
        process.add_rule(rule)
        return process

    return decorator
