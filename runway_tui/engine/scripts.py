"""The script directory: migration files on disk, inspected with `ast` and never executed here.

A migration file is `NNN_slug.py` (zero-padded version, at least three digits) with a module
docstring (the description), `version = N`, `def upgrade(ctx)` and `def downgrade(ctx)`, and an
optional `transactional = False`. Files starting with `_` are helpers, not migrations.

Files in Mongorunway's format (`import mongorunway`, `@mongorunway.migration`) are recognised too
(`compat/mongorunway/files.py`). The project's `filename_strategy` says what a name must look like:
"numerical" (`001_name.py`, the digits are the version) or "unix_timestamp" (`1796172596_name.py`, the
version is the file's `version` variable); `use_filename_strategy: false` accepts any name.
"""

from __future__ import annotations

import ast
import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from runway_tui.compat.mongorunway import files as mongorunway_files
from runway_tui.engine.errors import ConfigError, UsageError
from runway_tui.engine.project_files import (
    MAX_MIGRATION_BYTES,
    NotReadable,
    not_regular,
    read_bytes,
    read_text,
    write_atomically,
)
from runway_tui.engine.vocabulary import remedy

if TYPE_CHECKING:
    from runway_tui.engine.config import AppConfig

# ASCII digits only: `\d` would take "٠٠١_x.py" (Arabic-Indic digits) as version 1.
FILE_NAME = re.compile(r"^(?P<digits>[0-9]{3,})[_-](?P<slug>[A-Za-z0-9_-]+)\.py$")
UNIX_FILE_NAME = re.compile(r"^[0-9]{10,}")  # Mongorunway's UnixFilenameStrategy: a timestamp prefix
# Mongorunway's NumericalFilenameStrategy checks only the leading digits ("001_add users.py" is valid there).
MONGORUNWAY_FILE_NAME = re.compile(r"^(?P<digits>[0-9]{3,})(?![0-9]).*\.py$")
MAX_VERSION = 2**63 - 1  # versions are stored as BSON 64-bit integers
CACHE_FORMAT = 2  # bump when the analysis below changes, so old cache files are ignored
MAX_FILE_BYTES = MAX_MIGRATION_BYTES
MAX_CACHE_BYTES = 64 * 1024 * 1024  # the scan cache: a few hundred bytes per migration file

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


@dataclass(frozen=True)
class ScriptFile:
    """What inspection learned about one file; `problem` is set when the file is broken."""

    path: Path
    name: str  # the full file stem, e.g. "004_add_history"
    version: int | None
    description: str
    checksum: str | None
    transactional: bool = True
    problem: str | None = None
    format: str = "runway"  # "runway": def upgrade(ctx); "mongorunway": @mongorunway.migration command lists

    @property
    def is_broken(self) -> bool:
        return self.problem is not None


@dataclass(frozen=True)
class Naming:
    """How file names give versions: the project's `filename_strategy` and `use_filename_strategy`."""

    strategy: str = "numerical"  # or "unix_timestamp"
    strict: bool = True
    mongorunway: bool = False  # a Mongorunway project: its looser names ("001_add users.py") are accepted

    @property
    def key(self) -> str:
        return (self.strategy + ("-mongorunway" if self.mongorunway else "")) if self.strict else "any"

    @property
    def versions_from_names(self) -> bool:
        return self.strict and self.strategy == "numerical"

    def check(self, file_name: str) -> tuple[int | None, str | None]:
        """The version the name gives (None: the file's own `version` decides), or why the name is refused."""
        if not self.strict:
            return None, None
        if self.strategy == "unix_timestamp":
            if UNIX_FILE_NAME.match(file_name):
                return None, None
            return None, ("file name must start with a Unix timestamp of at least 10 digits, e.g. "
                          "1796172596_name.py (filename_strategy: unix_timestamp)")
        match = FILE_NAME.match(file_name) or (MONGORUNWAY_FILE_NAME.match(file_name) if self.mongorunway else None)
        if not match:
            return None, ("file name must be NNN_name.py (version of at least 3 digits, then letters, digits, "
                          "_ or -)")
        return int(match.group("digits")), None


def checksum_text(text: str) -> str:
    """MD5 hex of the text with newlines normalised to LF, as UTF-8 (Mongorunway's value)."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    return hashlib.md5(normalised.encode("utf-8"), usedforsecurity=False).hexdigest()


def inspect_file(path: Path, cache: dict[str, list[object]] | None = None, naming: Naming | None = None) -> ScriptFile:
    """Parse one file with `ast`; any defect becomes `problem` instead of an exception.

    The file is always read and checksummed; `cache` maps "naming:file name:checksum" to the result of
    the `ast` analysis, so unchanged content is never parsed twice (content-addressed: never stale).
    """
    naming = naming or Naming()
    name = path.stem
    name_version, name_problem = naming.check(path.name)
    if name_version is not None and name_version > MAX_VERSION:
        return ScriptFile(path=path, name=name, version=None, description="", checksum=None,
                          problem=f"the version in the file name is beyond 64-bit integers (at most {MAX_VERSION})")

    def broken(problem: str, **extra: object) -> ScriptFile:
        fields = {"version": name_version, "description": "", "checksum": None, **extra}
        return ScriptFile(path=path, name=name, problem=problem, **fields)  # type: ignore[arg-type]

    if name_problem is not None:
        return broken(name_problem)
    try:
        raw = read_bytes(path, MAX_FILE_BYTES, "migration")
    except NotReadable as exc:
        return broken(f"file {exc.strerror}")
    except OSError as exc:
        return broken(f"cannot read the file: {exc.strerror}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return broken(f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8")
    checksum = checksum_text(text)
    key = f"{naming.key}:{path.name}:{checksum}"
    if cache is not None and isinstance(hit := cache.get(key), list) and len(hit) == 5:
        version, description, transactional, problem, file_format = hit
        return ScriptFile(path=path, name=name, version=version, description=description,  # type: ignore[arg-type]
                          checksum=checksum, transactional=bool(transactional), problem=problem,  # type: ignore[arg-type]
                          format=str(file_format))
    result = _analyse(path, name, name_version, text, checksum)
    if cache is not None:
        cache[key] = [result.version, result.description, result.transactional, result.problem, result.format]
    return result


def _analyse(path: Path, name: str, name_version: int | None, text: str, checksum: str) -> ScriptFile:
    """The `ast` part of `inspect_file`: docstring, version, functions, transactional."""

    def broken(problem: str, **extra: object) -> ScriptFile:
        fields = {"version": name_version, "description": "", "checksum": None, **extra}
        return ScriptFile(path=path, name=name, problem=problem, **fields)  # type: ignore[arg-type]

    try:
        tree = ast.parse(text.removeprefix("\ufeff"), filename=str(path))  # a UTF-8 BOM is valid Python
    except SyntaxError as exc:
        return broken(f"syntax error on line {exc.lineno}: {exc.msg}", checksum=checksum)
    except ValueError as exc:  # e.g. null bytes
        return broken(f"cannot be parsed: {exc}", checksum=checksum)

    file_format = "mongorunway" if mongorunway_files.uses_mongorunway(tree) else "runway"
    if file_format == "mongorunway":  # Mongorunway's description is the raw module docstring
        description = ast.get_docstring(tree, clean=False) or ""
    else:
        description = (ast.get_docstring(tree) or "").strip()
    version_nodes: list[ast.expr] = []
    functions: dict[str, ast.stmt] = {}
    transactional: bool | None = None
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and target.id == "version":
                version_nodes.append(value)  # type: ignore[arg-type]
            if isinstance(target, ast.Name) and target.id == "transactional":
                if isinstance(value, ast.Constant) and isinstance(value.value, bool):
                    transactional = value.value
                else:
                    return broken(f"line {node.lineno}: transactional must be True or False", checksum=checksum,
                                  description=description)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in ("upgrade", "downgrade"):
            functions[node.name] = node

    def fail(problem: str) -> ScriptFile:
        return broken(problem, checksum=checksum, description=description, format=file_format)

    if not version_nodes:
        return fail("missing module-level 'version = N'")
    if len(version_nodes) > 1:
        return fail(f"'version' is assigned {len(version_nodes)} times; assign it once")
    value = version_nodes[0]
    if not (isinstance(value, ast.Constant) and type(value.value) is int):
        return fail(f"line {value.lineno}: version must be a whole number literal, got {ast.unparse(value)!r}")
    version = value.value
    if version < 1:
        return fail(f"line {value.lineno}: version must be 1 or more, got {version}")
    if version > MAX_VERSION:
        return fail(f"line {value.lineno}: version is beyond 64-bit integers (at most {MAX_VERSION})")
    if name_version is not None and version != name_version:
        return fail(f"line {value.lineno}: version = {version} disagrees with the file name ({name_version})")
    if file_format == "mongorunway":
        analysis = mongorunway_files.analyse(tree, functions, value.lineno)
        if analysis.problem is not None:
            return fail(analysis.problem)
        if transactional is None:  # DDL cannot run in a transaction (and never did under Mongorunway)
            transactional = not analysis.uses_ddl
    else:
        missing = [f for f in ("upgrade", "downgrade") if not isinstance(functions.get(f), ast.FunctionDef)]
        if missing:
            return fail(f"missing {' and '.join(f'def {m}(ctx)' for m in missing)}")
    return ScriptFile(path=path, name=name, version=version, description=description,
                      checksum=checksum, transactional=True if transactional is None else transactional,
                      format=file_format)


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
            if _ascii_letters(name)[2]:  # letters a file name cannot hold (日本語): say so, not "no letters"
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
            template = mongorunway_files.TEMPLATE if self.compat == "mongorunway" else TEMPLATE
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


def slugify(name: str) -> str:
    """'Add users: email index!' -> 'add_users_email_index'; 'Café' -> 'cafe' (accents dropped, ß -> ss)."""
    return re.sub(r"[^a-z0-9]+", "_", _ascii_letters(name)[0].strip().lower()).strip("_")[:80]


def name_note(name: str) -> str | None:
    """What the file name keeps of a name with letters beyond ASCII (None: it keeps them all), for the user."""
    _text, changed, dropped = _ascii_letters(name)
    slug = slugify(name)
    if not slug or not (changed or dropped):
        return None
    parts = [f"{', '.join(changed)}" if changed else "",
             f"{''.join(dropped)} dropped: file names take ASCII letters and digits" if dropped else ""]
    return f"the file name keeps {slug!r} ({'; '.join(p for p in parts if p)}); the description keeps the name as typed"


# Latin letters without a Unicode decomposition to ASCII (é, ç, ñ... decompose: NFKD does those).
_LATIN = {"ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L",
          "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ı": "i", "ħ": "h", "Ħ": "H"}


def _ascii_letters(name: str) -> tuple[str, list[str], list[str]]:
    """`name` in ASCII, the letters written differently ("é -> e"), and the letters or digits dropped (用户)."""
    import unicodedata

    out: list[str] = []
    changed: list[str] = []
    dropped: list[str] = []
    for char in name:
        if char.isascii():
            out.append(char)
            continue
        ascii_form = _LATIN.get(char) or "".join(c for c in unicodedata.normalize("NFKD", char) if c.isascii())
        meaningful = unicodedata.category(char)[0] in "LN"  # a letter or a digit, not a dash or a symbol
        if ascii_form.strip():
            out.append(ascii_form)
            if meaningful and f"{char} -> {ascii_form.lower()}" not in changed:
                changed.append(f"{char} -> {ascii_form.lower()}")
        else:
            out.append(" ")
            if meaningful and char not in dropped:
                dropped.append(char)
    return "".join(out), changed, dropped
