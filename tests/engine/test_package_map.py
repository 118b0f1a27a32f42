"""The engine's package maps stay true: `engine/__init__.py` and each subpackage's `__init__.py` list every
module they hold, and only those, so a newcomer reading the map reads the whole package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import runway_tui.engine

ENGINE = Path(runway_tui.engine.__file__).parent
MAP_LINE = re.compile(r"^- (?P<name>[A-Za-z0-9_]+(?:\.py|/))\s")


def listed(package: Path) -> list[str]:
    docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8"))) or ""
    return [m.group("name") for line in docstring.splitlines() if (m := MAP_LINE.match(line))]


def present(package: Path) -> list[str]:
    modules = [p.name for p in package.glob("*.py") if p.name != "__init__.py"]
    packages = [f"{p.name}/" for p in package.iterdir() if (p / "__init__.py").is_file()]
    return sorted(modules + packages)


@pytest.mark.parametrize("package", [ENGINE, *sorted(p for p in ENGINE.iterdir() if (p / "__init__.py").is_file())],
                         ids=lambda p: p.relative_to(ENGINE.parent).as_posix())
def test_the_package_map_lists_every_module_once(package: Path) -> None:
    names = listed(package)
    assert len(names) == len(set(names)), "a module is listed twice"
    assert sorted(names) == present(package)
