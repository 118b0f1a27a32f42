"""`uri: embedded`: a shared SecantusDB daemon under .runway/embedded/ next to the config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from runway_tui.engine import embedded
from runway_tui.engine.app import MigrationApp
from runway_tui.engine.config import load_config
from runway_tui.engine.errors import EmbeddedNotInstalledError, ExitCode
from tests.engine.helpers import data_migration
from tests.support.cli import REPO_ROOT, run_cli

CONFIG = """\
scripts_dir: migrations
applications:
  local:
    uri: embedded
    database: embedded_test
    timeouts:
      lock_wait_s: 20
      embedded_start_s: 30
      embedded_grace_s: 0
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def daemon_state(root: Path) -> dict | None:
    path = root / ".runway" / "embedded" / "daemon.json"
    return json.loads(path.read_text()) if path.exists() else None


def test_find_daemon_without_the_extra_names_the_extra(tmp_path, monkeypatch):
    fake_python = tmp_path / "bin" / "python"
    fake_python.parent.mkdir()
    fake_python.touch()
    monkeypatch.setattr(sys, "executable", str(fake_python))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(EmbeddedNotInstalledError) as info:
        embedded.find_daemon()
    assert "'embedded' extra" in str(info.value) and "pip install" in str(info.value)
    assert info.value.exit_code == ExitCode.BAD_INPUT
    daemon = fake_python.parent / embedded.DAEMON
    daemon.write_text("#!/bin/sh\n")
    daemon.chmod(0o755)
    assert embedded.find_daemon() == str(daemon)  # next to the interpreter first


def test_cli_without_the_daemon_prints_one_line_naming_the_extra(tmp_path):
    """Run the CLI with an interpreter outside the virtual environment and a PATH without the daemon."""
    base = Path(sys.executable).resolve()
    assert not (base.parent / embedded.DAEMON).exists()
    interpreter = tmp_path / "bin" / "python"
    interpreter.parent.mkdir()
    interpreter.symlink_to(base)
    (tmp_path / "runway.yaml").write_text(CONFIG)
    site_packages = sysconfig.get_paths()["purelib"]
    env = {"HOME": os.environ.get("HOME", "/tmp"), "PATH": "/usr/bin:/bin", "NO_COLOR": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), site_packages])}
    proc = subprocess.run([str(interpreter), "-m", "runway_tui", "--config", "runway.yaml", "status"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == ExitCode.BAD_INPUT, proc.stderr  # an install problem, not an unreachable server
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "'embedded' extra" in lines[0] and "pip install" in lines[0]


def test_embedded_daemon_is_shared_persistent_and_stopped_by_the_last_user(tmp_path):
    root = tmp_path / "project"
    (root / "migrations").mkdir(parents=True)
    config_path = root / "runway.yaml"
    config_path.write_text(CONFIG)
    (root / "migrations" / "001_a.py").write_text(data_migration(1))
    (root / "migrations" / "002_b.py").write_text(data_migration(2))
    script = textwrap.dedent(f"""
        import sys
        from runway_tui.cli.main import main
        sys.exit(main(["--config", {str(config_path)!r}, "up", "--steps", "1", "--json"]))
    """)

    # Two processes start on the same empty folder at once: one starts the daemon, the other joins it.
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), NO_COLOR="1")
    procs = [subprocess.Popen([sys.executable, "-c", script], cwd=root, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=90) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    applied = sorted(json.loads(out)["completed"][0]["version"] for out, _ in outputs)
    assert applied == [1, 2]  # each process applied one step, none twice
    assert (root / ".runway" / "embedded" / "data").is_dir()
    assert daemon_state(root) is None  # the last one out stopped the daemon

    # A restart finds the data; a second process shares the running daemon.
    app = MigrationApp(load_config(config_path).app())
    try:
        state = daemon_state(root)
        assert state is not None and alive(state["pid"])
        assert app.session.get_current_version() == 2
        assert sorted(d["_id"] for d in app.database["things"].find()) == [1, 2]
        proc = run_cli("--config", str(config_path), "status", "--json", cwd=root)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["current_version"] == 2
        assert daemon_state(root) == state and alive(state["pid"])  # still ours, not restarted
        second = MigrationApp(load_config(config_path).app())  # another app in this same process
        try:
            app.close()
            assert alive(state["pid"])  # the second app still uses it
            assert second.status().current_version == 2
        finally:
            second.close()
    finally:
        app.close()
    assert daemon_state(root) is None
    assert not alive(state["pid"])
