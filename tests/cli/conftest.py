"""`main_cli`: the CLI's `main()` called in-process (fast); use the `cli` fixture where the process matters."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator

import pytest

from runway_tui.cli.main import main


@pytest.fixture
def main_cli(project, capsys) -> Iterator:
    """`main_cli("status", "--json")` runs `main(["--config", <project>, ...])` and returns a CompletedProcess."""
    previous = signal.getsignal(signal.SIGTERM)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        capsys.readouterr()
        try:
            code = main(["--config", str(project.config_path), *args])
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["runway-tui", *args], code, out, err)

    yield run
    signal.signal(signal.SIGTERM, previous)
