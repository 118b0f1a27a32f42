"""Running a Mongorunway-format migration file in a runway-tui step (the runner's hook into this package).

While the step runs (`environment`), `import mongorunway` gives the shim and the project's folders are
importable (`import migrations` for custom commands and rules), as under Mongorunway's CLI; afterwards
`sys.modules` and `sys.path` are as they were. `entry_point` checks the process's business rules (before
the step's transaction, as Mongorunway does) and returns the step's function: it executes each command
with a context bound to the step's session, so the commands commit or roll back with the step's record.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import threading
import types
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pymongo.errors import OperationFailure

from runway_tui.compat.mongorunway import shim
from runway_tui.compat.mongorunway.binding import bind
from runway_tui.compat.mongorunway.shim.domain import MigrationContext, MigrationProcess, check_rules

_NOT_IN_TRANSACTION = 263  # OperationNotSupportedInTransaction
# sys.modules and sys.path belong to the process: two apps running Mongorunway steps in two threads take turns.
_PROCESS_WIDE = threading.RLock()


def _is_mongorunway(name: str) -> bool:
    return name == "mongorunway" or name.startswith("mongorunway.")


class _MissingMongorunwayModule(importlib.abc.MetaPathFinder):
    """`import mongorunway.<something the shim lacks>` fails with a line that says so."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if _is_mongorunway(fullname):
            raise ModuleNotFoundError(f"No module named {fullname!r} in runway-tui's Mongorunway compatibility "
                                      "layer (it provides what migration files use: mongorunway, .api, .domain.*, "
                                      ".infrastructure.commands, .application.ux)", name=fullname)
        return None


@contextlib.contextmanager
def environment(paths: Sequence[Path]) -> Iterator[None]:
    """The shim as `mongorunway` and `paths` importable, for the duration of one step."""
    with _PROCESS_WIDE:
        yield from _swapped(paths)


def _swapped(paths: Sequence[Path]) -> Iterator[None]:
    saved = {name: module for name, module in sys.modules.items() if _is_mongorunway(name)}
    before = set(sys.modules)
    for name in saved:
        del sys.modules[name]
    sys.modules.update(shim.modules())
    added = [str(p) for p in dict.fromkeys(paths) if str(p) not in sys.path]
    sys.path[:0] = added
    finder = _MissingMongorunwayModule()
    sys.meta_path.insert(0, finder)
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for entry in added:
            with contextlib.suppress(ValueError):
                sys.path.remove(entry)
        roots = [os.path.realpath(p) + os.sep for p in paths]
        for name in list(sys.modules):
            if _is_mongorunway(name) or (name not in before and _from_project(sys.modules[name], roots)):
                del sys.modules[name]  # the next step imports the project's code afresh (edits are seen)
        sys.modules.update(saved)


def _from_project(module: types.ModuleType | None, roots: list[str]) -> bool:
    """A module the step imported from the project's folders (not an installed package, not runway-tui)."""
    if module is None or module.__name__.startswith("runway_tui"):
        return False
    location = getattr(module, "__file__", None)
    if not location:
        return False
    real = os.path.realpath(location)
    if "site-packages" in real or "dist-packages" in real or real.startswith(_INSTALLATION):
        return False  # the standard library or an installed package (a virtualenv inside the project too)
    return any(real.startswith(root) for root in roots)


_INSTALLATION = tuple(os.path.realpath(p) + os.sep for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})


def entry_point(module: types.ModuleType, function_name: str, rules_ctx: Any, session_id: str) -> Callable[[Any], None]:
    """Check the rules of `module.<upgrade|downgrade>` and return the step's function, `run(ctx)`."""
    process = getattr(module, function_name, None)
    if not isinstance(process, MigrationProcess):
        location = os.path.basename(getattr(module, "__file__", "") or "the file")
        raise TypeError(f"{location}: {function_name} is not a migration process (decorate it with "
                        f"@mongorunway.migration and return a list of commands); got {type(process).__name__}")
    if process.has_rules():
        check_rules(process, _context(rules_ctx, session_id))

    def run(ctx: Any) -> None:
        context = _context(ctx, session_id)
        commands = list(process.commands)
        for index, command in enumerate(commands, 1):
            try:
                command.execute(context)
            except OperationFailure as exc:
                if exc.code == _NOT_IN_TRANSACTION:
                    raise OperationFailure(f"{exc}; {command.name} cannot run in a transaction: put "
                                           "'transactional = False' in the migration file", exc.code,
                                           exc.details) from exc
                raise
            ctx.log(f"{command.name} command applied ({index} of {len(commands)})")
            ctx.progress(index, len(commands))

    return run


def _context(ctx: Any, session_id: str) -> MigrationContext:
    """Mongorunway's context from runway-tui's: the same client and database, bound to the step's session."""
    session = ctx.session
    mongodb_id = session.session_id["id"].hex() if session is not None else ""
    return MigrationContext(mongorunway_session_id=session_id, mongodb_session_id=mongodb_id,
                            client=bind(ctx.client, session), database=bind(ctx.db, session), session=session)
