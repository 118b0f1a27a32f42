"""Acting where the evidence is: the repairs and the steps from a migration's detail screen (where its drift
diff and its error are read), the plan dialog that runs exactly the plan it shows, the revert dialog that
shows the downgrade and the collections it touches, and read-only refusals that say which rule applies and
how to lift it. Pilot against the real engine and the test SecantusDB."""

from __future__ import annotations

import contextlib
import dataclasses

from runway_tui.engine.config import load_config
from runway_tui.engine.errors import RunwayError
from runway_tui.engine.policy import resolve_access
from runway_tui.tui.app import RunwayApp
from runway_tui.tui.components.migrations_table import MigrationsTable
from runway_tui.tui.screens.confirm import ConfirmScreen
from runway_tui.tui.screens.detail import MigrationDetailScreen
from runway_tui.tui.screens.error import ErrorScreen
from tests.support.waiting import wait_until_async
from tests.tui.conftest import ADDRESS, FAILING, engine_for, fixed_clock, settle, write_standard
from tests.tui.helpers import notifications
from tests.tui.test_app import SIZE, states


def other_engine(project):
    return engine_for(load_config(project.config_path).app(project.app))


def facts(screen: MigrationDetailScreen) -> str:
    return str(screen.query_one("#migration-facts").render())


async def open_detail(app, pilot, version: int) -> MigrationDetailScreen:
    app.main.query_one(MigrationsTable).select_version(version)
    await pilot.press("1", "enter")
    await settle(app, pilot)
    assert isinstance(app.screen, MigrationDetailScreen) and app.screen.row.version == version
    return app.screen


async def test_repairs_from_the_detail_screen_act_on_its_migration(project, tui_app):
    write_standard(project, 1)
    project.write_migration(2, "always_fails", FAILING.format(v=2))
    with other_engine(project) as other, contextlib.suppress(RunwayError):
        other.upgrade(all_=True)  # 001 applied, 002 failed (its error is on its record)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.main.query_one(MigrationsTable).select_version(1)  # pane 1 points elsewhere: the detail decides
        detail = await open_detail(app, pilot, 2)
        app.main.query_one(MigrationsTable).select_version(1)
        assert "boom" in facts(detail)
        await pilot.press("M")
        assert isinstance(app.screen, ConfirmScreen) and app.screen.request.title == "Mark 002 as applied?"
        await pilot.press("y")
        await settle(app, pilot)
        assert app.screen is detail and states(app)[2] == "applied"
        await wait_until_async(lambda: "✓ applied" in facts(detail), "the detail to follow the mark",
                               pause=pilot.pause)
        audit = detail.query_one("#migration-audit")
        await wait_until_async(lambda: audit.row_count == 2, "the mark in the detail's audit entries",
                               pause=pilot.pause)
        assert str(audit.get_row_at(0)[1]) == "mark applied"
        await pilot.press("P", "y")
        await settle(app, pilot)
        assert states(app)[2] == "pending"
        await pilot.press("A")  # no drift here: said, nothing asked
        assert app.screen is detail and "002 has no drift" in notifications(app)


async def test_accept_the_drift_read_in_the_detail(project, tui_app):
    write_standard(project, 2)
    with other_engine(project) as other:
        other.upgrade(all_=True)
    path = project.scripts_dir / "001_create_things.py"
    path.write_text(path.read_text() + "# edited after it was applied\n")
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        detail = await open_detail(app, pilot, 1)
        await wait_until_async(lambda: detail.diff_text, "the drift diff", pause=pilot.pause)
        await pilot.press("A", "y")
        await settle(app, pilot)
        await wait_until_async(lambda: "✓ match" in facts(detail), "the detail to show the checksums match",
                               pause=pilot.pause)
        assert detail.diff_text == ""


async def test_up_to_and_revert_from_the_detail_screen(project, tui_app):
    write_standard(project, 3)
    with other_engine(project) as other:
        other.upgrade(steps=1)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        detail = await open_detail(app, pilot, 3)
        await pilot.press("d")  # not applied: nothing to revert
        assert app.screen is detail and "003 is not applied" in notifications(app)
        await pilot.press("u")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen) and dialog.request.title == f"Apply 2 migrations to {project.db_name}?"
        assert [s.split(":")[0] for s in dialog.request.steps] == ["up 002 index_things", "up 003 seed_things"]
        await pilot.press("y")
        await settle(app, pilot)
        assert states(app) == {1: "applied", 2: "applied", 3: "applied"}
        await pilot.press("escape")
        detail = await open_detail(app, pilot, 2)
        await pilot.press("d")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen) and dialog.request.title.startswith("Revert 2 migrations")
        assert dialog.request.steps[0].startswith("down 003 seed_things") and \
            dialog.request.steps[0].endswith("· touches things")
        body = dialog.body_text()
        assert "downgrade() of 003_seed_things, as the file has it (j/k scroll):" in body
        assert 'ctx.db["things"].delete_many({}, session=ctx.session)' in body
        assert 'ctx.db["things"].drop_index("name_1", session=ctx.session)' in body
        await pilot.press("y")
        await settle(app, pilot)
        assert states(app) == {1: "applied", 2: "pending", 3: "pending"}


async def test_the_revert_dialog_shows_the_downgrade_and_what_it_touches(project, tui_app):
    write_standard(project, 3)
    with other_engine(project) as other:
        other.upgrade(all_=True)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        assert ("Touches", "things") in dialog.request.facts
        assert dialog.request.sources == [("downgrade() of 003_seed_things, as the file has it (j/k scroll):",
                                           'def downgrade(ctx):\n    ctx.db["things"].delete_many({}, '
                                           'session=ctx.session)')]
        await pilot.press("n")


async def test_the_plan_dialog_runs_exactly_the_plan_it_shows(project, tui_app):
    write_standard(project, 3)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        assert dialog.request.title == f"Plan: 'up all' would apply 3 migration(s) to {project.db_name}"
        assert dialog.request.confirm_label == "Apply this plan" and len(dialog.request.steps) == 3
        with other_engine(project) as other:  # the database moves while the plan is on screen
            other.upgrade(steps=1)
        await pilot.press("y")
        await settle(app, pilot)
        said = notifications(app)
        assert "The database moved since the confirmation" in said and "nothing was run" in said, said
        assert states(app) == {1: "applied", 2: "pending", 3: "pending"}
        await pilot.press("p")
        await settle(app, pilot)
        assert len(app.screen.request.steps) == 2
        await pilot.press("y")
        await settle(app, pilot)
        assert states(app) == {1: "applied", 2: "applied", 3: "applied"}
        await pilot.press("p")  # nothing left: the plan only says so
        await settle(app, pilot)
        assert isinstance(app.screen, ErrorScreen) and "'up all' has nothing to run" in app.screen.shown_text


async def test_read_only_plan_is_shown_never_run_and_the_detail_hides_repairs(project, tui_app):
    write_standard(project, 2)
    app = tui_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        assert isinstance(app.screen, ErrorScreen) and app.screen.title_text == "Plan (nothing was run)"
        await pilot.press("escape")
        detail = await open_detail(app, pilot, 1)
        shown = {ab.binding.id for ab in detail.active_bindings.values() if ab.binding.id}
        assert {"detail-up-to", "mark-applied", "accept-drift"}.isdisjoint(shown)
        await pilot.press("M")
        assert app.screen is detail and "read-only: this would write to the database — " in notifications(app)


def app_with_access(project, *, read_only_flag=False, write_flag=False, **overrides) -> RunwayApp:
    config = load_config(project.config_path)
    app_config = dataclasses.replace(config.app(project.app), **overrides)
    access = resolve_access(app_config, read_only_flag=read_only_flag, write_flag=write_flag)
    app = RunwayApp(app_config, config.tui, read_only=access.read_only, access=access, clock=fixed_clock,
                    address=ADDRESS, poll_interval=3600,
                    engine_factory=lambda: engine_for(app_config, access.read_only))
    app.cursor_blink = False
    return app


async def test_a_read_only_refusal_names_the_rule_and_how_to_lift_it(project):
    write_standard(project, 1)
    cases = [({"production": True}, "test is a production application; reopen runway-tui with --write to write "
                                    "(each write then asks you to type the database name)"),
             ({"read_only_flag": True}, "runway-tui was opened with --read-only; reopen it without --read-only to "
                                        "write"),
             ({"read_only": True}, "read_only: true is set for test in runway.yaml; only the config lifts it (set "
                                   "read_only: false there, then reopen)")]
    for kwargs, rule in cases:
        app = app_with_access(project, **kwargs)
        try:
            async with app.run_test(size=SIZE) as pilot:
                await settle(app, pilot)
                await pilot.press("u")
                assert f"read-only: this would write to the database — {rule}" in notifications(app), kwargs
                await pilot.press("e")
                assert f"read-only: files are not edited in this mode — {rule}" in notifications(app)
        finally:
            app.shutdown_engine()


async def test_the_typed_confirmation_does_not_show_the_answer(project, tui_app):
    write_standard(project, 1)
    app = tui_app(production=True, read_only=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await settle(app, pilot)
        box = app.screen.query_one("#typed")
        assert box.value == "" and project.db_name not in box.placeholder
        assert project.db_name in str(app.screen.query_one("#typed-hint").render())  # said once, above
        await pilot.press("escape")
