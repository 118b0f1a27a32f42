"""The embedded daemon's grace period: after its last user leaves it stays up for `embedded_grace_s`, so the
next command connects to it at once; it stops by itself when the period ends, and `embedded stop` stops it
now. Every test here ends with no daemon and no reaper left."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from runway_tui.engine.app import MigrationApp
from runway_tui.engine.config import load_config
from tests.engine.helpers import data_migration
from tests.support.cli import run_cli
from tests.support.waiting import wait_until

CONFIG = """\
scripts_dir: migrations
applications:
  local:
    uri: embedded
    database: grace_test
    timeouts:
      embedded_start_s: 30
      embedded_grace_s: {grace}
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):  # a zombie is gone for us
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


def daemon_state(root: Path) -> dict | None:
    path = root / ".runway" / "embedded" / "daemon.json"
    return json.loads(path.read_text()) if path.exists() else None


@contextlib.contextmanager
def embedded_project(tmp_path: Path, grace: float) -> Iterator[Path]:
    """A project on `uri: embedded`; whatever the test leaves running is killed at the end."""
    root = tmp_path / "project"
    (root / "migrations").mkdir(parents=True)
    (root / "runway.yaml").write_text(CONFIG.format(grace=grace))
    (root / "migrations" / "001_a.py").write_text(data_migration(1))
    seen: set[int] = set()
    try:
        yield root
    finally:
        state = daemon_state(root) or {}
        seen.update(p for p in (state.get("pid"), state.get("reaper")) if p)
        for pid in seen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def cli(root: Path, *args: str):
    return run_cli("--config", str(root / "runway.yaml"), *args, cwd=root)


def test_a_second_command_within_the_grace_period_reuses_the_daemon_and_embedded_stop_stops_it(tmp_path):
    with embedded_project(tmp_path, grace=300) as root:
        first = cli(root, "up", "--json")
        assert first.returncode == 0, first.stderr
        state = daemon_state(root)
        assert state is not None and alive(state["pid"])  # nobody uses it, yet it waits for the next command
        assert state["reaper"] and alive(state["reaper"])

        second = cli(root, "status", "--json")
        assert second.returncode == 0, second.stderr
        assert json.loads(second.stdout)["current_version"] == 1  # the data, on the same daemon
        assert daemon_state(root)["pid"] == state["pid"]

        stopped = cli(root, "embedded", "stop")
        assert stopped.returncode == 0, stopped.stderr
        assert stopped.stdout.strip() == f"stopped the embedded database (pid {state['pid']})"
        assert daemon_state(root) is None
        wait_until(lambda: not alive(state["pid"]), "the daemon to be gone")
        wait_until(lambda: not alive(state["reaper"]), "the reaper to leave")

        again = cli(root, "embedded", "stop")
        assert again.returncode == 0 and again.stdout.strip() == "the embedded database was not running"


def test_an_idle_daemon_stops_by_itself_when_its_grace_period_ends(tmp_path):
    with embedded_project(tmp_path, grace=1) as root:
        result = cli(root, "status")
        assert result.returncode == 0, result.stderr
        state = daemon_state(root)
        assert state is not None
        wait_until(lambda: daemon_state(root) is None and not alive(state["pid"]), "the idle daemon to stop",
                   timeout=30)
        wait_until(lambda: not alive(state["reaper"]), "the reaper to leave")


def test_a_daemon_whose_project_is_deleted_in_its_grace_period_is_stopped(tmp_path):
    """A throwaway project (a script's temporary folder) removed while its daemon waits: nothing outlives it."""
    import shutil

    with embedded_project(tmp_path, grace=300) as root:
        result = cli(root, "status")
        assert result.returncode == 0, result.stderr
        state = daemon_state(root)
        assert state is not None and alive(state["pid"]) and alive(state["reaper"])
        shutil.rmtree(root)
        try:
            wait_until(lambda: not alive(state["pid"]), "the daemon of the deleted project to stop", timeout=30)
            wait_until(lambda: not alive(state["reaper"]), "the reaper to leave")
        finally:  # the state file is gone with the project: the fixture cannot find these two any more
            for pid in (state["pid"], state["reaper"]):
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)


def test_embedded_stop_is_refused_while_a_process_uses_the_daemon(tmp_path):
    with embedded_project(tmp_path, grace=0) as root:
        app = MigrationApp(load_config(root / "runway.yaml").app())
        try:
            refused = cli(root, "embedded", "stop")
            assert refused.returncode != 0
            assert refused.stderr.strip().splitlines() == [
                f"runway-tui: error: the embedded database is in use by runway-tui process(es) {os.getpid()}; "
                "close them first (it stops when the last one leaves and its grace period ends)"]
            assert app.ping()
        finally:
            app.close()
        assert daemon_state(root) is None  # grace 0: stopped with its last user, as before


@pytest.mark.parametrize("value", ["-1", "soon"])
def test_a_bad_grace_period_is_one_line_naming_the_key(tmp_path, value):
    with embedded_project(tmp_path, grace=value) as root:  # type: ignore[arg-type]
        result = cli(root, "status")
    assert result.returncode == 2
    assert "applications.local.timeouts.embedded_grace_s" in result.stderr and "Traceback" not in result.stderr
