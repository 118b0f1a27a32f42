"""Loading a migration file for its step: compiled and executed from exactly the text we checksum."""

from __future__ import annotations

import sys
import types
from pathlib import Path

from runway_tui.engine.models import Step
from runway_tui.engine.project_files import MAX_MIGRATION_BYTES, read_bytes
from runway_tui.engine.scripts import checksum_text


class ScriptLoader:
    """Imports migration files (only up/down ever runs one). Compiled code is kept by (path, checksum of the
    text): a long-lived app (the TUI) steps the same files up and down; a changed file is compiled again."""

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, str], types.CodeType] = {}
        self.source = ""  # the text of the file loaded last: kept with the record when its step succeeds

    def load(self, step: Step, path: Path) -> tuple[types.ModuleType, str]:
        """The migration's module, executed, and the checksum of the text it was executed from."""
        text = read_bytes(path, MAX_MIGRATION_BYTES, "migration").decode("utf-8")  # a regular file, bounded
        checksum = checksum_text(text)
        key = (str(path), checksum)
        code = self._compiled.get(key)
        if code is None:
            code = compile(text.removeprefix("\ufeff"), str(path), "exec")
            self._compiled[key] = code
        self.source = text
        module = types.ModuleType(f"runway_migration_{step.version}")
        module.__file__ = str(path)
        sys.path.insert(0, str(path.parent))  # lets a migration import helpers (files starting with "_")
        try:
            exec(code, module.__dict__)  # noqa: S102 - running migrations is our job
        finally:
            sys.path.remove(str(path.parent))
        return module, checksum
