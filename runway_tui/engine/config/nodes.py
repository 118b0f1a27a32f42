"""A public toolkit for reading YAML configuration files from the node tree, with file:line errors.

Values are read from the YAML node tree, never through YAML's implicit typing, so a value is only ever
converted to the type its key declares: `127.0.0.1`, `0123` or `yes` given for a string key stay exactly the
string that was written. Every error names the file, the line and the dotted key, and a whole file is checked
in one read: several errors are reported together, in file order (`ConfigErrors`).

`NodeReader` is the base every configuration reader builds on (runway.yaml's in `runway_yaml.py`, Mongorunway's
in compat): subclass it, write `read()`, and call `parse()`. The names here are the toolkit's public API.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from runway_tui.engine.config.interpolate import MissingVariable, interpolate
from runway_tui.engine.config.model import EMBEDDED
from runway_tui.engine.config.suggest import did_you_mean
from runway_tui.engine.errors import ConfigError, ConfigErrors
from runway_tui.engine.limits import BSON_MAX_INT
from runway_tui.engine.uri import mask_uri, scrub, uri_secrets

if TYPE_CHECKING:
    from runway_tui.engine.config.model import Config

# The kinds a key may declare (the words appear in error messages: "expected a whole number").
STR, BOOL, INT, NUM, MAP, STRMAP = "string", "boolean", "integer", "number", "mapping", "string map"
STRLIST = "list of strings"
MAX_CONFIG_BYTES = 1024 * 1024  # a configuration is a few kilobytes; anything this large is not one

NULLS = {"", "~", "null", "Null", "NULL"}
_INVALID_DB_CHARS = set('/\\. "$*<>:|?\x00')
_RESERVED_DATABASES = {"admin", "local", "config"}  # the server's own: migrating them is never meant
_TLS_FILE_OPTIONS = ("tlsCAFile", "tlsCertificateKeyFile", "tlsCRLFile")


class InterpolationError(Exception):
    """A `${VAR}` of one application is not set: kept for that application only (raised by `scalar` with
    `interpolate_app=True`), so a missing `${PROD_PASSWORD}` stops only someone who selects `prod`."""

    def __init__(self, error: ConfigError) -> None:
        super().__init__(str(error))
        self.error = error


def compose_yaml(path: Path) -> yaml.Node | None:
    """The file's YAML node tree (every value keeps its line), or one line naming what is wrong with it."""
    from runway_tui.engine.project_files import NotReadable, read_text

    try:
        text = read_text(path, MAX_CONFIG_BYTES, "configuration")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save the configuration as UTF-8") from None
    except NotReadable as exc:
        raise ConfigError(f"{path}: cannot read the configuration: it {exc.strerror}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror}") from None
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise ConfigError(f"{path}: not valid YAML for a configuration: nested too deeply") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = exc.problem or exc.context or "syntax error"
        raise ConfigError(f"{path}{line}: not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None



class NodeReader:
    """Walks a composed YAML node tree so every value keeps its line number; collects every error.

    A subclass writes `read()` (returning the `Config`) from the helpers below; `parse()` runs it and scrubs
    every secret the file holds (each URI's password) from the errors' text."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name
        self.problems: list[ConfigError] = []
        self.secrets: list[str] = []  # every URI's password and secret options: scrubbed from every error

    def read(self) -> Config:
        raise NotImplementedError

    def error(self, node: yaml.Node | None, key: str, problem: str) -> ConfigError:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        where = f" {key}:" if key else ""
        error = ConfigError(f"{self.path}{line}:{where} {problem}")
        error.line = node.start_mark.line + 1 if node is not None else 0
        return error

    @contextmanager
    def collecting(self) -> Iterator[None]:
        """Note an error and go on with the next key, so one read reports every error of the file."""
        try:
            yield
        except ConfigError as exc:
            self.problems.append(exc)

    def raise_problems(self) -> None:
        """All the errors noted, in file order: one line each (a lone error stays a plain `ConfigError`)."""
        if not self.problems:
            return
        ordered = sorted(self.problems, key=lambda error: error.line)  # stable: same line keeps its order
        raise ordered[0] if len(ordered) == 1 else ConfigErrors(ordered)

    # -- entry point
    def parse(self) -> Config:
        """The configuration, or its errors with every secret the file holds scrubbed from their text: an
        error may quote a value that is also a URI's password, or another application's URI."""
        try:
            config = self.read()
        except ConfigError as exc:
            raise self.scrubbed(exc) from None
        if not config.app_errors:
            return config
        scrubbed = {name: self.scrubbed(error) for name, error in config.app_errors.items()}
        return dataclasses.replace(config, app_errors=scrubbed)

    def scrubbed(self, error: ConfigError) -> ConfigError:
        if isinstance(error, ConfigErrors):
            return ConfigErrors([self.scrubbed(one) for one in error.errors])
        clean = ConfigError(scrub(str(error), self.secrets))
        clean.line = error.line
        return clean

    # -- node helpers
    def pairs(self, node: yaml.MappingNode, prefix: str) -> list[tuple[yaml.ScalarNode, yaml.Node]]:
        """The key/value pairs; a non-plain or duplicate key is noted as an error and left out."""
        seen: dict[str, yaml.Node] = {}
        result = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(self.error(key_node, prefix, "keys must be plain names"))
                continue
            key = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            if key_node.value in seen:
                first = seen[key_node.value].start_mark.line + 1
                self.problems.append(self.error(key_node, key, f"duplicate key (first given on line {first})"))
                continue
            seen[key_node.value] = key_node
            result.append((key_node, value_node))
        return result

    def mapping(self, node: yaml.Node, prefix: str, schema: dict[str, str],
                required: tuple[str, ...]) -> dict[str, yaml.Node]:
        """The known keys of a mapping; unknown and missing required keys are noted as errors."""
        if not isinstance(node, yaml.MappingNode):
            where = prefix or "the top level"
            raise self.error(node, prefix, f"expected a mapping (key: value lines) at {where}, got {describe(node)}")
        values: dict[str, yaml.Node] = {}
        suggested: set[str] = set()  # a misspelt required key is one error ("did you mean"), not two
        for key_node, value_node in self.pairs(node, prefix):
            key = key_node.value
            dotted = f"{prefix}.{key}" if prefix else key
            if key not in schema:
                suggested.update(difflib.get_close_matches(key, list(schema), n=1, cutoff=0.6))
                self.problems.append(self.error(key_node, dotted, f"unknown key{did_you_mean(key, list(schema))}"))
                continue
            values[key] = value_node
        for key in required:
            if key in suggested and key not in values:
                continue
            if key not in values or is_null(values[key]):
                dotted = f"{prefix}.{key}" if prefix else key
                self.problems.append(self.error(values.get(key, node), dotted, "required key is missing"))
                values.pop(key, None)
        return values

    def optional(self, values: dict[str, yaml.Node], key: str, kind: str, prefix: str = "",
                 interpolate_app: bool = False) -> Any:
        node = values.get(key)
        if node is None or is_null(node):
            return None
        dotted = f"{prefix}.{key}" if prefix else key
        return self.scalar(node, dotted, kind, interpolate_app=interpolate_app)

    def scalar(self, node: yaml.Node, key: str, kind: str, interpolate_app: bool = False) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, key, f"expected a {kind}, got {describe(node)}")
        try:
            raw = interpolate(node.value)
        except MissingVariable as exc:
            error = self.error(node, key, f"environment variable {exc.name} is not set "
                                          f"(export it, or give a default: ${{{exc.name}:-value}})")
            if interpolate_app:
                raise InterpolationError(error) from None
            raise error from None
        except ValueError as exc:
            raise self.error(node, key, str(exc)) from None
        if kind == STR:
            return raw
        text = raw.strip()
        if kind == BOOL:
            if text.lower() in ("true", "false"):
                return text.lower() == "true"
            raise self.error(node, key, f"expected true or false, got {raw!r}")
        if kind == INT:
            if re.fullmatch(r"[+-]?[0-9]+", text):
                value = int(text)
                if abs(value) > BSON_MAX_INT:
                    raise self.error(node, key, f"{raw!r} is beyond 64-bit integers")
                return value
            raise self.error(node, key, f"expected a whole number, got {raw!r}")
        if kind == NUM:
            try:
                if not re.fullmatch(r"[0-9eE+.\-_]+|[+-]?(inf|infinity|nan)", text, re.IGNORECASE):
                    raise ValueError(text)  # float() would take non-ASCII digits ('٥') too
                value = float(text)
            except ValueError:
                raise self.error(node, key, f"expected a number, got {raw!r}") from None
            if value != value or value in (float("inf"), float("-inf")):
                raise self.error(node, key, f"expected a finite number, got {raw!r}")
            return value
        raise AssertionError(kind)

    def string_map(self, node: yaml.Node, key: str) -> dict[str, str]:
        if is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, key, f"expected a mapping, got {describe(node)}")
        result: dict[str, str] = {}
        for k, v in self.pairs(node, key):
            with self.collecting():
                result[k.value] = self.scalar(v, f"{key}.{k.value}", STR)
        return result

    def string_list(self, node: yaml.Node, key: str) -> tuple[str, ...]:
        if is_null(node):
            return ()
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, key,
                             f"expected a list of strings, e.g. [password, \"*.ssn\"], got {describe(node)}")
        result: list[str] = []
        for index, item in enumerate(node.value):
            with self.collecting():
                result.append(self.scalar(item, f"{key}[{index}]", STR))
        return tuple(result)

    # -- value checks
    def check_uri(self, node: yaml.Node, key: str, uri: str) -> None:
        if uri == EMBEDDED:
            return
        self.secrets.extend(uri_secrets(uri))
        masked = mask_uri(uri)
        if not re.match(r"(?i)^mongodb(\+srv)?://", uri):
            raise self.error(node, key, f"{masked!r} is neither 'embedded' nor a mongodb:// or mongodb+srv:// URI")
        if uri.lower().startswith("mongodb+srv://"):
            if not re.match(r"(?i)^mongodb\+srv://([^@/]+@)?[A-Za-z0-9.-]+\.[A-Za-z]{2,}(/.*)?$", uri):
                raise self.error(node, key, f"{masked!r} is not a valid mongodb+srv:// URI (one host name, no port)")
            return
        self.check_tls_files(node, key, uri)
        from pymongo import uri_parser
        from pymongo.errors import ConfigurationError, InvalidURI

        try:
            uri_parser.parse_uri(uri)
        except (InvalidURI, ConfigurationError, ValueError) as exc:
            from runway_tui.engine.uri import scrub

            reason = scrub(str(exc), uri_secrets(uri))
            raise self.error(node, key, f"{masked!r} is not a valid MongoDB URI: {reason}") from None

    def check_tls_files(self, node: yaml.Node, key: str, uri: str) -> None:
        """A missing certificate file is named here, not found later as an "internal error" of the driver."""
        from urllib.parse import unquote

        for name in _TLS_FILE_OPTIONS:
            for match in re.finditer(rf"(?i)[?&;]{name}=([^&;#]*)", uri):
                value = unquote(match.group(1))
                problem = "is empty" if not value else file_problem(Path(value).expanduser())
                if problem:
                    raise self.error(node, f"{key} ({name})", f"{problem if not value else f'{value!r}: {problem}'}; "
                                                              "give the path of an existing file")
    def check_database(self, node: yaml.Node, key: str, name: str) -> None:
        bad = sorted(_INVALID_DB_CHARS & set(name))
        size = len(name.encode("utf-8", "surrogatepass"))
        if not name or bad or size > 63:
            reason = (f"contains {' '.join(repr(c) for c in bad)}" if bad else
                      f"must be 1 to 63 bytes in UTF-8, it has {size}")
            raise self.error(node, key, f"{name!r} is not a valid database name ({reason})")
        if name.lower() in _RESERVED_DATABASES:
            raise self.error(node, key, f"{name!r} is one of the server's own databases (admin, local, config); "
                                        "name your application's database")

    def check_collection(self, node: yaml.Node, key: str, name: str) -> None:
        reason = ("is empty" if not name else "contains '$'" if "$" in name else "contains a NUL character"
                  if "\x00" in name else "starts with 'system.'" if name.startswith("system.") else
                  "starts or ends with '.', or has '..'" if name.startswith(".") or name.endswith(".") or ".." in name
                  else "is longer than 200 bytes in UTF-8" if len(name.encode("utf-8", "surrogatepass")) > 200
                  else None)
        if reason:
            raise self.error(node, key, f"{name!r} is not a valid collection name ({reason})")


def file_problem(path: Path) -> str | None:
    """Why a file named by the configuration cannot be read (None: a regular file): the driver would hang on
    a FIFO."""
    from runway_tui.engine.project_files import check_regular

    try:
        check_regular(path)
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return str(exc.strerror)
    return None


def is_null(node: yaml.Node) -> bool:
    """An unquoted empty value, `~` or `null`: the key is as good as absent."""
    return isinstance(node, yaml.ScalarNode) and node.style is None and node.value in NULLS


def describe(node: yaml.Node) -> str:
    """What a node is, for "expected a mapping, got ..." messages."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"{node.value!r}"
