"""The TUI never lets a file, the server or a document drive the terminal (tests/support/hostile.py).

Every screen is checked as the bytes Textual would write to the terminal for it (the compositor's full
update, rendered as for a real terminal): none of the payloads' control sequences may be in them, no
control character may be in the text shown, the payload is shown in its visible form (`\\x1b`), and markup
in names is shown as written (never a link or a clickable action). A real `runway-tui` on a
pseudo-terminal is checked the same way, from the raw bytes it writes.
"""

from __future__ import annotations

import contextlib
import io
import os
import pty
import re
import subprocess
import sys
import threading

from pymongo import MongoClient
from rich.console import Console
from textual.widgets import DataTable

from runway_tui.engine.config import load_config
from runway_tui.tui.app import RunwayApp
from runway_tui.tui.screens.apps import AppsScreen
from runway_tui.tui.screens.collection import CollectionScreen
from runway_tui.tui.screens.confirm import ConfirmScreen
from runway_tui.tui.screens.detail import AuditDetailScreen, MigrationDetailScreen
from runway_tui.tui.screens.document import DocumentScreen
from runway_tui.tui.screens.error import ErrorScreen
from runway_tui.tui.screens.row import RowScreen
from runway_tui.tui.screens.server import ServerScreen
from tests.support.cli import REPO_ROOT
from tests.support.hostile import (
    HOSTILE,
    OSC0,
    SHOWN_OSC52,
    controls_in,
    forbidden_in,
    hostile_migration,
    seed_database,
)
from tests.support.project import Project
from tests.support.waiting import wait_until
from tests.tui.conftest import engine_for, make_app, settle
from tests.tui.helpers import wait_for

MARKUP_SHOWN = "[link=https://evil.example/]click[/link]"
BROKEN_NAME = f"003_broken{OSC0}.py"


def terminal_output(app: RunwayApp) -> bytes:
    """What Textual writes to the terminal to draw the current screen in full (toasts and dialogs included)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, color_system="truecolor",
                      legacy_windows=False, safe_box=False)
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    return update.render_segments(console).encode("utf-8", "surrogateescape")


def screen_text(app: RunwayApp) -> str:
    """The characters on the screen, line by line."""
    return "\n".join("".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips())


def assert_safe(app: RunwayApp, where: str) -> str:
    data = terminal_output(app)
    assert forbidden_in(data) == [], f"{where}: {forbidden_in(data)}"
    text = screen_text(app)
    assert controls_in(text) == [], f"{where}: the screen holds {controls_in(text)}"
    return text


def hostile_project(project: Project, mongo_client: MongoClient) -> None:
    project.write_migration(1, "evil", hostile_migration(1))
    with engine_for(load_config(project.config_path).app(project.app)) as engine:
        engine.upgrade()
    (project.scripts_dir / "002_second.py").write_text(
        f'"""second {HOSTILE.encode("unicode_escape").decode()}"""\n\nversion = 2\n\n\ndef upgrade(ctx):\n'
        "    pass\n\n\ndef downgrade(ctx):\n    pass\n")
    (project.scripts_dir / BROKEN_NAME).write_text("version = 3\n")
    seed_database(mongo_client[project.db_name])
    other = f'  other:\n    uri: "{project.uri}"\n    database: "db\\e]0;DBTITLE\\a"\n'
    project.config_path.write_text(project.config_path.read_text().replace("tui:\n", other + "tui:\n"))


async def open_row(app: RunwayApp, pilot, table_id: str, key: str) -> None:
    table = app.main.query_one(table_id, DataTable)
    table.focus()
    keys = [str(k.value) for k in table.rows]
    await wait_for(pilot, lambda: key in [str(k.value) for k in table.rows])
    table.move_cursor(row=[str(k.value) for k in table.rows].index(key))
    await pilot.pause()
    assert keys


async def test_every_screen_shows_hostile_text_as_visible_escapes(project: Project, mongo_client: MongoClient):
    hostile_project(project, mongo_client)
    app = make_app(project)
    app.project_config = load_config(project.config_path)  # the switcher lists every application
    try:
        async with app.run_test(size=(160, 48), notifications=True) as pilot:
            await settle(app, pilot)
            await wait_for(pilot, lambda: "evil" in screen_text(app))
            text = assert_safe(app, "main screen")
            assert SHOWN_OSC52[:12] in text and "\\x9d0;C1-TITLE\\x9c" in text, text

            broken = "f:" + BROKEN_NAME.removesuffix(".py")  # a file whose name gives no version
            for key in ("v1", "v90", "v91", broken):  # applied, orphan, failed with a traceback, broken file name
                await open_row(app, pilot, "#migrations", key)
                await pilot.press("enter")
                await wait_for(pilot, lambda: isinstance(app.screen, MigrationDetailScreen))
                await settle(app, pilot)
                assert_safe(app, f"migration detail {key}")
                await pilot.press("escape")
                await wait_for(pilot, lambda: app.screen is app.main)

            await open_row(app, pilot, "#migrations", "v90")
            await pilot.press("v")
            await wait_for(pilot, lambda: isinstance(app.screen, RowScreen))
            text = assert_safe(app, "row screen")
            assert MARKUP_SHOWN in text, "markup in a name is shown as written"
            await pilot.press("escape")
            await pilot.press("c")  # the toast names what was copied
            await wait_for(pilot, lambda: "copied" in screen_text(app))
            assert_safe(app, "copy toast")

            await open_row(app, pilot, "#audit", "0")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, AuditDetailScreen))
            assert_safe(app, "audit detail")
            await pilot.press("escape")

            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
            assert_safe(app, "plan")
            await pilot.press("escape")
            await pilot.press("u")  # refused: the blockers name the broken file
            await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
            assert_safe(app, "refusal")
            await pilot.press("escape")

            await pilot.press("X")  # the lock's holder, as another tool wrote it
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert "lockuser \\x1b]52;" in assert_safe(app, "unlock confirmation")
            await pilot.press("escape")
            await open_row(app, pilot, "#migrations", "v90")
            await pilot.press("P")  # mark pending: the dialog names the migration
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert_safe(app, "mark confirmation")
            await pilot.press("escape")
            await pilot.press("a")  # the other application's database name holds OSC 0
            await wait_for(pilot, lambda: isinstance(app.screen, AppsScreen))
            await wait_for(pilot, lambda: all(p.server != "probing…" for p in app.screen.probes.values()))
            await pilot.pause()
            assert "db\\x1b]0;DBTITLE" in assert_safe(app, "applications")
            await pilot.press("escape")

            await pilot.press("i")
            await wait_for(pilot, lambda: isinstance(app.screen, ServerScreen))
            await settle(app, pilot)
            assert_safe(app, "server screen")
            await pilot.press("escape")

            await pilot.press("2")
            collections = app.main.query_one("#collections", DataTable)
            await wait_for(pilot, lambda: any(str(k.value).startswith("evil") for k in collections.rows))
            text = assert_safe(app, "pane 2")
            evil = next(str(k.value) for k in collections.rows if str(k.value).startswith("evil"))
            collections.move_cursor(row=[str(k.value) for k in collections.rows].index(evil))
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, CollectionScreen))
            screen = app.screen
            await wait_for(pilot, lambda: screen.page is not None)
            await pilot.pause()
            text = assert_safe(app, "documents")
            # a typed cell quotes a string as JSON does, so its escapes are JSON's (\u001b); a field name is plain
            assert "field A\\x1b]52;" in text and '"value A\\u001b]52;' in text, text
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, DocumentScreen))
            text = assert_safe(app, "document")
            assert "\\u001b]52;c;" in text and "\\x9b2J" in text, text  # JSON's escape, and ours for C1
            await pilot.press("escape")
            for view in ("2", "3", "4"):
                await pilot.press(view)
                await wait_for(pilot, lambda v=view: {"2": "schema", "3": "indexes", "4": "validation"}[v]
                               in screen.loaded)
                await pilot.pause()
                assert_safe(app, f"view {view}")
            await pilot.press("escape")
    finally:
        app.shutdown_engine()


async def test_a_step_run_in_the_tui_logs_hostile_output_visibly(project: Project):
    project.write_migration(1, "evil", hostile_migration(1))
    app = make_app(project)
    try:
        async with app.run_test(size=(160, 48), notifications=True) as pilot:
            await settle(app, pilot)
            await pilot.press("u")
            await wait_for(pilot, lambda: app.screen is not app.main)
            assert_safe(app, "confirmation")
            await pilot.press("y")
            await wait_for(pilot, lambda: "log line" in screen_text(app) and app.busy is None)
            await settle(app, pilot)
            text = assert_safe(app, "after the step")
            assert "A\\x1b]52;c;ZWNobyBwd25lZA==" in text, text
    finally:
        app.shutdown_engine()


_ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


def _drain(fd: int, sink: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        sink.append(chunk)


def test_a_real_terminal_receives_no_control_sequence_from_the_data(project: Project, mongo_client: MongoClient):
    """`runway-tui` on a pseudo-terminal: the raw bytes it writes hold none of the payloads' sequences,
    through the main screen, a migration's detail, the explorer and a document."""
    hostile_project(project, mongo_client)
    primary, secondary = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), TERM="xterm-256color", COLUMNS="160", LINES="48")
    proc = subprocess.Popen([sys.executable, "-m", "runway_tui", "--config", str(project.config_path)],
                            stdin=secondary, stdout=secondary, stderr=secondary, env=env, start_new_session=True)
    os.close(secondary)
    output: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(primary, output), daemon=True)
    reader.start()

    def shown() -> str:  # the text written, Textual's own cursor and colour sequences left out
        return _ESCAPES.sub(b"", b"".join(output)).decode("utf-8", "replace")

    def keys(text: str) -> None:
        os.write(primary, text.encode())

    try:
        wait_until(lambda: "090_orphan" in shown(), "the first paint with the state", timeout=60)
        keys("\r")  # the migration under the cursor in full
        wait_until(lambda: "Checksum" in shown(), "the migration detail", timeout=30)
        mark = len(shown())
        keys("\x1b")
        wait_until(lambda: "Audit log" in shown()[mark:], "the main screen again", timeout=30)
        mark = len(shown())
        keys("2")
        wait_until(lambda: "evil" in shown()[mark:], "pane 2", timeout=30)
        mark = len(shown())
        keys("/")
        wait_until(lambda: "filter collections by name" in shown()[mark:], "the filter box", timeout=30)
        keys("evil")
        wait_until(lambda: "match 'evil'" in shown()[mark:], "pane 2 filtered", timeout=30)
        keys("\r")  # the filter closes and pane 2's table takes the focus
        mark = len(shown())
        # pane 2 reloads when it takes the focus, and an enter while its rows are replaced selects nothing:
        # enter again until the collection is open
        for _ in range(10):
            keys("\r")
            with contextlib.suppress(AssertionError):
                wait_until(lambda: "read only" in shown()[mark:], "the collection", timeout=3)
                break
        wait_until(lambda: "read only" in shown()[mark:], "the collection", timeout=3)
        wait_until(lambda: "field" in shown()[mark:], "the documents", timeout=30)
        keys("\r")
        wait_until(lambda: "Document in" in shown()[mark:], "the document", timeout=30)
        for _ in range(10):  # q goes back one screen at a time, then quits (an extra enter may have opened one)
            keys("q")
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(3)
                break
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        reader.join(5)
        os.close(primary)
    data = b"".join(output)
    assert forbidden_in(data) == [], forbidden_in(data)
    assert b"\x1b]0;" not in data and b"\x1b]52;" not in data
    assert "\\x1b]52;c;" in shown()
