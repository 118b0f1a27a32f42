"""Other operators' changes: on a replica set the TUI watches runway's collections with a change stream
and shows another engine's step without waiting for the poll; on a standalone server it polls, and the
header says which one is in use."""

from __future__ import annotations

import asyncio
import threading

import pytest

from runway_tui.engine.config import load_config
from runway_tui.engine.connection import ServerInfo
from runway_tui.engine.models import StatusReport
from runway_tui.tui.components.header_bar import HeaderState, render_header
from tests.support.project import Project
from tests.support.waiting import wait_until_async
from tests.tui.conftest import engine_for, make_app, settle, write_standard
from tests.tui.test_app import SIZE, header_text, log_text


@pytest.fixture(scope="module")
def standalone_uri(server_factory) -> str:
    return server_factory.start("--standalone").uri


async def test_another_operators_step_shows_at_once_with_the_poll_an_hour_away(project, tui_app):
    write_standard(project, 3)
    app = tui_app(poll=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await wait_until_async(lambda: app.live, "the change stream to open", pause=pilot.pause)
        assert "· live" in header_text(app)
        assert app.snapshot is not None and app.snapshot.status.current_version is None
        with engine_for(load_config(project.config_path).app(project.app)) as other:
            other.upgrade(all_=True)  # three steps: many changes, coalesced
        await wait_until_async(lambda: "version 003" in header_text(app), "the other operator's version",
                               pause=pilot.pause)
        assert "version changed elsewhere: — -> 003" in log_text(app)
        await wait_until_async(lambda: app.audit is not None and len(app.audit.entries) == 3,
                               "the other operator's three audit entries", pause=pilot.pause)
    app.shutdown_engine()
    assert app._watch_done.is_set()  # the watching thread has left: nothing outlives the app


async def test_a_burst_of_changes_is_a_few_reloads_never_two_at_once(project, tui_app):
    """Another operator's run of ten steps is dozens of changes: the TUI reads the state far fewer times,
    one read at a time, and ends on the run's last version.

    The first read is held until the burst is over, and each step of the burst is seen by the stream before
    the next one starts: what would otherwise depend on how fast reads are against changes is fixed."""
    for version in range(1, 11):
        project.write_migration(version, f"m{version}", f'"""m{version}"""\nversion = {version}\n\n\n'
                                "def upgrade(ctx):\n    pass\n\n\ndef downgrade(ctx):\n    pass\n")
    app = tui_app(poll=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await wait_until_async(lambda: app.live, "the change stream to open", pause=pilot.pause)
        await settle(app, pilot)
        seen, reads, running = [0], [0], [0, 0]  # changes; reads; [now, most at once]
        lock, hold = threading.Lock(), threading.Event()
        real_seen, real_read = app._live_seen, app.read_snapshot

        def counted_seen(kinds):
            seen[0] += 1
            real_seen(kinds)

        def counted_read(engine):
            with lock:
                reads[0] += 1
                running[0] += 1
                running[1] = max(running)
                first = reads[0] == 1
            try:
                if first:
                    hold.wait(60)  # the first read lasts as long as the burst
                return real_read(engine)
            finally:
                with lock:
                    running[0] -= 1

        app._live_seen, app.read_snapshot = counted_seen, counted_read
        loop = asyncio.get_running_loop()
        try:
            with engine_for(load_config(project.config_path).app(project.app)) as other:
                for version in range(1, 11):
                    before = seen[0]
                    await loop.run_in_executor(None, lambda: other.upgrade(steps=1))
                    await wait_until_async(lambda b=before: seen[0] > b, f"the stream to see step {version}",
                                           pause=pilot.pause)
        finally:
            hold.set()
        await wait_until_async(lambda: "version 010" in header_text(app), "the run's last version",
                               pause=pilot.pause)
        await settle(app, pilot)
    assert running[1] == 1  # never two reads at once
    assert seen[0] >= 10 and 1 <= reads[0] <= 2, (reads, seen)  # the held read, then one for all the rest


async def test_a_standalone_server_is_polled_and_the_header_says_so(tmp_path, standalone_uri, db_name):
    project = Project.create(tmp_path / "standalone", uri=standalone_uri, db_name=db_name)
    write_standard(project, 1)
    app = make_app(project, poll=0.3)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            assert not app.live and "· polling 0.3s" in header_text(app)
            with engine_for(load_config(project.config_path).app(project.app)) as other:
                other.upgrade()
            await wait_until_async(lambda: "version 001" in header_text(app), "the poll to show the new version",
                                   pause=pilot.pause)
            assert "live" not in header_text(app)
    finally:
        app.shutdown_engine()
        from pymongo import MongoClient

        with MongoClient(standalone_uri) as client:
            client.drop_database(db_name)


def header(refresh: str) -> str:
    state = HeaderState("production-eu", "orders", "mongodb://db.test:27017", True, True,
                        ServerInfo("8.0.4", "replica set", "rs0", "db.test", True), StatusReport([], 12),
                        connection="connected", refresh=refresh)
    return render_header(state).plain


@pytest.mark.parametrize(("refresh", "shown"), [("live", "· live"), ("polling 2s", "· polling 2s")])
def test_the_header_says_how_changes_arrive_within_80_columns(refresh, shown):
    second = header(refresh).splitlines()[1]
    assert second.rstrip().endswith(shown)
    assert len(second) <= 80
