"""The embedded database: a SecantusDB daemon (`secantusd-py`) run as a child process.

SecantusDB is GPL-licensed, so it is never imported: we start its daemon and talk to it over
the wire. Data lives under `<config dir>/.runway/embedded/` and survives restarts. Several
runway-tui processes may share one daemon: each registers itself under `users/`, the first one
starts the daemon, and the last one to leave stops it (SIGTERM, wait, then SIGKILL), or, with a
grace period, leaves it idle for that long: the next command within it connects at once. An idle
daemon is stopped by a small reaper process the last user starts (`python -m
runway_tui.engine.embedded_reaper FOLDER`), which exits with it; `runway-tui embedded stop` stops it now.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runway_tui.engine.errors import EmbeddedNotInstalledError, EmbeddedServerError
from runway_tui.engine.project_files import read_bytes, read_tail, write_atomically

DAEMON = "secantusd-py"
INSTALL_HINT = "the embedded database needs the 'embedded' extra: pip install 'runway-tui[embedded]'"


def find_daemon() -> str:
    """The daemon next to our interpreter (same virtual environment) or on PATH."""
    beside = Path(sys.executable).parent / DAEMON
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(DAEMON)
    if not found:
        raise EmbeddedNotInstalledError(INSTALL_HINT)
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    """A zombie is dead: our own is reaped here, another process's is read from /proc. (Counting a killed
    daemon as alive made the next start wait its whole timeout on it.)"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not _zombie(pid):
        return True
    # A zombie. Ours is reaped here; but a leader shows 'Z' while its other threads still exit, and is
    # not waitable yet: that one is still alive. Another process's zombie is dead for us.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return done == 0


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _is_reaper(pid: int) -> bool:
    """Whether `pid` is a live reaper (not just any process that got its pid since)."""
    if not pid or not _alive(pid):
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"embedded_reaper" in cmdline.read()
    except OSError:
        return True  # no /proc: trust the pid


def _is_daemon(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return DAEMON.encode() in cmdline.read()
    except OSError:
        return False


def _answers(port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on the port (cheap, no driver needed)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


class EmbeddedServer:
    """One shared daemon per data folder, reference-counted across processes."""

    def __init__(self, folder: Path, start_timeout_s: float = 30.0, stop_timeout_s: float = 15.0,
                 grace_s: float = 0.0) -> None:
        self.folder = folder
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.grace_s = grace_s  # how long an idle daemon waits for the next user before it is stopped
        self.port: int | None = None
        self._registered = False
        # One registration per instance (not per process): two apps in one process each hold the daemon.
        self._user_name = f"{os.getpid()}-{id(self):x}"

    @property
    def uri(self) -> str:
        if self.port is None:
            raise EmbeddedServerError("the embedded database is not running")
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    @property
    def _state_file(self) -> Path:
        return self.folder / "daemon.json"

    @property
    def _users_dir(self) -> Path:
        return self.folder / "users"

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """A file lock serialising start/stop decisions between processes."""
        try:
            self._users_dir.mkdir(parents=True, exist_ok=True)
            handle = open(self.folder / "daemon.lock", "a+")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise EmbeddedServerError(f"{self.folder}: cannot use the embedded data folder: {exc.strerror}") from None
        try:
            deadline = time.monotonic() + self.start_timeout_s + self.stop_timeout_s
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise EmbeddedServerError(
                            f"{self.folder}: another runway-tui process is starting or stopping the embedded "
                            "database and did not finish; try again") from None
                    time.sleep(0.05)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def _read_state(self) -> dict[str, Any] | None:
        """`pid` and `port` of the daemon; when idle, `idle_until` (wall clock) and the `reaper`'s pid."""
        try:
            state = json.loads(read_bytes(self._state_file, 1024 * 1024, "state file"))
            return {"pid": int(state["pid"]), "port": int(state["port"]),
                    "idle_until": float(state.get("idle_until") or 0.0), "reaper": int(state.get("reaper") or 0)}
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_state(self, state: dict[str, Any]) -> None:
        write_atomically(self._state_file, json.dumps(state))  # a full disk leaves no temporary file behind

    def _live_users(self) -> list[int]:
        users = []
        for entry in self._users_dir.iterdir():
            try:
                pid = int(entry.name.split("-")[0])
            except ValueError:
                continue
            if entry.name == self._user_name:
                continue
            if _alive(pid):
                users.append(pid)
            else:
                entry.unlink(missing_ok=True)  # a user that died without leaving
        return users

    def start(self) -> str:
        """Connect to the folder's running daemon or start one; returns its URI."""
        with self._exclusive():
            state = self._read_state()
            if state and _alive(state["pid"]):
                if self._wait_until_answers(state["port"], state["pid"]):
                    self.port = state["port"]
                    self._register()
                    return self.uri
                self._terminate(state["pid"])  # alive but deaf: stop it before reusing its files
            self._state_file.unlink(missing_ok=True)
            self.port = self._spawn()
            self._register()
            return self.uri

    def _register(self) -> None:
        (self._users_dir / self._user_name).touch()
        self._registered = True

    def _spawn(self) -> int:
        daemon = find_daemon()
        port = free_port()
        data = self.folder / "data"
        data.mkdir(parents=True, exist_ok=True)
        log_path = self.folder / "secantusd.log"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [daemon, "--host", "127.0.0.1", "--port", str(port), "--storage-path", str(data),
                 "--log-level", "WARNING",
                 # SecantusDB honours `j: true` on a transaction's commit only with this flag (mongod always
                 # does): without it a step reported applied could be lost if the daemon is killed.
                 "--sync-on-commit"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True,  # Ctrl-C in the terminal reaches us, not the daemon: we stop it cleanly
                cwd=self.folder,
            )
        self._state_file.write_text(json.dumps({"pid": process.pid, "port": port}))
        if not self._wait_until_answers(port, process.pid, process):
            self._terminate(process.pid)
            self._state_file.unlink(missing_ok=True)
            tail = _tail(log_path)
            raise EmbeddedServerError(
                f"the embedded database did not start within {self.start_timeout_s:g}s "
                f"(log {log_path}){': ' + tail if tail else ''}")
        return port

    def _wait_until_answers(self, port: int, pid: int, process: subprocess.Popen[bytes] | None = None) -> bool:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if _answers(port):
                return True
            if process is not None and process.poll() is not None:
                return False
            if process is None and not _alive(pid):
                return False
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        """Leave the daemon; when no other live process uses it, stop it, or after the grace period."""
        if not self._registered:
            return
        self._registered = False
        with self._exclusive():
            (self._users_dir / self._user_name).unlink(missing_ok=True)
            if self._live_users():
                return
            state = self._read_state()
            if state and _alive(state["pid"]) and self.grace_s > 0:
                state["idle_until"] = time.time() + self.grace_s
                if not _is_reaper(state["reaper"]):  # a live reaper re-reads `idle_until`
                    state["reaper"] = self._spawn_reaper(state["pid"])
                self._write_state(state)
                return
            if state and _alive(state["pid"]):
                self._terminate(state["pid"])
            self._state_file.unlink(missing_ok=True)

    def _spawn_reaper(self, daemon: int) -> int:
        """The process that stops the idle daemon at the end of the grace period (unless a user came back).
        It is told the daemon's pid: the folder (and the state in it) may be deleted before it has read it."""
        process = subprocess.Popen(
            [sys.executable, "-m", "runway_tui.engine.embedded_reaper", str(self.folder), str(daemon)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # a closed terminal does not end it before it has done its job
            cwd=self.folder)
        return process.pid

    def reap(self, daemon: int = 0) -> None:
        """The reaper's loop: wait for `idle_until`, then stop the daemon if nobody uses it, and leave.
        A user that came back makes it leave at once; the next last user starts another reaper.
        `daemon` is the pid it was left in charge of (else the one the state names when it starts)."""
        if not daemon:
            first = self._read_state()
            daemon = first["pid"] if first else 0
        while True:
            if not self.folder.is_dir():  # the folder was deleted under it: stop the daemon it was left in charge of
                if daemon and _is_daemon(daemon):
                    self._terminate(daemon)
                return
            with self._exclusive():
                state = self._read_state()
                if state is None or state["reaper"] != os.getpid() or not _alive(state["pid"]):
                    return  # stopped meanwhile (`embedded stop`), or another reaper is in charge
                if self._live_users():
                    state["reaper"], state["idle_until"] = 0, 0.0
                    self._write_state(state)
                    return
                left = state["idle_until"] - time.time()
                if left <= 0:
                    self._terminate(state["pid"])
                    self._state_file.unlink(missing_ok=True)
                    return
            time.sleep(min(left, 1.0))  # a user may arrive and leave again: re-read the state each second

    def stop_now(self) -> dict[str, Any] | None:
        """`runway-tui embedded stop`: stop the folder's daemon now. Refused while a process uses it.
        Returns what was stopped (None: it was not running)."""
        with self._exclusive():
            users = self._live_users()
            if users:
                raise EmbeddedServerError(
                    f"the embedded database is in use by runway-tui process(es) {', '.join(map(str, users))}; "
                    "close them first (it stops when the last one leaves and its grace period ends)")
            state = self._read_state()
            if not state or not _alive(state["pid"]):
                self._state_file.unlink(missing_ok=True)
                return None
            self._terminate(state["pid"])
            self._state_file.unlink(missing_ok=True)
            return state

    def _terminate(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done:
                    return
            if not _alive(pid):
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = read_tail(path, 64 * 1024).decode("utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])[:400]
