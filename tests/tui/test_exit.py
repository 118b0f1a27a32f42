"""Every way out of the TUI stops what it started: SIGTERM and SIGHUP (terminal closed) of a real
`runway-tui` process on a pseudo-terminal stop the embedded daemon it started and remove its registration."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support.cli import REPO_ROOT
from tests.support.project import Project
from tests.support.waiting import wait_until_async
from tests.tui.conftest import write_standard
from tests.tui.helpers import gated


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def drain(fd: int, sink: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        sink.append(chunk)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_signal_stops_the_embedded_daemon_we_started(tmp_path, signum):
    project = Project.create(tmp_path / "p", uri="embedded", db_name="exit_test")
    write_standard(project, 1)
    folder = project.root / ".runway" / "embedded"
    primary, secondary = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), TERM="xterm-256color", COLUMNS="100", LINES="30")
    proc = subprocess.Popen([sys.executable, "-m", "runway_tui", "--config", str(project.config_path)],
                            stdin=secondary, stdout=secondary, stderr=secondary, env=env, start_new_session=True)
    os.close(secondary)
    output: list[bytes] = []
    reader = threading.Thread(target=drain, args=(primary, output), daemon=True)
    reader.start()
    try:
        users = folder / "users"
        wait_until(lambda: users.exists() and any(p.name.startswith(f"{proc.pid}-") for p in users.iterdir()),
                   60, "the TUI to register with the embedded daemon")
        daemon = json.loads((folder / "daemon.json").read_text())["pid"]
        wait_until(lambda: b"pending" in b"".join(output), 60, "the first paint with the state")
        proc.send_signal(signum)
        proc.wait(60)
        wait_until(lambda: not Path(f"/proc/{daemon}").exists(), 60, "the daemon to stop")
        assert not any(p.name.startswith(f"{proc.pid}-") for p in users.iterdir())
        assert not (folder / "daemon.json").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        os.close(primary)
        state = folder / "daemon.json"
        if state.exists():  # never leave a daemon behind, even when the test fails
            pid = json.loads(state.read_text())["pid"]
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


async def test_ctrl_q_during_a_step_says_what_it_waits_for(project, tui_app, tmp_path):
    from tests.tui.conftest import settle
    from tests.tui.test_app import SIZE

    gate = tmp_path / "release"
    project.write_migration(1, "gated", gated(1, gate))
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        await pilot.press("y")
        await wait_until_async(lambda: not app.operation_idle.is_set(), "the step to start", pause=pilot.pause)
        await pilot.press("ctrl+q")
    said: list[str] = []
    closer = threading.Thread(target=app.shutdown_engine, args=(said.append,))
    closer.start()
    wait_until(lambda: bool(said), 60, "the message")
    assert "waiting for the running operation to end (running up to 001)" in said[0]
    assert closer.is_alive()  # it waits for the step, it does not cut it off
    gate.touch()
    closer.join(60)
    assert not closer.is_alive()
