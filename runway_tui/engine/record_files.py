"""Which file on disk may hold a record's migration, even when the file cannot be parsed.

Refresh removes a pending record only when no file could be its own: a file that exists (by name, by the
version in its name, or by the `version = N` it declares) keeps its record, whatever inspection thought of
it. Deleting the record of an existing file would lose its state (the data-loss report of issue 10).
"""

from __future__ import annotations

import re
from pathlib import Path

from runway_tui.engine.models import MigrationRecord
from runway_tui.engine.project_files import read_bytes
from runway_tui.engine.scripts import ScriptFile

_DECLARED = re.compile(rb"^version\s*(?::\s*int\s*)?=\s*([0-9]+)\s*(?:#.*)?$", re.MULTILINE)
_READ_LIMIT = 1024 * 1024


def declared_version(path: Path) -> int | None:
    """The `version = N` a file declares, read as text (for files the parser refused)."""
    try:
        match = _DECLARED.search(read_bytes(path, _READ_LIMIT))
    except OSError:  # missing, too large, a FIFO...: it declares nothing we can read
        return None
    return int(match.group(1)) if match else None


def file_of(record: MigrationRecord, scripts: list[ScriptFile], scripts_dir: Path) -> Path | None:
    """A file that may be `record`'s own, or None when there is surely none."""
    for script in scripts:
        if script.name == record.name or script.version == record.version:
            return script.path
    named = scripts_dir / f"{record.name}.py"
    if record.name and "/" not in record.name and named.exists():  # e.g. a `_`-prefixed file, which the scan skips
        return named
    for script in scripts:
        if script.is_broken and declared_version(script.path) == record.version:
            return script.path
    return None
