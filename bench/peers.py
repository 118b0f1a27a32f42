"""The peers, installed on demand into bench/.cache/ (gitignored), each in its own environment.

- Mongorunway 1.0.7a0 from PyPI in its own virtualenv made with Python 3.11 (it pins pymongo 4.3.3 and
  needs Python <= 3.11). It only talks to the daemon over the wire, so it needs nothing else.
- migrate-mongo 14.x from npm in its own folder (needs Node >= 20); npm adds its `mongodb` peer.

A peer that cannot be installed is reported and skipped; runway-tui is still measured.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from common import CACHE

MONGORUNWAY_SPEC = "mongorunway==1.0.7a0"
MIGRATE_MONGO_SPEC = "migrate-mongo@14"


@dataclass
class Peer:
    name: str
    executable: Path | None
    version: str = ""
    problem: str = ""

    @property
    def available(self) -> bool:
        return self.executable is not None


def _run(argv: list[str], cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def _python311() -> str | None:
    for candidate in ("python3.11",):
        path = shutil.which(candidate)
        if path and _run([path, "-c", "import sys; assert sys.version_info[:2] == (3, 11)"]).returncode == 0:
            return path
    return None


def mongorunway(log: Path) -> Peer:
    venv = CACHE / "mongorunway-venv"
    exe = venv / "bin" / "mongorunway"
    python = venv / "bin" / "python"
    if not exe.exists():
        interpreter = _python311()
        if interpreter is None:
            return Peer("mongorunway", None, problem="python3.11 not found (Mongorunway needs Python <= 3.11)")
        shutil.rmtree(venv, ignore_errors=True)
        steps = [[interpreter, "-m", "venv", str(venv)],
                 [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", MONGORUNWAY_SPEC]]
        for argv in steps:
            result = _run(argv)
            with log.open("a") as handle:
                handle.write(f"$ {' '.join(argv)}\n{result.stdout}{result.stderr}\n")
            if result.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                return Peer("mongorunway", None, problem=f"install failed ({' '.join(argv[-2:])}); see {log}")
    version = _run([str(python), "-c", "import importlib.metadata as m; print(m.version('mongorunway'), "
                                       "m.version('pymongo'))"]).stdout.split()
    return Peer("mongorunway", exe, version=f"mongorunway {version[0]} (pymongo {version[1]})" if version else "?")


def migrate_mongo(log: Path) -> Peer:
    folder = CACHE / "migrate-mongo"
    exe = folder / "node_modules" / ".bin" / "migrate-mongo"
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return Peer("migrate-mongo", None, problem="node/npm not found (migrate-mongo 14 needs Node >= 20)")
    major = _run([node, "-p", "process.versions.node.split('.')[0]"]).stdout.strip()
    if not major.isdigit() or int(major) < 20:
        return Peer("migrate-mongo", None, problem=f"Node {major} is too old (migrate-mongo 14 needs Node >= 20)")
    if not exe.exists():
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "package.json").exists():
            (folder / "package.json").write_text('{"name": "runway-bench-peers", "private": true}\n')
        argv = [npm, "install", "--no-audit", "--no-fund", MIGRATE_MONGO_SPEC]
        result = _run(argv, cwd=folder)
        with log.open("a") as handle:
            handle.write(f"$ {' '.join(argv)}\n{result.stdout}{result.stderr}\n")
        if result.returncode != 0 or not exe.exists():
            return Peer("migrate-mongo", None, problem=f"npm install failed; see {log}")
    version = _run([str(exe), "--version"]).stdout.strip()
    driver = _run([node, "-p", "require('mongodb/package.json').version"], cwd=folder).stdout.strip()
    return Peer("migrate-mongo", exe, version=f"migrate-mongo {version} (mongodb driver {driver}, Node {major})")
