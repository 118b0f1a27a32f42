"""SVG snapshots of the explorer's views on the seeded `people` collection (fixed ids, dates and values;
redaction on). Regenerate deliberately: --snapshot-update."""

from __future__ import annotations

from textual.widgets import DataTable

from tests.support.project import Project
from tests.tui.conftest import make_app
from tests.tui.test_explorer import settle, wait_for, with_redaction


def snapshot(snap_compare, project: Project, size, press=(), collection: str = "people") -> bool:
    with_redaction(project)
    app = make_app(project, read_only=True)

    async def run_before(pilot) -> None:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        table = app.main.query_one("#collections", DataTable)
        await wait_for(pilot, lambda: collection in [str(k.value) for k in table.rows])
        table.move_cursor(row=[str(k.value) for k in table.rows].index(collection))
        await pilot.press("enter")
        await settle(app, pilot)
        for key in press:
            await pilot.press(key)
            await settle(app, pilot)

    try:
        return snap_compare(app, run_before=run_before, terminal_size=size)
    finally:
        app.shutdown_engine()


def test_documents_view(snap_compare, explorer_project):
    assert snapshot(snap_compare, explorer_project, (120, 36))


def test_schema_view(snap_compare, explorer_project):
    assert snapshot(snap_compare, explorer_project, (120, 36), press=["2"])


def test_indexes_view(snap_compare, explorer_project):
    assert snapshot(snap_compare, explorer_project, (120, 36), press=["3"])


def test_validation_view(snap_compare, explorer_project):
    assert snapshot(snap_compare, explorer_project, (120, 36), press=["4"], collection="rules")


def test_document_view_narrow(snap_compare, explorer_project):
    assert snapshot(snap_compare, explorer_project, (80, 24), press=["enter"])
