"""The real Mongorunway 1.0.7a0, for interop tests: installed on demand into a cached virtualenv.

Mongorunway needs Python 3.11 (it does not install on 3.12) and pins pymongo 4.3.3, so it lives in its own
virtualenv, never in ours; it talks to the test server over the wire only. The virtualenv is cached under
`$RUNWAY_PEER_CACHE` (default `~/.cache/runway-tui/peers`) and built once, under a file lock, so parallel
test sessions do not race. If it cannot be built, `MongorunwayUnavailable` says why: interop tests fail
loudly with that reason, they are never skipped.

`MongorunwayProject` is a project folder as Mongorunway's own users have it: `mongorunway.yaml` at the root,
`scripts_dir` resolved from the current directory, and `PYTHONPATH=.` so the project's own package
(`migrations`) is importable, as Mongorunway's README tells its users to do.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

MONGORUNWAY_VERSION = "1.0.7a0"
PYMONGO_VERSION = "4.3.3"
CACHE = Path(os.environ.get("RUNWAY_PEER_CACHE", Path.home() / ".cache" / "runway-tui" / "peers"))
VENV = CACHE / f"mongorunway-{MONGORUNWAY_VERSION}-py311"
_INSTALLED = VENV / ".installed"


class MongorunwayUnavailable(RuntimeError):
    """The peer could not be installed; the message says why and what to do."""


def _python311() -> str:
    """A Python 3.11 interpreter: the current one if it is 3.11, else `python3.11` on PATH."""
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    found = shutil.which("python3.11")
    if found is None:
        raise MongorunwayUnavailable("Mongorunway 1.0.7a0 needs Python 3.11 and no python3.11 is on PATH; "
                                     "install Python 3.11 to run the interop tests")
    return found


def mongorunway_executable() -> Path:
    """The `mongorunway` console script of the cached virtualenv, building it first if needed."""
    exe = VENV / "bin" / "mongorunway"
    if _INSTALLED.exists() and exe.exists():
        return exe
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "mongorunway.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another session may be building it right now
        if _INSTALLED.exists() and exe.exists():
            return exe
        shutil.rmtree(VENV, ignore_errors=True)
        python = VENV / "bin" / "python"
        steps = [
            [_python311(), "-m", "venv", str(VENV)],
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             f"mongorunway=={MONGORUNWAY_VERSION}"],
        ]
        for argv in steps:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
            if result.returncode != 0:
                shutil.rmtree(VENV, ignore_errors=True)
                tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
                raise MongorunwayUnavailable(f"installing Mongorunway failed at `{' '.join(argv[2:])}`: "
                                             + " | ".join(tail))
        probe = "import importlib.metadata as m; print(m.version('mongorunway'), m.version('pymongo'))"
        versions = subprocess.run([str(python), "-c", probe], capture_output=True, text=True,
                                  check=False).stdout.split()
        if versions != [MONGORUNWAY_VERSION, PYMONGO_VERSION]:
            raise MongorunwayUnavailable(f"expected mongorunway {MONGORUNWAY_VERSION} with pymongo "
                                         f"{PYMONGO_VERSION}, the virtualenv has {versions}")
        _INSTALLED.touch()
    return exe


def host_and_port(uri: str) -> tuple[str, int]:
    """Mongorunway's `app_client` needs `host: localhost` and an int port (it mangles IPs and URIs)."""
    parts = urlsplit(uri)
    netloc = parts.netloc.rsplit("@", 1)[-1].split(",")[0]
    host, _, port = netloc.partition(":")
    if host in ("127.0.0.1", "::1", "[::1]"):
        host = "localhost"
    return host, int(port or 27017)


@dataclass
class MongorunwayProject:
    """A Mongorunway project folder (`mongorunway.yaml` + `migrations/`) aimed at the test server."""

    root: Path
    uri: str
    database: str
    app: str = "test"
    scripts_dir: str = "migrations"
    migrations_collection: str = "migrations"
    auditlog_collection: str = "auditlog"
    filename_strategy: str | None = None  # dotted class path, e.g. "mongorunway.UnixFilenameStrategy"
    extra_app_lines: list[str] = field(default_factory=list)  # more `applications.<app>` keys, as YAML lines

    @property
    def config_path(self) -> Path:
        return self.root / "mongorunway.yaml"

    @property
    def migrations(self) -> Path:
        return self.root / self.scripts_dir

    def write_config(self) -> Path:
        """Write `mongorunway.yaml` exactly as Mongorunway's README shows it."""
        host, port = host_and_port(self.uri)
        strategy = f"    filename_strategy: {self.filename_strategy}\n" if self.filename_strategy else ""
        extra = "".join(f"      {line}\n" for line in self.extra_app_lines)
        self.config_path.write_text(
            "mongorunway:\n"
            "  filesystem:\n"
            f"    scripts_dir: {self.scripts_dir}\n"
            f"{strategy}"
            "  applications:\n"
            f"    {self.app}:\n"
            "      app_client:\n"
            f"        host: {host}\n"
            f"        port: {port}\n"
            f"      app_database: {self.database}\n"
            "      app_repository:\n"
            f"        collection: {self.migrations_collection}\n"
            "      app_auditlog_journal:\n"
            f"        collection: {self.auditlog_collection}\n"
            "      use_auditlog: true\n"
            f"{extra}",
            encoding="utf-8",
        )
        self.migrations.mkdir(parents=True, exist_ok=True)
        init = self.migrations / "__init__.py"
        if not init.exists():
            init.write_text("", encoding="utf-8")
        return self.config_path

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run Mongorunway's own CLI in the project folder: `project.run("upgrade", "test", "all")`."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNWAY_", "PYTHON"))}
        env["PYTHONPATH"] = str(self.root)
        return subprocess.run([str(mongorunway_executable()), *args], cwd=self.root, env=env,
                              capture_output=True, text=True, timeout=timeout, check=False)
