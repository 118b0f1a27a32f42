"""The engine's registries (`engine/plugins.py`) are a real seam: a config format, a file format and a startup
hook that the engine has never heard of plug in through them alone, as compat's Mongorunway support does."""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType

import pytest

from runway_tui.engine import plugins
from runway_tui.engine.config import AppConfig, Config, TuiConfig, load_config
from runway_tui.engine.plugins import FormatCheck
from runway_tui.engine.scripts import ScriptDirectory, inspect_file


@pytest.fixture(autouse=True)
def registries() -> Iterator[None]:
    """Whatever a test registers is gone after it (the registries are process-wide)."""
    saved = (dict(plugins._config_readers), dict(plugins._script_formats), dict(plugins._store_shapes),
             list(plugins._startup_hooks))
    yield
    plugins._config_readers.clear()
    plugins._config_readers.update(saved[0])
    plugins._script_formats.clear()
    plugins._script_formats.update(saved[1])
    plugins._store_shapes.clear()
    plugins._store_shapes.update(saved[2])
    plugins._startup_hooks[:] = saved[3]


class ToyReader:
    """A one-line format: `toy: DATABASE`."""

    name = "toy"

    def find(self, start: Path) -> Path | None:
        found = start / "toy.cfg"
        return found if found.is_file() else None

    def claims(self, path: Path) -> bool:
        return path.suffix == ".cfg"

    def read(self, path: Path) -> Config:
        database = path.read_text().split(":", 1)[1].strip()
        app = AppConfig(name="only", uri="embedded", database=database, scripts_dir=path.parent,
                        config_path=path)
        return Config(path, path.parent, None, TuiConfig(), {"only": app})


class ToyFormat:
    """Files that define `def forward():` / `def backward():` instead of upgrade/downgrade."""

    name = "toy"
    template = '"""{description}"""\n\nversion = {version}\ntoy = True\n\n\ndef forward():\n    pass\n'

    def recognises(self, tree: ast.Module) -> bool:
        return any(isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "toy" for n in tree.body)

    def description(self, tree: ast.Module) -> str:
        return "toy: " + (ast.get_docstring(tree) or "")

    def check(self, tree: ast.Module, functions: dict[str, ast.stmt], version_line: int) -> FormatCheck:
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        if "forward" not in names:
            return FormatCheck("a toy file needs def forward()")
        return FormatCheck(transactional=False)

    def environment(self, project_dirs: Sequence[Path]) -> contextlib.AbstractContextManager[object]:
        return contextlib.nullcontext()

    def entry_point(self, module: ModuleType, name: str, context: object, session_hex: str) -> Callable[..., object]:
        return module.forward


def test_a_registered_config_reader_is_found_and_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "toy.cfg").write_text("toy: shop\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUNWAY_CONFIG", raising=False)
    plugins.register_config_reader(ToyReader())
    config = load_config()  # no runway.yaml here: discovery asks the readers
    assert config.app().database == "shop"
    assert [reader.name for reader in plugins.config_readers()][-1] == "toy"


def test_a_registered_file_format_is_recognised_checked_and_templated(tmp_path: Path) -> None:
    plugins.register_script_format(ToyFormat())
    directory = ScriptDirectory(tmp_path, compat="toy")
    path = directory.create_template("first step")
    script = inspect_file(path)
    assert (script.format, script.version, script.description, script.transactional, script.problem) == \
        ("toy", 1, "toy: first step", False, None)
    path.write_text(path.read_text().replace("def forward", "def other"))
    assert inspect_file(path).problem == "a toy file needs def forward()"


def test_runway_files_stay_runway_files_whatever_is_registered(tmp_path: Path) -> None:
    plugins.register_script_format(ToyFormat())
    path = ScriptDirectory(tmp_path).create_template("plain")
    assert inspect_file(path).format == "runway"


def test_an_unknown_format_is_named_with_the_known_ones() -> None:
    with pytest.raises(LookupError) as caught:
        plugins.script_format("liquibase")
    assert str(caught.value) == "no migration file format 'liquibase' is registered (known: mongorunway, runway)"


def test_store_shapes_and_startup_hooks_are_kept_once() -> None:
    def hook(app: object) -> None: ...

    plugins.register_startup_hook(hook)
    plugins.register_startup_hook(hook)
    assert plugins.startup_hooks().count(hook) == 1
    assert plugins.store_shape("runway") is None  # the engine's own shape is not a plugin
    assert plugins.store_shape("mongorunway") is not None
