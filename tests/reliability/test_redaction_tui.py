"""Redaction that holds (issue 25), as the operator sees it: the TUI (Pilot) on a project whose URI has a
password, against a server with authentication, exploring a collection written by someone who knows what
is redacted. What the terminal shows and what `c` copies never holds a redacted value, a URI's password
or the configuration's secret; a refused input is one red line and no read reaches the server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient
from textual.widgets import DataTable, Input, Static

from runway_tui.tui.app import RunwayApp
from runway_tui.tui.screens.collection import CollectionScreen
from runway_tui.tui.screens.document import DocumentScreen
from tests.reliability.conftest import PASSWORD, auth_uri
from tests.support import commands
from tests.support.project import Project
from tests.support.redaction_data import ACCOUNTS, EMAIL, REDACT_FIELDS, SECRETS, seed_redaction
from tests.support.server import Server
from tests.tui.conftest import make_app
from tests.tui.test_explorer import open_collection, plain, settle, wait_for

SHOWN_SECRETS = (*SECRETS, PASSWORD)
READS = ("find", "aggregate", "count", "distinct", "getMore")


@pytest.fixture
def redaction_project(tmp_path: Path, auth_server: Server) -> Iterator[Project]:
    """A project on the authenticating server (its URI holds PASSWORD) with `tui.redact_fields` set."""
    uri = auth_uri(auth_server)
    name = f"runway_redaction_tui_{uuid.uuid4().hex[:8]}"
    with MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
        seed_redaction(client, name, config_secret=PASSWORD)
        project = Project.create(tmp_path / "redaction", uri=uri, db_name=name)
        patterns = ", ".join(f'"{p}"' for p in REDACT_FIELDS)
        setting = f"  keymap: {{}}\n  redact_fields: [{patterns}]\n"
        project.config_path.write_text(project.config_path.read_text().replace("  keymap: {}\n", setting))
        yield project
        client.drop_database(name)


@pytest.fixture
def build(redaction_project: Project) -> Iterator:
    made: list[RunwayApp] = []

    def make() -> RunwayApp:
        app = make_app(redaction_project)
        made.append(app)
        return app

    yield make
    for app in made:
        app.shutdown_engine()


def no_secret_in(text: str) -> None:
    leaked = [secret for secret in SHOWN_SECRETS if secret.casefold() in text.casefold()]
    assert not leaked, f"shown in clear: {leaked}"


def reads_of(seen: commands.Seen, project: Project) -> list[str]:
    return [c.name for c in seen.named(*READS) if c.target == f"{project.db_name}.{ACCOUNTS}"]


async def submit(app: RunwayApp, pilot, screen: CollectionScreen, filter: str = "", projection: str = "",
                 sort: str = "") -> None:
    for box, text in (("#query-filter", filter), ("#query-projection", projection), ("#query-sort", sort)):
        screen.query_one(box, Input).value = text
    screen.query_one("#query-filter", Input).focus()
    await pilot.press("enter")
    await settle(app, pilot)


def error_line(screen: CollectionScreen) -> str:
    box = screen.query_one("#query-error", Static)
    return plain(box) if box.display else ""


def rows(screen: CollectionScreen) -> list[list[str]]:
    table = screen.query_one("#documents-table", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


REFUSED = [
    ("projection", {"projection": '{"e": "$email"}'}),
    ("projection", {"projection": '{"e": {"$concat": ["$email", ""]}}'}),
    ("projection", {"projection": '{"e": {"$objectToArray": "$$ROOT"}}'}),
    ("projection", {"projection": '{"apikeys.guess@keyed-map.example": 1}'}),
    ("filter", {"filter": '{"EMAIL": {"$regex": "^bob"}}'}),
    ("filter", {"filter": '{"$expr": {"$eq": ["$email", "guess@secret.example"]}}'}),
    ("filter", {"filter": '{"orders": {"$elemMatch": {"email": {"$exists": true}}}}'}),
    ("sort", {"sort": '{"profile.ssn": 1}'}),
]


async def test_a_refused_input_is_one_red_line_and_reads_nothing(build, redaction_project: Project) -> None:
    app = build()
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_collection(app, pilot, ACCOUNTS)
        before = rows(screen)
        assert len(before) == 3
        for what, query in REFUSED:
            with commands.watch() as seen:
                await submit(app, pilot, screen, **query)
                line = error_line(screen)
                assert line.startswith(f"{what}: ") and "\n" not in line, (query, line)
                if what == "filter":  # the exact count of a refused filter is refused too
                    await pilot.press("c")
                    await settle(app, pilot)
                    assert plain(screen.query_one("#documents-status", Static)).startswith("count: filter: ")
            assert reads_of(seen, redaction_project) == [], query
            assert rows(screen) == before  # the last good page stays
            no_secret_in(app.export_screenshot())


async def test_a_right_guess_and_a_wrong_one_look_the_same(build) -> None:
    app = build()
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_collection(app, pilot, ACCOUNTS)
        seen_lines = set()
        for guess in (EMAIL, "nobody@secret.example"):
            await submit(app, pilot, screen, filter=json.dumps({"email": guess}))
            await pilot.press("c")
            await settle(app, pilot)
            seen_lines.add((error_line(screen), plain(screen.query_one("#documents-status", Static)),
                            tuple(map(tuple, rows(screen)))))
        assert len(seen_lines) == 1, seen_lines


async def test_every_view_and_the_copy_hide_redacted_values_uris_and_secrets(build) -> None:
    app = build()
    shown: list[str] = []
    copied: list[str] = []
    async with app.run_test(size=(200, 50)) as pilot:
        screen = await open_collection(app, pilot, ACCOUNTS)
        table = rows(screen)
        assert any("mongodb://bob:***@" in cell for row in table for cell in row), table
        shown.append(app.export_screenshot())
        for key in ("2", "3", "4"):
            await pilot.press(key)
            await settle(app, pilot)
            shown.append(app.export_screenshot())
        schema = screen.query_one("#schema-table", DataTable)
        paths = [str(schema.get_row_at(i)[0]).strip() for i in range(schema.row_count)]
        assert "apikeys" in paths and not any(p.startswith("apikeys.") for p in paths), paths
        for index in range(3):  # each document in full, and what `c` copies
            await pilot.press("1")
            await settle(app, pilot)
            screen.query_one("#documents-table", DataTable).move_cursor(row=index)
            screen.query_one("#documents-table", DataTable).focus()
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, DocumentScreen))
            shown.append(app.export_screenshot())
            await pilot.press("c")
            await pilot.pause()
            copied.append(app.clipboard)
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen)
    assert '"EMAIL": "***"' in copied[1] and '"PassWord": "***"' in copied[1]
    assert "mongodb://bob:***@db.example:27017/app" in copied[0] and '"apikeys": "***"' in copied[0]
    for text in shown + copied:
        no_secret_in(text)
