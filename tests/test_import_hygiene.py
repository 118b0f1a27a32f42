"""The layers at run time (Harlequin's hygiene test): what a headless user imports never loads Textual, and
whatever part of runway_tui is imported first, the compat layer is already plugged into the engine.

The static half is import-linter's contracts (pyproject.toml, `make lint`); this half catches what a static
graph cannot see (an import by name, a plugin that registers too late). Each check runs in a fresh interpreter:
this process has long since imported everything."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

EVERY_ENGINE_MODULE = """
import importlib, json, pkgutil, sys
import runway_tui.engine as engine
names = [m.name for m in pkgutil.walk_packages(engine.__path__, "runway_tui.engine.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": len(names), "textual": sorted(m for m in sys.modules if m.split(".")[0] == "textual")}))
"""


def run_python(code: str) -> dict:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_importing_every_engine_module_never_loads_textual() -> None:
    found = run_python(EVERY_ENGINE_MODULE)
    assert found["modules"] > 40  # the walk really saw the package (subpackages included)
    assert found["textual"] == []


@pytest.mark.parametrize("module", ["runway_tui", "runway_tui.cli.main", "runway_tui.cli.commands",
                                    "runway_tui.application.use_cases"])
def test_headless_entry_points_never_load_textual(module: str) -> None:
    found = run_python(f"import json, sys, {module}\n"
                       "print(json.dumps({'textual': [m for m in sys.modules if m.split('.')[0] == 'textual']}))")
    assert found["textual"] == []


@pytest.mark.parametrize("first", ["runway_tui.engine.config", "runway_tui.engine.scripts",
                                   "runway_tui.engine.plugins", "runway_tui.engine.app"])
def test_compat_is_registered_before_any_engine_module_runs(first: str) -> None:
    """The package root fills the registries, whichever module is imported first: the engine asks them and a
    Mongorunway project works from any entry point (the CLI, the API, a test importing one module)."""
    found = run_python(f"import json, {first}\n"
                       "from runway_tui.engine import plugins\n"
                       "print(json.dumps({'readers': [r.name for r in plugins.config_readers()],\n"
                       "                  'formats': sorted(f.name for f in plugins.script_formats()),\n"
                       "                  'store': plugins.store_shape('mongorunway') is not None,\n"
                       "                  'hooks': len(plugins.startup_hooks())}))")
    assert found == {"readers": ["mongorunway"], "formats": ["mongorunway", "runway"], "store": True, "hooks": 1}
