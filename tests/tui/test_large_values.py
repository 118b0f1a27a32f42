"""A very large document (15 MB: a 5 MB string, an array of 60 000 sub-documents, 100 000 lines of text)
opens in the explorer at once, cut with a note, and a closed terminal ends the TUI whatever it is doing.

The figures (how long the document screen takes to open) are printed by bench/large_document_bench.py;
no test here asserts a duration: each waits for a state with a generous deadline."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import threading
from pathlib import Path

import bson
import pytest
from pymongo import MongoClient
from textual.widgets import DataTable

from runway_tui.tui.screens.collection import CollectionScreen
from runway_tui.tui.screens.document import DocumentScreen
from tests.support.cli import REPO_ROOT
from tests.support.project import Project
from tests.support.waiting import wait_until
from tests.tui.conftest import make_app, settle, write_standard
from tests.tui.helpers import wait_for
from tests.tui.test_terminal_safety import screen_text

BIG = "big"


def big_document() -> dict:
    return {"_id": 1, "blob": "x" * (5 * 1024 * 1024), "items": [{"n": i, "s": "y" * 50} for i in range(60_000)],
            "text": "\n".join(f"line {i}" for i in range(100_000)), "blob2": "z" * (4 * 1024 * 1024)}


@pytest.fixture
def big_project(project: Project, mongo_client: MongoClient) -> Project:
    document = big_document()
    assert len(bson.encode(document)) > 15_000_000
    db = mongo_client[project.db_name]
    db[BIG].insert_many([document, {"_id": 2, "small": "ok"}])
    return project


async def test_a_15_mb_document_opens_cut_with_a_note(big_project: Project) -> None:
    app = make_app(big_project)
    try:
        async with app.run_test(size=(120, 36), notifications=True) as pilot:
            await settle(app, pilot)
            await pilot.press("2")
            table = app.main.query_one("#collections", DataTable)
            await wait_for(pilot, lambda: BIG in [str(k.value) for k in table.rows])
            table.move_cursor(row=[str(k.value) for k in table.rows].index(BIG))
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, CollectionScreen) and app.screen.page is not None,
                           timeout=60)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, DocumentScreen) and '"_id"' in screen_text(app),
                           timeout=60)
            text = screen_text(app)
            assert "the document is 15." in text and "only its beginning is shown" in text, text
            assert "… [cut]" in text, "the 5 MB string is cut within its line"
            lines = text.splitlines()
            assert lines[-1].strip() and any(line.lstrip().startswith("╭") for line in lines), text  # intact
            await pilot.press("c")
            await wait_for(pilot, lambda: "too large to copy" in screen_text(app))
            assert app.clipboard != app.screen.text, "nothing was copied"
    finally:
        app.shutdown_engine()


_ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


def _controlling_tty() -> None:
    """In the child: the pseudo-terminal on fd 0 becomes its controlling terminal, so closing the other end
    is a real hang-up (the kernel sends SIGHUP), as when a terminal window or an SSH session is closed."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """A process on a pseudo-terminal it controls; `shown()` is the text written (escape sequences left out)."""

    def __init__(self, argv: list[str], cwd: str | None = None) -> None:
        primary, secondary = pty.openpty()
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), TERM="xterm-256color", COLUMNS="120", LINES="36")
        self.proc = subprocess.Popen(argv, stdin=secondary, stdout=secondary, stderr=secondary, env=env, cwd=cwd,
                                     start_new_session=True, preexec_fn=_controlling_tty)
        os.close(secondary)
        self.primary: int | None = primary
        self.output: list[bytes] = []
        self.stopping = threading.Event()
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self) -> None:
        """Reads until told to stop; never blocked in `read`, so that `close` really closes the terminal (a
        descriptor closed while another thread reads it stays open until that read returns: no hang-up)."""
        while not self.stopping.is_set():
            primary = self.primary
            if primary is None:
                return
            try:
                ready, _, _ = select.select([primary], [], [], 0.05)
                chunk = os.read(primary, 65536) if ready else b""
            except OSError:
                return
            if ready and not chunk:
                return
            if chunk:
                self.output.append(chunk)

    def shown(self) -> str:
        return _ESCAPES.sub(b"", b"".join(self.output)).decode("utf-8", "replace")

    def keys(self, text: str) -> None:
        assert self.primary is not None
        os.write(self.primary, text.encode())

    def close(self) -> None:
        """The terminal goes away (its window closed): the kernel hangs up the process's session."""
        self.stopping.set()
        self.reader.join(10)
        if self.primary is not None:
            primary, self.primary = self.primary, None
            os.close(primary)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.close()


def test_closing_the_terminal_ends_the_tui_with_a_large_document_open(big_project: Project) -> None:
    terminal = Terminal([sys.executable, "-m", "runway_tui", "--config", str(big_project.config_path)])
    try:
        wait_until(lambda: "Audit log" in terminal.shown(), "the first paint", timeout=60)
        terminal.keys("2")
        wait_until(lambda: f"{BIG} " in terminal.shown(), "pane 2", timeout=30)
        mark = len(terminal.shown())
        for _ in range(10):  # pane 2 reloads as it takes the focus; an enter meanwhile selects nothing
            terminal.keys("\r")
            with contextlib.suppress(AssertionError):
                wait_until(lambda: "read only" in terminal.shown()[mark:], "the collection", timeout=3)
                break
        wait_until(lambda: "xxxxxxxx" in terminal.shown()[mark:], "the documents", timeout=60)
        mark = len(terminal.shown())
        terminal.keys("\r")
        wait_until(lambda: "Document in" in terminal.shown()[mark:], "the document screen", timeout=60)
        terminal.close()
        terminal.proc.wait(30)  # a hang-up ends it: waited for by state, with a deadline
    finally:
        terminal.kill()


BLOCKED = '''
import sys
from pathlib import Path
from runway_tui.engine.config import load_config
from runway_tui.tui.app import RunwayApp

config = load_config(sys.argv[1])
app = RunwayApp(config.app(), config.tui, read_only=True, handle_signals=True)


def render_forever():  # a render that never ends: the event loop is blocked in Python code
    if app.engine is None:  # connected first (the embedded daemon started), then blocked
        app.set_timer(0.1, render_forever)
        return
    Path(sys.argv[2]).write_text("blocked")
    while True:
        sum(range(1000))


app.call_later(render_forever)
try:
    code = app.run()
finally:
    app.shutdown_engine()
sys.exit(code)
'''


def test_a_hang_up_ends_the_tui_while_its_event_loop_is_blocked(tmp_path) -> None:
    """Whatever the event loop is doing (here: a render that never returns), closing the terminal ends the
    process, and the engine is closed first: the embedded daemon it started is stopped, its registration
    removed (as on a normal exit)."""
    project = Project.create(tmp_path / "p", uri="embedded", db_name="hangup_test")
    write_standard(project, 1)
    folder = project.root / ".runway" / "embedded"
    script = tmp_path / "blocked.py"
    script.write_text(BLOCKED)
    blocked = tmp_path / "blocked"
    terminal = Terminal([sys.executable, str(script), str(project.config_path), str(blocked)])
    daemon = None
    try:
        wait_until(blocked.exists, "the event loop to be blocked, connected", timeout=60)
        daemon = json.loads((folder / "daemon.json").read_text())["pid"]
        terminal.close()
        code = terminal.proc.wait(30)  # by state, with a deadline
        assert code == 128 + signal.SIGHUP, code  # as a shell reports a hang-up
        wait_until(lambda: not Path(f"/proc/{daemon}").exists(), "the daemon to stop", timeout=20)
        users = folder / "users"
        assert not users.exists() or not any(p.name.startswith(f"{terminal.proc.pid}-") for p in users.iterdir())
    finally:
        terminal.kill()
        state = folder / "daemon.json"
        if state.exists():  # never leave a daemon behind, even when the test fails
            with contextlib.suppress(ProcessLookupError, ValueError, KeyError):
                os.kill(json.loads(state.read_text())["pid"], signal.SIGKILL)
