"""Shared helpers of the benchmark: paths, the SecantusDB daemon, timed subprocesses, medians.

Nothing here imports runway_tui or secantus: the daemon is a child process and every tool talks to it
over the wire, exactly as a user's would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
CACHE = BENCH_DIR / ".cache"
VENV_BIN = Path(sys.executable).parent  # the project's .venv/bin when run by `make bench`
RUNWAY_CLI = VENV_BIN / "runway-tui"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Daemon:
    """One `secantusd-py` on a free loopback port with a throw-away storage directory."""

    port: int
    storage: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"


@contextlib.contextmanager
def secantus_daemon(workdir: Path, start_timeout_s: float = 60.0, *extra_args: str) -> Iterator[Daemon]:
    exe = shutil.which("secantusd-py", path=str(VENV_BIN)) or shutil.which("secantusd-py")
    if not exe:
        raise SystemExit("secantusd-py not found: install the project with the 'embedded' extra (make install)")
    port = free_port()
    storage = Path(tempfile.mkdtemp(prefix="secantus-", dir=workdir))
    log_path = workdir / "secantusd.log"
    log = log_path.open("wb")
    process = subprocess.Popen([exe, "--host", "127.0.0.1", "--port", str(port), "--storage-path", str(storage),
                                "--log-level", "WARNING", *extra_args], stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    daemon = Daemon(port, storage, process, log_path)
    try:
        _wait_ready(daemon, start_timeout_s)
        yield daemon
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
        shutil.rmtree(storage, ignore_errors=True)


def _wait_ready(daemon: Daemon, timeout_s: float) -> None:
    from pymongo import MongoClient

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if daemon.process.poll() is not None:
            raise SystemExit(f"secantusd-py exited with {daemon.process.returncode}; see {daemon.log_path}")
        try:
            with socket.create_connection(("127.0.0.1", daemon.port), timeout=0.5):
                pass
        except OSError:
            time.sleep(0.1)
            continue
        client: MongoClient[dict[str, object]] = MongoClient(daemon.uri, serverSelectionTimeoutMS=2000)
        try:
            client.admin.command("ping")
            return
        except Exception:
            time.sleep(0.2)
        finally:
            client.close()
    raise SystemExit(f"secantusd-py did not answer within {timeout_s:.0f}s; see {daemon.log_path}")


class CommandError(RuntimeError):
    pass


def timed(argv: Sequence[str | os.PathLike[str]], cwd: Path, env: dict[str, str] | None = None,
          log: Path | None = None, check: bool = True) -> float:
    """Run one process to completion; wall-clock seconds. Output goes to `log` (appended)."""
    full_env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0", **(env or {})}
    started = time.perf_counter()
    result = subprocess.run([str(a) for a in argv], cwd=cwd, env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, check=False)
    elapsed = time.perf_counter() - started
    if log is not None:
        with log.open("ab") as handle:
            handle.write(f"$ {' '.join(str(a) for a in argv)}  [rc={result.returncode} {elapsed:.3f}s]\n".encode())
            handle.write(result.stdout[-4000:])
            handle.write(b"\n")
    if check and result.returncode != 0:
        tail = result.stdout.decode(errors="replace")[-1500:]
        raise CommandError(f"{' '.join(str(a) for a in argv)} exited {result.returncode}:\n{tail}")
    return elapsed


@dataclass
class Measurement:
    """Samples of one (tool, phase): seconds, plus a note when extrapolated."""

    samples: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None


def fmt_s(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.2f}"


def fmt_ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}x"
