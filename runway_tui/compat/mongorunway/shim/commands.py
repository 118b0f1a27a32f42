"""Mongorunway's built-in commands with the same constructors and pymongo calls, and their snake_case
aliases. Each runs through the context's `client`/`database`, which are bound to the step's session."""

from __future__ import annotations

import collections.abc
import functools
import inspect
import re
import typing

from runway_tui.compat.mongorunway.shim.domain import MigrationCommand, MigrationContext

_CommandT = typing.TypeVar("_CommandT", bound=type)

# Mongorunway's `util.string_case_pattern`, so aliases are spelled exactly as there.
_STRING_CASE = re.compile(r"(?<=_)(\w+)|([A-Z][a-z]+)|([a-z]+)(?=[A-Z])")


def as_snake_case(obj: typing.Any) -> str:
    """'CreateIndexes' -> 'create_indexes' (Mongorunway's `util.as_snake_case`, quirks included)."""
    if not isinstance(obj, str):
        obj_name = getattr(obj, "__name__", None)
        obj = type(obj).__name__ if obj_name is None else obj_name
    if obj.count("_"):
        return obj
    return "_".join("".join(part.lower() for part in groups) for groups in _STRING_CASE.findall(obj))


def _alias(cls: type) -> typing.Callable[..., typing.Any]:
    def func(*args: typing.Any, **kwargs: typing.Any) -> typing.Any:
        return cls(*args, **kwargs)

    func.__name__ = as_snake_case(cls)
    func.__doc__ = cls.__doc__
    func.__module__ = cls.__module__
    return func


def make_snake_case_global_alias(obj: typing.Any) -> typing.Any:
    """`@make_snake_case_global_alias(obj=globals())` puts `my_command(...)` beside `class MyCommand` in the
    caller's module. Used bare on a class, Mongorunway put the alias where nobody could see it: a no-op."""
    if inspect.isclass(obj):
        return obj

    def decorator(cls: _CommandT, mapping: collections.abc.MutableMapping[str, typing.Any]) -> _CommandT:
        alias = _alias(cls)
        mapping[alias.__name__] = alias
        return cls

    return functools.partial(decorator, mapping=obj)


class _Command(MigrationCommand[typing.Any]):
    """Stores the trailing `*args, **kwargs` every built-in forwards to its pymongo call."""

    def _rest(self, args: tuple[typing.Any, ...], kwargs: dict[str, typing.Any]) -> None:
        self.args = args
        self.kwargs = kwargs


class CreateDatabase(_Command):
    def __init__(self, collection: str, database: str, *args: typing.Any, **kwargs: typing.Any) -> None:
        self.collection, self.database = collection, database
        self._rest(args, kwargs)

    def execute(self, ctx: MigrationContext) -> typing.Any:
        database = ctx.client.get_database(self.database)
        database.create_collection(self.collection, *self.args, **self.kwargs)
        return database


class DropDatabase(_Command):
    def __init__(self, database: str, *args: typing.Any, **kwargs: typing.Any) -> None:
        self.database = database
        self._rest(args, kwargs)

    def execute(self, ctx: MigrationContext) -> None:
        ctx.client.drop_database(self.database, *self.args, **self.kwargs)


class CreateCollection(_Command):
    def __init__(self, collection: str, *args: typing.Any, **kwargs: typing.Any) -> None:
        self.collection = collection
        self._rest(args, kwargs)

    def execute(self, ctx: MigrationContext) -> typing.Any:
        return ctx.database.create_collection(self.collection, *self.args, **self.kwargs)


class DropCollection(_Command):
    def __init__(self, collection: str, *args: typing.Any, **kwargs: typing.Any) -> None:
        self.collection = collection
        self._rest(args, kwargs)

    def execute(self, ctx: MigrationContext) -> None:
        ctx.database.drop_collection(self.collection, *self.args, **self.kwargs)


class SendCommand(_Command):
    def __init__(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        self._rest(args, kwargs)

    def execute(self, ctx: MigrationContext) -> typing.Any:
        return ctx.database.command(*self.args, **self.kwargs)


class _OnCollection(_Command):
    """A command on one collection: `execute` calls `collection.<method>(*values, *args, **kwargs)`."""

    method: typing.ClassVar[str]
    collection: str

    def values(self) -> tuple[typing.Any, ...]:
        return ()

    def execute(self, ctx: MigrationContext) -> typing.Any:
        collection = ctx.database.get_collection(self.collection)
        return getattr(collection, self.method)(*self.values(), *self.args, **self.kwargs)


class BulkWrite(_OnCollection):
    method = "bulk_write"

    def __init__(self, collection: str, bulk_operations: typing.Sequence[typing.Any], *args: typing.Any,
                 **kwargs: typing.Any) -> None:
        self.collection, self.bulk_operations = collection, bulk_operations
        self._rest(args, kwargs)

    def values(self) -> tuple[typing.Any, ...]:
        return (self.bulk_operations,)


class InsertOne(_OnCollection):
    method = "insert_one"

    def __init__(self, collection: str, document: typing.Any, *args: typing.Any, **kwargs: typing.Any) -> None:
        self.collection, self.document = collection, document
        self._rest(args, kwargs)

    def values(self) -> tuple[typing.Any, ...]:
        return (self.document,)


class InsertMany(_OnCollection):
    method = "insert_many"

    def __init__(self, collection: str, documents: typing.Iterable[typing.Any], *args: typing.Any,
                 **kwargs: typing.Any) -> None:
        self.collection, self.documents = collection, documents
        self._rest(args, kwargs)

    def values(self) -> tuple[typing.Any, ...]:
        return (self.documents,)


class _Filtered(_OnCollection):
    def __init__(self, collection: str, filter: typing.Mapping[str, typing.Any], *args: typing.Any,  # noqa: A002
                 **kwargs: typing.Any) -> None:
        self.collection, self.filter = collection, filter
        self._rest(args, kwargs)

    def values(self) -> tuple[typing.Any, ...]:
        return (self.filter,)


class DeleteOne(_Filtered):
    method = "delete_one"


class DeleteMany(_Filtered):
    method = "delete_many"


class ReplaceOne(_OnCollection):
    method = "replace_one"

    def __init__(self, collection: str, filter: typing.Mapping[str, typing.Any],  # noqa: A002
                 replacement: typing.Mapping[str, typing.Any], *args: typing.Any, **kwargs: typing.Any) -> None:
        self.collection, self.filter, self.replacement = collection, filter, replacement
        self._rest(args, kwargs)

    def values(self) -> tuple[typing.Any, ...]:
        return (self.filter, self.replacement)


class _Update(_OnCollection):
    def __init__(self, collection: str, filter: typing.Mapping[str, typing.Any], update: typing.Any,  # noqa: A002
                 *args: typing.Any, **kwargs: typing.Any) -> None:
        self.collection, self.filter, self.update = collection, filter, update
        self._rest(args, kwargs)

    def values(self) -> tuple[typing.Any, ...]:
        return (self.filter, self.update)


class UpdateOne(_Update):
    method = "update_one"


class UpdateMany(_Update):
    method = "update_many"


class CreateIndex(_OnCollection):
    method = "create_index"

    def __init__(self, collection: str, keys: typing.Any, *args: typing.Any, **kwargs: typing.Any) -> None:
        self.collection, self.keys = collection, keys
        self._rest(args, kwargs)

    def values(self) -> tuple[typing.Any, ...]:
        return (self.keys,)


class CreateIndexes(CreateIndex):
    method = "create_indexes"


class DropIndex(_OnCollection):
    method = "drop_index"

    def __init__(self, collection: str, index_or_name: typing.Any, *args: typing.Any, **kwargs: typing.Any) -> None:
        self.collection, self.index_or_name = collection, index_or_name
        self._rest(args, kwargs)

    def values(self) -> tuple[typing.Any, ...]:
        return (self.index_or_name,)


class DropIndexes(_OnCollection):
    method = "drop_indexes"

    def __init__(self, collection: str, *args: typing.Any, **kwargs: typing.Any) -> None:
        self.collection = collection
        self._rest(args, kwargs)


class RenameCollection(_OnCollection):
    method = "rename"

    def __init__(self, collection: str, new_name: str, *args: typing.Any, **kwargs: typing.Any) -> None:
        self.collection, self.new_name = collection, new_name
        self._rest(args, kwargs)

    def values(self) -> tuple[typing.Any, ...]:
        return (self.new_name,)


BUILTIN_COMMANDS: tuple[type[MigrationCommand[typing.Any]], ...] = (
    CreateDatabase, DropDatabase, CreateCollection, DropCollection, SendCommand, BulkWrite, InsertOne, InsertMany,
    ReplaceOne, UpdateOne, UpdateMany, DeleteOne, DeleteMany, CreateIndex, CreateIndexes, DropIndex, DropIndexes,
    RenameCollection,
)
ALIASES: dict[str, typing.Callable[..., typing.Any]] = {as_snake_case(c): _alias(c) for c in BUILTIN_COMMANDS}
globals().update(ALIASES)
