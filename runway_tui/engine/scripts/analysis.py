"""One migration file -> `ScriptFile`: read, checksummed and analysed with `ast`, never executed here.

A migration file has a module docstring (the description), `version = N` and an optional
`transactional = False`; what else it needs depends on its format (`formats.py` for runway's own,
`engine.plugins` for the others, asked first). Any defect becomes `ScriptFile.problem`, never an exception.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from runway_tui.engine import plugins
from runway_tui.engine.limits import BSON_MAX_INT
from runway_tui.engine.project_files import MAX_MIGRATION_BYTES, NotReadable, read_bytes
from runway_tui.engine.scripts.formats import RUNWAY_FORMAT
from runway_tui.engine.scripts.naming import Naming

MAX_VERSION = BSON_MAX_INT  # versions are stored as BSON 64-bit integers
MAX_FILE_BYTES = MAX_MIGRATION_BYTES


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


class _Broken(Exception):
    """A defect found while reading the module's top level: the file is shown broken with this problem."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass
class _TopLevel:
    """The module-level statements the analysis needs: every `version` value, the step functions, and
    `transactional` (None: not given)."""

    versions: list[ast.expr] = field(default_factory=list)
    functions: dict[str, ast.stmt] = field(default_factory=dict)
    transactional: bool | None = None


def _analyse(path: Path, name: str, name_version: int | None, text: str, checksum: str) -> ScriptFile:
    """The `ast` part of `inspect_file`: the format, the description, the version, then the format's checks."""

    def broken(problem: str, **extra: object) -> ScriptFile:
        fields = {"version": name_version, "description": "", "checksum": None, **extra}
        return ScriptFile(path=path, name=name, problem=problem, **fields)  # type: ignore[arg-type]

    try:
        tree = ast.parse(text.removeprefix("\ufeff"), filename=str(path))  # a UTF-8 BOM is valid Python
    except SyntaxError as exc:
        return broken(f"syntax error on line {exc.lineno}: {exc.msg}", checksum=checksum)
    except ValueError as exc:  # e.g. null bytes
        return broken(f"cannot be parsed: {exc}", checksum=checksum)
    file_format = recognised_format(tree)
    description = file_format.description(tree)
    try:
        top = _top_level(tree)
    except _Broken as exc:
        return broken(exc.problem, checksum=checksum, description=description)
    try:
        version, version_line = _version(top.versions, name_version)
        check = file_format.check(tree, top.functions, version_line)
        if check.problem is not None:
            raise _Broken(check.problem)
    except _Broken as exc:
        return broken(exc.problem, checksum=checksum, description=description, format=file_format.name)
    transactional = top.transactional if top.transactional is not None else check.transactional
    return ScriptFile(path=path, name=name, version=version, description=description,
                      checksum=checksum, transactional=True if transactional is None else transactional,
                      format=file_format.name)


def recognised_format(tree: ast.Module) -> plugins.ScriptFormat:
    """The registered format that claims the file (formats other than runway's are asked first)."""
    for candidate in plugins.script_formats():
        if candidate.name != RUNWAY_FORMAT.name and candidate.recognises(tree):
            return candidate
    return RUNWAY_FORMAT


def _top_level(tree: ast.Module) -> _TopLevel:
    """Every module-level `version` assignment, `upgrade`/`downgrade`, and a literal `transactional`."""
    top = _TopLevel()
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and target.id == "version":
                top.versions.append(value)  # type: ignore[arg-type]
            if isinstance(target, ast.Name) and target.id == "transactional":
                if isinstance(value, ast.Constant) and isinstance(value.value, bool):
                    top.transactional = value.value
                else:
                    raise _Broken(f"line {node.lineno}: transactional must be True or False")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in ("upgrade", "downgrade"):
            top.functions[node.name] = node
    return top


def _version(nodes: list[ast.expr], name_version: int | None) -> tuple[int, int]:
    """The one `version = N` literal and its line, checked against BSON's range and the file name."""
    if not nodes:
        raise _Broken("missing module-level 'version = N'")
    if len(nodes) > 1:
        raise _Broken(f"'version' is assigned {len(nodes)} times; assign it once")
    value = nodes[0]
    if not (isinstance(value, ast.Constant) and type(value.value) is int):
        raise _Broken(f"line {value.lineno}: version must be a whole number literal, got {ast.unparse(value)!r}")
    version = value.value
    if version < 1:
        raise _Broken(f"line {value.lineno}: version must be 1 or more, got {version}")
    if version > MAX_VERSION:
        raise _Broken(f"line {value.lineno}: version is beyond 64-bit integers (at most {MAX_VERSION})")
    if name_version is not None and version != name_version:
        raise _Broken(f"line {value.lineno}: version = {version} disagrees with the file name ({name_version})")
    return version, value.lineno
