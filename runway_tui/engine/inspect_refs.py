"""Which collections a migration file names, read with `ast` (the file is never executed).

`ctx.db["users"]`, `ctx.db.users`, `ctx.db.get_collection("users")` and `create_collection("users")`
count; so does a name bound to `ctx.db` first (`db = ctx.db; db["orders"]`). Only literal names are
found: a collection whose name is computed at run time cannot be known before the step runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

from pymongo.database import Database

_DATABASE_ATTRIBUTES = frozenset(name for name in dir(Database) if not name.startswith("__"))
_NAMING_CALLS = frozenset({"get_collection", "create_collection", "drop_collection", "validate_collection"})


def collections_named(source: str) -> list[str]:
    """Collection names in order of first appearance; [] when the source does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    aliases = _database_aliases(tree)
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        name = _collection_of(node, aliases)
        if name:
            found.append((getattr(node, "lineno", 0), getattr(node, "col_offset", 0), name))
    return list(dict.fromkeys(name for _, _, name in sorted(found)))


def collections_in_file(path: Path) -> list[str]:
    try:
        return collections_named(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return []


def _is_database(node: ast.AST, aliases: set[str]) -> bool:
    """`ctx.db` (any object's `.db`) or a plain name bound to it."""
    if isinstance(node, ast.Attribute) and node.attr == "db":
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
