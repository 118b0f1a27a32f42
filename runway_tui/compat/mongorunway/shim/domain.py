"""Mongorunway's domain objects, as its migration files and project packages use them (same names, same
behaviour), without Mongorunway: commands, the context they receive, processes, business rules, errors."""

from __future__ import annotations

import abc
import typing
from dataclasses import dataclass, field

_T_co = typing.TypeVar("_T_co", covariant=True)


@dataclass(frozen=True)
class MigrationContext:
    """What a command's `execute(ctx)` and a rule's `check_is_broken(ctx)` receive.

    `client` and `database` are bound to the step's transaction session (when the step has one), so
    every call made through them commits or rolls back with the step; `session` is that session
    (runway-tui's addition: Mongorunway never exposed it)."""

    mongorunway_session_id: str
    mongodb_session_id: str
    client: typing.Any = field(repr=False)
    database: typing.Any = field(repr=False)
    session: typing.Any = field(default=None, repr=False)


class MigrationCommand(typing.Generic[_T_co], abc.ABC):
    """One step of a process; subclass it and implement `execute(ctx)` for a command of your own."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return self.__class__.__name__

    @abc.abstractmethod
    def execute(self, ctx: MigrationContext) -> _T_co:
        ...


AnyCommand: typing.TypeAlias = "MigrationCommand[typing.Any]"
AnyCommandSequence: typing.TypeAlias = typing.Sequence["MigrationCommand[typing.Any]"]


class MigrationBusinessRule(abc.ABC):
    """A condition checked before a process runs; a broken rule stops the step with its own text."""

    __slots__ = ()

    @property
    @abc.abstractmethod
    def name(self) -> str:
        ...

    @property
    @abc.abstractmethod
    def depends_on(self) -> typing.Sequence[MigrationBusinessRule]:
        ...

    @abc.abstractmethod
    def is_independent(self) -> bool:
        ...

    @abc.abstractmethod
    def check_is_broken(self, ctx: MigrationContext) -> bool:
        ...

    @abc.abstractmethod
    def render_broken_rule(self) -> str:
        ...


class AbstractMigrationBusinessRule(MigrationBusinessRule, abc.ABC):
    """Everything but `check_is_broken`, as in Mongorunway."""

    def __init__(self, depends_on: typing.Sequence[MigrationBusinessRule] = ()) -> None:
        self._depends_on = depends_on

    @property
    def name(self) -> str:
        return self.__class__.__name__

    @property
    def depends_on(self) -> typing.Sequence[MigrationBusinessRule]:
        return self._depends_on

    def is_independent(self) -> bool:
        return not self._depends_on

    def render_broken_rule(self) -> str:
        return f"Business rule {self.name} is broken."


RuleSequence: typing.TypeAlias = typing.MutableSequence[MigrationBusinessRule]


class MigrationProcess:
    """The commands of one direction of a migration, with the rules checked before them."""

    def __init__(self, commands: AnyCommandSequence, migration_version: int, name: str) -> None:
        self._rules: RuleSequence = []
        self._name = name
        self._commands = commands
        self._migration_version = migration_version

    @property
    def name(self) -> str:
        return self._name

    @property
    def commands(self) -> AnyCommandSequence:
        return self._commands

    @property
    def migration_version(self) -> int:
        return self._migration_version

    @property
    def rules(self) -> RuleSequence:
        return self._rules

    def has_rules(self) -> bool:
        return bool(self._rules)

    def add_rule(self, rule: MigrationBusinessRule, /) -> MigrationProcess:
        self._rules.append(rule)
        return self


class MigrationError(Exception):
    pass


class MigrationFailedError(MigrationError):
    pass


class MigrationBusinessRuleBrokenError(Exception):
    """A rule was broken: the message is the rule's own `render_broken_rule()`."""

    def __init__(self, rule: MigrationBusinessRule) -> None:
        super().__init__(rule.render_broken_rule())
        self.rule = rule


class NothingToUpgradeError(MigrationFailedError):
    def __str__(self) -> str:
        return "There are currently no pending migrations."


class NothingToDowngradeError(MigrationFailedError):
    def __str__(self) -> str:
        return "There are currently no applied migrations."


def check_rules(process: MigrationProcess, ctx: MigrationContext) -> None:
    """Each rule's `depends_on` tree first, then the rule, in Mongorunway's order."""

    def dependencies(rules: typing.Sequence[MigrationBusinessRule]) -> None:
        for rule in rules:
            if rule.check_is_broken(ctx):
                raise MigrationBusinessRuleBrokenError(rule)
            if not rule.is_independent():
                dependencies(rule.depends_on)

    for rule in process.rules:
        if not rule.is_independent():
            dependencies(rule.depends_on)
        if rule.check_is_broken(ctx):
            raise MigrationBusinessRuleBrokenError(rule)
