"""Which collections a migration file names, read with `ast` (the file is never executed).

`ctx.db["users"]`, `ctx.db.users`, `ctx.db.get_collection("users")` and `create_collection("users")`
count; so does a name bound to `ctx.db` first (`db = ctx.db; db["orders"]`). In Mongorunway's format, a
command's first argument (`mongorunway.insert_one("users", ...)`, the new name of `rename_collection` too)
and `ctx.database["users"]` count. Only literal names are found: a collection whose name is computed at
run time cannot be known before the step runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

from pymongo.database import Database

from runway_tui.engine.project_files import MAX_MIGRATION_BYTES, read_text

_DATABASE_ATTRIBUTES = frozenset(name for name in dir(Database) if not name.startswith("__"))
_NAMING_CALLS = frozenset({"get_collection", "create_collection", "drop_collection", "validate_collection"})
# Mongorunway's commands and the positional arguments they need: one more than the pymongo method of the same
# name (the collection comes first), so `coll.insert_one(doc)` is not mistaken for one.
_MONGORUNWAY_COMMANDS = {
    "create_collection": 1, "drop_collection": 1, "drop_indexes": 1, "bulk_write": 2, "insert_one": 2,
    "insert_many": 2, "delete_one": 2, "delete_many": 2, "create_index": 2, "create_indexes": 2, "drop_index": 2,
    "rename_collection": 2, "replace_one": 3, "update_one": 3, "update_many": 3,
}
_MONGORUNWAY_CLASSES = {"".join(p.title() for p in k.split("_")): v for k, v in _MONGORUNWAY_COMMANDS.items()}


def collections_named(source: str) -> list[str]:
    """Collection names in order of first appearance; [] when the source does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    aliases = _database_aliases(tree)
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        for name in [_collection_of(node, aliases), *_command_collections(node)]:
            if name:
                found.append((getattr(node, "lineno", 0), getattr(node, "col_offset", 0), name))
    return list(dict.fromkeys(name for _, _, name in sorted(found)))


def collections_in_file(path: Path) -> list[str]:
    try:
        return collections_named(read_text(path, MAX_MIGRATION_BYTES, errors="replace"))
    except OSError:
        return []


def _is_database(node: ast.AST, aliases: set[str]) -> bool:
    """`ctx.db` (any object's `.db`) or a plain name bound to it."""
    if isinstance(node, ast.Attribute) and node.attr in ("db", "database"):
        return True
    return isinstance(node, ast.Name) and node.id in aliases


def _database_aliases(tree: ast.AST) -> set[str]:
    aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute) and node.value.attr == "db":
            aliases.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return aliases


def _collection_of(node: ast.AST, aliases: set[str]) -> str | None:
    if isinstance(node, ast.Subscript) and _is_database(node.value, aliases):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _NAMING_CALLS \
            and _is_database(node.func.value, aliases) and node.args:
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
        return None
    if isinstance(node, ast.Attribute) and _is_database(node.value, aliases) \
            and node.attr not in _DATABASE_ATTRIBUTES and not node.attr.startswith("_"):
        return node.attr
    return None


def _command_collections(node: ast.AST) -> list[str]:
    """`mongorunway.insert_one("users", ...)`: the literal collection names of a Mongorunway command."""
    if not isinstance(node, ast.Call):
        return []
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    needed = _MONGORUNWAY_COMMANDS.get(name) or _MONGORUNWAY_CLASSES.get(name)
    if needed is None or len(node.args) < needed:
        return []
    count = 2 if name in ("RenameCollection", "rename_collection") else 1
    return [a.value for a in node.args[:count] if isinstance(a, ast.Constant) and isinstance(a.value, str)]


def function_source(path: Path, name: str, max_lines: int = 80) -> str | None:
    """The text of the module-level function `name` (its decorators too), as written in the file at `path`,
    cut after `max_lines` lines; None when the file does not parse or has no such function. Read with `ast`:
    the file is never executed (what a revert dialog shows of `downgrade`)."""
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
        tree = ast.parse(source)
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            lines = source.splitlines()[first - 1:node.end_lineno]
            if len(lines) > max_lines:
                lines = [*lines[:max_lines], f"# … {len(lines) - max_lines} more lines (see the file)"]
            return "\n".join(lines)
    return None
