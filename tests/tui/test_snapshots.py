"""SVG snapshots of the main states at 80x24 and 120x36 (regenerate deliberately: --snapshot-update).

Data is fixed: a fixed database name, clock, identity and shown address, and measured durations
overwritten in the database after the real engine applied the migrations.
"""

from __future__ import annotations

import pytest
from pymongo import MongoClient

from runway_tui.engine.config import load_config
from tests.tui.conftest import engine_for, make_app, normalise_durations, settle, write_standard


@pytest.fixture
def applied_project(fixed_project, mongo_client: MongoClient):
    """Three migrations, the first two applied by the real engine."""
    write_standard(fixed_project)
    with engine_for(load_config(fixed_project.config_path).app(fixed_project.app)) as engine:
        engine.upgrade(steps=2)
    normalise_durations(mongo_client, fixed_project.db_name)
    return fixed_project


def snapshot(snap_compare, project, size, press=(), **app_kwargs) -> bool:
    app = make_app(project, **app_kwargs)

    async def run_before(pilot) -> None:
        await settle(app, pilot)
        for key in press:
            await pilot.press(key)
            await settle(app, pilot)

    try:
        return snap_compare(app, run_before=run_before, terminal_size=size)
    finally:
        app.shutdown_engine()


def test_main_wide(snap_compare, applied_project):
    assert snapshot(snap_compare, applied_project, (120, 36))


def test_main_narrow(snap_compare, applied_project):
    assert snapshot(snap_compare, applied_project, (80, 24))


def test_confirm_up(snap_compare, applied_project):
    assert snapshot(snap_compare, applied_project, (120, 36), press=["u"])


def test_typed_confirm_production_narrow(snap_compare, applied_project):
    assert snapshot(snap_compare, applied_project, (80, 24), press=["d"], production=True, read_only=False)


def test_read_only_production_narrow(snap_compare, applied_project):
    assert snapshot(snap_compare, applied_project, (80, 24), production=True, read_only=True)


def test_keys_panel(snap_compare, applied_project):
    assert snapshot(snap_compare, applied_project, (120, 36), press=["question_mark"])
