"""Run the `runway-tui` CLI in a subprocess (`python -m runway_tui ...`)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_cli(
    *args: str,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run `[sys.executable, -m, runway_tui, *args]`, capturing text stdout/stderr; never raises on exit code.

    `env` entries are added to (and override) the current environment. The repo root is put on
    PYTHONPATH so the package is importable even when it is not installed.
    """
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), full_env.get("PYTHONPATH")]))
    full_env.setdefault("NO_COLOR", "1")
    full_env.setdefault("COLUMNS", "120")
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "runway_tui", *map(str, args)],
        cwd=str(cwd) if cwd is not None else None,
        env=full_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
