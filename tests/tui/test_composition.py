"""The TUI's composition rules, read from its source (no terminal): no import cycle inside `runway_tui.tui`
(counting imports under TYPE_CHECKING and inside functions: a cycle there is still a tangle a reader must
hold in their head), no `type: ignore[attr-defined]` (a piece that cannot see what it uses), and no module
that imports `RunwayApp` besides the launcher (`run.py` builds it; nothing else reaches back to it)."""

from __future__ import annotations

import ast
from pathlib import Path

import runway_tui.tui as tui

ROOT = Path(tui.__file__).parent
PACKAGE = "runway_tui.tui"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join((PACKAGE, *parts))] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The tui modules `path` imports, wherever the import statement sits."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        out.update(name for name in names if name in modules)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` (depth first), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_finder_sees_a_cycle_when_there_is_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_the_tui():
    assert find_cycle(import_graph()) is None


def test_only_the_launcher_imports_the_app():
    importers = sorted(name for name, deps in import_graph().items() if f"{PACKAGE}.app" in deps)
    assert importers == [f"{PACKAGE}.run"]


def test_no_attr_defined_ignores_in_the_tui():
    offenders = [f"{path.relative_to(ROOT)}:{number}" for path in sorted(ROOT.rglob("*.py"))
                 for number, line in enumerate(path.read_text().splitlines(), start=1)
                 if "type: ignore[attr-defined]" in line]
    assert offenders == []
