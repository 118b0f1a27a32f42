"""Mongorunway's migration file format, recognised with `ast` (never executed), and its template.

A Mongorunway file sets `version = N` and decorates `upgrade()` / `downgrade()` with
`@mongorunway.migration` (optionally under `@mongorunway.migration_with_rule(rule)`); the decorator calls
the function when the file is loaded and wraps the returned commands into a `MigrationProcess`.
"""

from __future__ import annotations

import ast
import typing
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from runway_tui.engine.plugins import FormatCheck

if TYPE_CHECKING:
    pass

# Commands that change collections, indexes or databases, or send an arbitrary command: MongoDB refuses most of
# them inside a transaction, and Mongorunway never ran them in one, so a file using them runs without one.
DDL_COMMANDS = frozenset({
    "CreateDatabase", "create_database", "DropDatabase", "drop_database", "CreateCollection", "create_collection",
    "DropCollection", "drop_collection", "RenameCollection", "rename_collection", "CreateIndex", "create_index",
    "CreateIndexes", "create_indexes", "DropIndex", "drop_index", "DropIndexes", "drop_indexes", "SendCommand",
    "send_command",
})
_MIGRATION = "mongorunway.migration"
_WITH_RULE = "mongorunway.migration_with_rule"

TEMPLATE = '''"""{description}"""

from __future__ import annotations

import typing

import mongorunway

# Required, used by Mongorunway.
version = {version}


@mongorunway.migration
def upgrade() -> typing.Sequence[mongorunway.MigrationCommand]:
    return []


@mongorunway.migration
def downgrade() -> typing.Sequence[mongorunway.MigrationCommand]:
    return []
'''


@dataclass(frozen=True)
class FileAnalysis:
    """What the `ast` says about a Mongorunway file: a problem, or whether it uses DDL commands."""

    problem: str | None = None
    uses_ddl: bool = False


def imported_names(tree: ast.Module) -> tuple[dict[str, str], bool]:
    """Local names bound to Mongorunway objects ("mr" -> "mongorunway"), and whether `import *` was used."""
    names: dict[str, str] = {}
    star = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "mongorunway" or alias.name.startswith("mongorunway."):
                    if alias.asname:
                        names[alias.asname] = alias.name
                    else:
                        names["mongorunway"] = "mongorunway"
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                node.module == "mongorunway" or node.module.startswith("mongorunway.")):
            for alias in node.names:
                if alias.name == "*":
                    star = True
                else:
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names, star


def uses_mongorunway(tree: ast.Module) -> bool:
    names, star = imported_names(tree)
    return bool(names) or star


def analyse(tree: ast.Module, functions: dict[str, ast.stmt], version_line: int | None) -> FileAnalysis:
    """Check the parts of a Mongorunway file that decide whether it can run, without running it."""
    names, star = imported_names(tree)

    def resolve(node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            if node.id in names:
                return names[node.id]
            return f"mongorunway.{node.id}" if star else None
        if isinstance(node, ast.Attribute):
            base = resolve(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def canonical(path: str | None) -> str | None:
        return path.replace("mongorunway.api.", "mongorunway.") if path else None

    for name in ("upgrade", "downgrade"):
        node = functions.get(name)
        if node is None:
            return FileAnalysis(f"missing {name}: a Mongorunway file decorates 'def {name}()' with "
                                "@mongorunway.migration")
        if not isinstance(node, ast.FunctionDef):
            return FileAnalysis(f"line {node.lineno}: {name} must be a plain function decorated with "
                                "@mongorunway.migration")
        if not node.decorator_list:
            return FileAnalysis(f"line {node.lineno}: the file imports mongorunway but {name} is not decorated with "
                                "@mongorunway.migration; decorate it, or write a runway-tui migration "
                                f"'def {name}(ctx)' without importing mongorunway")
        *outer, inner = node.decorator_list
        if canonical(resolve(inner)) != _MIGRATION:
            shown = ast.unparse(inner)
            return FileAnalysis(f"line {inner.lineno}: the decorator nearest to def {name} is @{shown}; runway-tui "
                                "understands only @mongorunway.migration there (with @mongorunway.migration_with_rule"
                                "(rule) above it)")
        for decorator in outer:
            call = decorator if isinstance(decorator, ast.Call) else None
            if call is None or canonical(resolve(call.func)) != _WITH_RULE or len(call.args) != 1 or call.keywords:
                return FileAnalysis(f"line {decorator.lineno}: @{ast.unparse(decorator)} on {name} is not understood; "
                                    "above @mongorunway.migration only @mongorunway.migration_with_rule(rule) may "
                                    "stand")
        arguments = node.args
        required = (len(arguments.posonlyargs) + len(arguments.args) - len(arguments.defaults)
                    + sum(1 for d in arguments.kw_defaults if d is None))
        if required > 0:
            return FileAnalysis(f"line {node.lineno}: {name} takes parameters, but @mongorunway.migration calls it "
                                "with none when the file is loaded; remove them")
        if version_line is not None and version_line > node.lineno:
            return FileAnalysis(f"line {version_line}: 'version' is assigned after {name} (line {node.lineno}); "
                                "@mongorunway.migration reads it when the file is loaded, so assign it first")
    missing = _unprovided(tree, resolve)
    if missing is not None:
        return FileAnalysis(missing)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    used |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    return FileAnalysis(uses_ddl=bool(used & DDL_COMMANDS))


def _unprovided(tree: ast.Module, resolve: typing.Callable[[ast.expr], str | None]) -> str | None:
    """The first Mongorunway module or name the file uses that runway-tui's stand-in does not provide."""
    from runway_tui.compat.mongorunway.shim import modules

    provided = modules()

    def exists(path: str) -> bool:
        if path in provided:
            return True
        parent, _, attribute = path.rpartition(".")
        return parent in provided and attribute in vars(provided[parent])

    def problem(line: int, path: str) -> str:
        return (f"line {line}: {path} is not provided by runway-tui's Mongorunway compatibility layer (it "
                "provides what migration files use: commands, rules, processes, the context, ux)")

    unevaluated = _postponed_annotations(tree)
    for node in ast.walk(tree):
        if id(node) in unevaluated:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_mongorunway(alias.name) and alias.name not in provided:
                    return problem(node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and _is_mongorunway(node.module):
            if node.module not in provided:
                return problem(node.lineno, node.module)
            for alias in node.names:
                if alias.name != "*" and not exists(f"{node.module}.{alias.name}"):
                    return problem(node.lineno, f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            path = resolve(node)
            base = resolve(node.value)
            # only the first step past a module: `mongorunway.insert_one`, not `mongorunway.ux.ValidationLevel.STRICT`
            if path and base in provided and _is_mongorunway(path) and not exists(path):
                return problem(node.lineno, path)
    return None


def _is_mongorunway(name: str) -> bool:
    return name == "mongorunway" or name.startswith("mongorunway.")


def _postponed_annotations(tree: ast.Module) -> set[int]:
    """The nodes of annotations never evaluated (`from __future__ import annotations`): a name the stand-in
    lacks may appear there (`-> mongorunway.Migration`) and the file still runs."""
    future = any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and any(a.name == "annotations"
                 for a in n.names) for n in tree.body)
    if not future:
        return set()
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = node.args
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                     *([arguments.vararg] if arguments.vararg else []), *([arguments.kwarg] if arguments.kwarg else [])]
            roots += [a.annotation for a in every if a.annotation is not None]
            roots += [node.returns] if node.returns is not None else []
        elif isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
    return {id(n) for root in roots for n in ast.walk(root)}


class MongorunwayFormat:
    """Mongorunway's file format as an `engine.plugins.ScriptFormat` (registered by `compat.mongorunway.register`).

    Its description is the raw module docstring, as Mongorunway reads it; a file using DDL commands runs
    without a transaction unless it says otherwise; while one of its steps runs, the `mongorunway` stand-in and
    the project's folders are importable (`steps.environment`), and the step calls the command list the
    decorated function returns (`steps.entry_point`)."""

    name = "mongorunway"
    template = TEMPLATE

    def recognises(self, tree: ast.Module) -> bool:
        return uses_mongorunway(tree)

    def description(self, tree: ast.Module) -> str:
        return ast.get_docstring(tree, clean=False) or ""

    def check(self, tree: ast.Module, functions: dict[str, ast.stmt], version_line: int) -> FormatCheck:
        analysis = analyse(tree, functions, version_line)
        if analysis.problem is not None:
            return FormatCheck(analysis.problem)
        return FormatCheck(transactional=not analysis.uses_ddl)  # DDL never ran in a transaction under Mongorunway

    def environment(self, project_dirs: Sequence[Path]) -> AbstractContextManager[Any]:
        from runway_tui.compat.mongorunway import steps

        return steps.environment(list(project_dirs))

    def entry_point(self, module: ModuleType, name: str, context: Any, session_hex: str) -> Callable[..., Any]:
        from runway_tui.compat.mongorunway import steps

        return steps.entry_point(module, name, context, session_hex)


MONGORUNWAY_FORMAT = MongorunwayFormat()
