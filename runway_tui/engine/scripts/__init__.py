"""Migration files on disk, never the database (Alembic's `script/`): import-linter keeps this package away
from the driver and the store.

Map of the package (`from runway_tui.engine.scripts import ...` keeps working for every name below):
- directory.py  ScriptDirectory: scan with caches, next version, create from a template under a folder lock
- analysis.py   one file -> ScriptFile (read, checksum, `ast`: version, description, the format's checks)
- naming.py     Naming (numerical, unix_timestamp, any) and file names from typed names
- formats.py    the runway format; others implement `engine.plugins.ScriptFormat` (Mongorunway's in compat)
The collections a migration names are read by `engine/inspect_refs.py` (it needs the driver's API names).
"""

from runway_tui.engine.scripts.analysis import MAX_FILE_BYTES, MAX_VERSION, ScriptFile, checksum_text, inspect_file
from runway_tui.engine.scripts.directory import CACHE_FORMAT, MAX_CACHE_BYTES, ScriptDirectory
from runway_tui.engine.scripts.formats import RUNWAY_FORMAT, TEMPLATE, RunwayFormat
from runway_tui.engine.scripts.naming import (
    FILE_NAME,
    MONGORUNWAY_FILE_NAME,
    UNIX_FILE_NAME,
    Naming,
    name_note,
    slugify,
)

__all__ = [
    "CACHE_FORMAT", "FILE_NAME", "MAX_CACHE_BYTES", "MAX_FILE_BYTES", "MAX_VERSION", "MONGORUNWAY_FILE_NAME",
    "RUNWAY_FORMAT", "TEMPLATE", "UNIX_FILE_NAME", "Naming", "RunwayFormat", "ScriptDirectory", "ScriptFile",
    "checksum_text", "inspect_file", "name_note", "slugify",
]
