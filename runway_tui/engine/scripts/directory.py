"""The script directory: the project's migration files on disk (Alembic's "script directory").

Scanning (with an in-process stat cache and a content-addressed cache file, so unchanged files are never
parsed twice), the next version, and new files from a format's template under a folder lock. Files starting
with `_` are helpers, not migrations. Nothing here touches the database.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from runway_tui.engine import plugins
from runway_tui.engine.errors import ConfigError, UsageError
from runway_tui.engine.project_files import not_regular, read_text, write_atomically
from runway_tui.engine.scripts.analysis import MAX_VERSION, ScriptFile, inspect_file
from runway_tui.engine.scripts.naming import FILE_NAME, Naming, ascii_letters, slugify
from runway_tui.engine.vocabulary import remedy

if TYPE_CHECKING:
    from runway_tui.engine.config.model import AppConfig

CACHE_FORMAT = 2  # bump when the analysis (analysis.py) changes, so old cache files are ignored
MAX_CACHE_BYTES = 64 * 1024 * 1024  # the scan cache: a few hundred bytes per migration file


class ScriptDirectory:
    """The migration files of a project (Alembic's "script directory")."""

    def __init__(self, path: Path, cache_file: Path | None = None, origin: str = "scripts_dir",
                 naming: Naming | None = None, compat: str = "runway") -> None:
        self.path = path
        self.naming = naming or Naming()
        self.compat = compat  # "mongorunway": new files are written in Mongorunway's format
        self.origin = origin  # where the folder was configured, for error messages ("runway.yaml: scripts_dir")
        self.cache_file = cache_file
        self._cache: dict[str, list[object]] | None = None
        # In-process: files whose (mtime, size, inode) did not change are not even re-read (as git does).
        self._seen: dict[str, tuple[tuple[int, int, int], ScriptFile]] = {}

    @classmethod
    def for_app(cls, config: AppConfig, *, cached: bool = True) -> ScriptDirectory:
        """The script directory of an application, with the project's naming and format conventions."""
        cache_file = config.config_path.parent / ".runway" / "scan-cache.json" if cached else None
        naming = Naming(config.filename_strategy, config.use_filename_strategy, config.compat == "mongorunway")
        return cls(config.scripts_dir, cache_file=cache_file, origin=f"{config.config_path}: scripts_dir",
                   naming=naming, compat=config.compat)

    def _load_cache(self) -> dict[str, list[object]]:
        if self._cache is None:
            self._cache = {}
            if self.cache_file is not None:
                with contextlib.suppress(OSError, ValueError):  # a missing, odd or damaged cache is no cache
                    loaded = json.loads(read_text(self.cache_file, MAX_CACHE_BYTES, "scan cache"))
                    if isinstance(loaded, dict) and loaded.get("format") == CACHE_FORMAT:
                        self._cache = dict(loaded.get("entries", {}))
        return self._cache

    def _save_cache(self, cache: dict[str, list[object]], seen: set[str]) -> None:
        """Best effort: keep only the entries of files present now, written atomically."""
        if self.cache_file is None:
            return
        kept = {k: v for k, v in cache.items() if k in seen}
        self._cache = kept
        with contextlib.suppress(OSError):  # a full disk or a read-only folder: no cache, and no litter
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.cache_file, json.dumps({"format": CACHE_FORMAT, "entries": kept}))

    def scan(self) -> list[ScriptFile]:
        """Every candidate file, sorted by version then name; duplicates are marked broken."""
        self.check_folder()
        cache = self._load_cache()
        before = len(cache)
        files = []
        seen: dict[str, tuple[tuple[int, int, int], ScriptFile]] = {}
        real_folder = os.path.realpath(self.path)
        for entry in os.scandir(self.path):
            if not entry.name.endswith(".py") or entry.name.startswith("_"):
                continue
            problem = _link_problem(entry, real_folder)
            if problem is None:
                try:
                    stat = entry.stat()
                    if entry.is_dir():  # a folder named like a file is not a migration
                        continue
                    kind = not_regular(stat.st_mode)  # a FIFO would hang the read, a device never end
                    if kind:
                        problem = f"file {kind}"
                except OSError as exc:
                    problem = f"cannot read the file: {exc.strerror}"
            if problem is not None:  # shown as a broken file (blocks up), never a crash, never run
                version = self.naming.check(entry.name)[0]
                version = version if version is not None and version <= MAX_VERSION else None
                files.append(ScriptFile(self.path / entry.name, entry.name[:-3], version, "", None, problem=problem))
                continue
            key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
            known = self._seen.get(entry.name)
            script = known[1] if known and known[0] == key else inspect_file(self.path / entry.name, cache,
                                                                             self.naming)
            seen[entry.name] = (key, script)
            files.append(script)
        self._seen = seen
        current = {f"{self.naming.key}:{f.path.name}:{f.checksum}" for f in files if f.checksum}
        if len(cache) != before or len(cache) > len(current):
            self._save_cache(cache, current)
        by_version: dict[int, list[ScriptFile]] = {}
        for script in files:
            if script.version is not None and not script.is_broken:
                by_version.setdefault(script.version, []).append(script)
        result = []
        for script in files:
            twins = by_version.get(script.version or -1, [])
            if len(twins) > 1 and script in twins:
                others = ", ".join(t.path.name for t in twins if t is not script)
                script = replace(script, problem=f"version {script.version} is also used by {others}")
            result.append(script)
        result.sort(key=lambda s: (s.version if s.version is not None else 10**12, s.name))
        return result

    def check_folder(self) -> None:
        """The folder must exist and be a folder: a typo in scripts_dir is not "no migrations yet"."""
        try:
            mode = os.stat(self.path).st_mode
        except OSError as exc:
            raise ConfigError(f"{self.origin}: {self.path}: {exc.strerror.lower() if exc.strerror else exc}; "
                              f"create the folder or fix scripts_dir; creating a migration creates the folder: "
                              f"{remedy('new')}") from None
        import stat as stat_module

        if not stat_module.S_ISDIR(mode):
            raise ConfigError(f"{self.origin}: {self.path} is not a folder; scripts_dir must name the folder "
                              "of the migration files")

    def next_version(self) -> int:
        return max(self._versions().values(), default=0) + 1

    def _versions(self) -> dict[str, int]:
        """File name -> version: from the names ("numerical"), else from each file's `version` variable."""
        if self.naming.versions_from_names:
            return {e: version for e in self._names() if e.endswith(".py") and not e.startswith("_")
                    and (version := self.naming.check(e)[0]) is not None}
        found = {}
        for entry in self._names():
            if entry.endswith(".py") and not entry.startswith("_"):
                script = inspect_file(self.path / entry, self._load_cache(), self.naming)
                if script.version is not None:
                    found[entry] = script.version
        return found

    def _names(self) -> list[str]:
        return os.listdir(self.path) if self.path.is_dir() else []

    def create_template(self, name: str, description: str | None = None) -> Path:
        """Write the next version's file; never overwrites, safe against two creators racing."""
        for label, text in (("name", name), ("description", description or "")):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise UsageError(f"the migration {label} is not valid UTF-8 text (bytes the terminal could not "
                                 "decode); retype it") from None
        slug = slugify(name)
        if not slug:
            if ascii_letters(name)[2]:  # letters a file name cannot hold (日本語): say so, not "no letters"
                raise UsageError(f"migration name {name!r} has only letters a file name cannot hold (file names take "
                                 "ASCII letters and digits; accents are dropped, é becomes e); name the file in "
                                 "ASCII, e.g. 'add_user_index', and give the rest with --description")
            raise UsageError(f"migration name {name!r} has no letters or digits; use e.g. 'add_user_index'")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"{self.path}: cannot create the migrations folder: {exc.strerror}") from None
        with self._folder_lock():
            return self._create_locked(name, slug, description)

    @contextlib.contextmanager
    def _folder_lock(self) -> Iterator[None]:
        """flock on the folder itself: creators in other threads or processes pick versions one at a time
        (without it, a creator that checked for twins before a lower-sorting twin appeared kept its file)."""
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _create_locked(self, name: str, slug: str, description: str | None) -> Path:
        width = max([3] + [len(m.group("digits")) for e in self._names() if (m := FILE_NAME.match(e))])
        stamp = int(time.time())
        for _attempt in range(100):
            version = self.next_version()
            if version > MAX_VERSION:
                raise UsageError(f"{self.path}: the next version would be beyond 64-bit integers; rename the "
                                 "file with the highest version")
            if self.naming.strategy == "unix_timestamp":
                path = self.path / f"{stamp}_{slug}.py"
                stamp += 1  # the same name in the same second: the next second's name
            else:
                path = self.path / f"{version:0{width}d}_{slug}.py"
            # Escape so any name/description gives a valid docstring that reads back as written.
            escaped = _docstring_text(description or name.strip())
            template = plugins.script_format(self.compat).template
            text = template.format(description=escaped, version=version)
            try:
                # O_EXCL: a file that appeared since we listed the folder is never overwritten.
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                continue
            except OSError as exc:
                raise UsageError(f"{self.path}: cannot write {path.name}: {exc.strerror}") from None
            try:
                with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                    handle.write(text)
            except BaseException as exc:  # never leave an empty or partial file that would block every later `up`
                path.unlink(missing_ok=True)
                if isinstance(exc, OSError):  # a full disk: the same line as a folder we may not write to
                    raise UsageError(f"{self.path}: cannot write {path.name}: {exc.strerror}") from None
                raise
            if self._version_taken_by_other(version, path):
                path.unlink()  # another creator took this version with another name in the same instant
                continue
            return path
        raise UsageError(f"{self.path}: could not find a free version number; is another process creating files?")

    def _version_taken_by_other(self, version: int, mine: Path) -> bool:
        for entry, taken in self._versions().items():
            if taken == version and entry != mine.name:
                # Keep the file whose name sorts first; the other creator retries.
                return entry < mine.name
        return False


def _link_problem(entry: os.DirEntry[str], real_folder: str) -> str | None:
    """A migration file that is a symbolic link must stay inside scripts_dir and lead to a file."""
    if not entry.is_symlink():
        return None
    try:
        target = os.path.realpath(entry.path, strict=True)
    except OSError as exc:
        reason = "a loop of symbolic links" if exc.errno == errno.ELOOP else "a missing file"
        return f"is a symbolic link to {reason} ({os.readlink(entry.path)})"
    if os.path.dirname(target) != real_folder:
        return f"is a symbolic link to {target}, outside scripts_dir; copy the file into the folder instead"
    return None


def _docstring_text(text: str) -> str:
    """Escape so any text gives a valid docstring that reads back as written (control characters too)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", escaped)

