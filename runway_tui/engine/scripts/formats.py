"""The runway migration file format: `def upgrade(ctx)` / `def downgrade(ctx)`, and its template.

Other formats (Mongorunway's `@mongorunway.migration` files) implement the same `engine.plugins.ScriptFormat`
protocol in the compat layer and are registered there; the script analysis asks them first and falls back
to this one.
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from runway_tui.engine.plugins import FormatCheck

if TYPE_CHECKING:
    pass

TEMPLATE = '''"""{description}"""

version = {version}
# transactional = False  # uncomment for steps that cannot run in a transaction (e.g. index builds on big collections)


def upgrade(ctx):
    """Apply this version. Pass session=ctx.session to every call so it joins the step's transaction."""
    # ctx.db["collection"].update_many({{}}, {{"$set": {{"field": 1}}}}, session=ctx.session)
    # ctx.log("what happened"); ctx.progress(done, total)


def downgrade(ctx):
    """Revert exactly what upgrade did."""
'''


class RunwayFormat:
    """runway-tui's own files: a docstring, `version = N`, `def upgrade(ctx)` and `def downgrade(ctx)`."""

    name = "runway"
    template = TEMPLATE

    def recognises(self, tree: ast.Module) -> bool:
        return True  # the fallback: every file another format does not claim

    def description(self, tree: ast.Module) -> str:
        return (ast.get_docstring(tree) or "").strip()

    def check(self, tree: ast.Module, functions: dict[str, ast.stmt], version_line: int) -> FormatCheck:
        missing = [f for f in ("upgrade", "downgrade") if not isinstance(functions.get(f), ast.FunctionDef)]
        if missing:
            return FormatCheck(f"missing {' and '.join(f'def {m}(ctx)' for m in missing)}")
        return FormatCheck()

    def environment(self, project_dirs: Sequence[Path]) -> AbstractContextManager[Any]:
        return contextlib.nullcontext()  # a runway file imports what it likes, as any Python module

    def entry_point(self, module: ModuleType, name: str, context: Any, session_hex: str) -> Callable[..., Any]:
        function = getattr(module, name, None)
        if not callable(function):
            shown = Path(module.__file__).name if module.__file__ else module.__name__  # the runner sets __file__
            raise TypeError(f"{shown} has no callable {name}(ctx)")
        return function


RUNWAY_FORMAT = RunwayFormat()
