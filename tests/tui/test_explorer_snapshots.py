"""SVG snapshots of the explorer's views on the seeded `people` collection (fixed ids, dates and values;
redaction on). Regenerate deliberately: --snapshot-update."""

from __future__ import annotations

import pytest
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


# ------------------------------------------------------------------ issue 27: new views, at both sizes
SIZES = [(80, 24), (120, 36)]
PIPELINE = "[{$sortByCount: '$status'}, {$sort: {count: -1, _id: 1}}]"


def aggregate_snapshot(snap_compare, project: Project, size, pipeline: str = PIPELINE) -> bool:
    with_redaction(project)
    app = make_app(project, read_only=True)

    async def run_before(pilot) -> None:
        from runway_tui.tui.components.aggregate_view import PipelineEditor

        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        table = app.main.query_one("#collections", DataTable)
        await wait_for(pilot, lambda: "logins" in [str(k.value) for k in table.rows])
        table.move_cursor(row=[str(k.value) for k in table.rows].index("logins"))
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("5")
        await settle(app, pilot)
        app.screen.query_one(PipelineEditor).text = pipeline
        await pilot.press("enter")
        await settle(app, pilot)

    try:
        return snap_compare(app, run_before=run_before, terminal_size=size)
    finally:
        app.shutdown_engine()


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_aggregate_view(snap_compare, explorer_project, size):
    assert aggregate_snapshot(snap_compare, explorer_project, size)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_aggregate_refused(snap_compare, explorer_project, size):
    assert aggregate_snapshot(snap_compare, explorer_project, size, "[{$group: {_id: '$email'}}]")


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_logins_documents_typed_cells(snap_compare, explorer_project, size):
    assert snapshot(snap_compare, explorer_project, size, collection="logins")


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_logins_schema_with_values(snap_compare, explorer_project, size):
    assert snapshot(snap_compare, explorer_project, size, press=["2"], collection="logins")


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_schema_filter_pick(snap_compare, explorer_project, size):
    assert snapshot(snap_compare, explorer_project, size, press=["2", *["down"] * 8, "enter"],  # mfa
                    collection="logins")


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_query_plan(snap_compare, explorer_project, size):
    assert snapshot(snap_compare, explorer_project, size, press=["e"], collection="logins")


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_column_picker(snap_compare, explorer_project, size):
    assert snapshot(snap_compare, explorer_project, size, press=["f"], collection="logins")
