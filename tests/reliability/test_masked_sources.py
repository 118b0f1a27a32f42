"""A migration file's text kept in `<migrations>_sources` (and shown by the TUI) never holds a password:
URI passwords of any scheme and the application's own secrets are masked before the text is stored, the
file shown now is masked the same way, so the drift diff shows the real edit only. Checksums, and so drift
detection, are computed from the file as it is (a changed password is still drift)."""

from __future__ import annotations

import pytest
from pymongo import MongoClient

from runway_tui.engine.scripts import checksum_text
from runway_tui.tui.screens.detail import MigrationDetailScreen
from tests.reliability.conftest import PASSWORD, auth_uri
from tests.reliability.helpers import run_inproc, set_config
from tests.support.project import Project
from tests.support.server import Server
from tests.tui.conftest import make_app, settle
from tests.tui.helpers import wait_for

OTHERS = ("EtlPw-123x", "PgPw-456x", "HttpPw-789x")
FILE = f'''"""Copy the reports."""

version = 1
ETL = "mongodb://etl:{OTHERS[0]}@other.example:27017/?authSource=admin"
REPORTS = "postgresql://report:{OTHERS[1]}@pg.example:5432/reports"
API = "https://robot:{OTHERS[2]}@api.example/v1"
# the application's own password, written out by someone in a hurry: {PASSWORD}


def upgrade(ctx):
    ctx.db.things.insert_one({{"copied": True}}, session=ctx.session)


def downgrade(ctx):
    ctx.db.things.delete_many({{}}, session=ctx.session)
'''


@pytest.fixture
def secret_project(project: Project, auth_server: Server) -> Project:
    set_config(project, uri=auth_uri(auth_server))
    return project


def test_the_stored_source_masks_every_uri_password_and_the_config_secrets(secret_project: Project,
                                                                             auth_server: Server) -> None:
    path = secret_project.write_migration(1, "copy_reports", FILE)
    assert run_inproc(secret_project, "up").code == 0
    with MongoClient(auth_uri(auth_server)) as client:
        db = client[secret_project.db_name]
        stored = list(db["migrations_sources"].find())
        record = db["migrations"].find_one({"_id": 1})
    assert len(stored) == 1
    text = stored[0]["source"]
    for secret in (PASSWORD, *OTHERS):
        assert secret not in text, secret
    assert "mongodb://etl:***@other.example" in text and "postgresql://report:***@pg.example" in text
    assert "https://robot:***@api.example" in text
    assert text.count("***") == 4
    # the checksum is the file's own: drift detection is unchanged by the masking
    assert record["checksum"] == checksum_text(path.read_text()) == stored[0]["checksum"]
    assert run_inproc(secret_project, "check").code == 0
    path.write_text(path.read_text().replace(OTHERS[1], "RotatedPw-000"))  # only a password changed
    assert run_inproc(secret_project, "check").code == 4, "a changed password is still drift"


async def test_the_drift_diff_shows_the_edit_and_no_password(secret_project: Project) -> None:
    path = secret_project.write_migration(1, "copy_reports", FILE)
    assert run_inproc(secret_project, "up").code == 0
    path.write_text(path.read_text().replace('"""Copy the reports."""', '"""Copy the reports, twice."""'))
    app = make_app(secret_project)
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            await settle(app, pilot)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, MigrationDetailScreen) and app.screen.diff_text)
            diff = app.screen.diff_text
            changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
            assert changed == ['-"""Copy the reports."""', '+"""Copy the reports, twice."""'], diff
            for secret in (PASSWORD, *OTHERS):
                assert secret not in diff
    finally:
        app.shutdown_engine()


async def test_the_source_shown_in_the_tui_masks_passwords(secret_project: Project) -> None:
    secret_project.write_migration(1, "copy_reports", FILE)
    app = make_app(secret_project)
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            await settle(app, pilot)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, MigrationDetailScreen))
            await pilot.pause()
            from tests.tui.test_terminal_safety import screen_text

            await pilot.press("j")
            text = screen_text(app)
            assert "postgresql://report:***@pg.example" in text, text
            for secret in (PASSWORD, *OTHERS):
                assert secret not in text
    finally:
        app.shutdown_engine()
