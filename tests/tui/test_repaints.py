"""What a step costs the screen, counted (never timed): the header repaints alone, and only when its text
changes; the footer is rebuilt only when a key it shows changes; the keys greyed a moment late never let a
write through; a quick step is shown by its result, not by rows rebuilt twice."""

from __future__ import annotations

from textual.screen import Screen

from runway_tui.tui.bridge import Running
from runway_tui.tui.components.header_bar import HeaderBar
from runway_tui.tui.components.keys_footer import KeysFooter
from runway_tui.tui.components.migrations_table import MARK_AFTER_S, MigrationsTable
from tests.tui.conftest import settle, write_standard
from tests.tui.helpers import gated, notifications, wait_for
from tests.tui.test_app import SIZE, header_text


def _count(monkeypatch, cls: type, name: str) -> list[int]:
    """Calls of `cls.name` from now on (the real method still runs)."""
    calls = [0]
    real = getattr(cls, name)

    def counted(self, *args, **kwargs):
        calls[0] += 1
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, counted)
    return calls


async def test_the_header_repaints_alone_and_only_when_its_text_changes(project, tui_app, monkeypatch):
    write_standard(project, 1)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        updates, layouts = _count(monkeypatch, HeaderBar, "update"), _count(monkeypatch, Screen, "_refresh_layout")
        for _ in range(5):  # what each engine event of a step asks for
            app.update_header()
        await pilot.pause()
        assert updates == [0] and layouts == [0]
        app.header_state.address = "db-2.example:27017"  # what the header shows changed
        app.update_header()
        app.update_header()
        await pilot.pause()
        assert updates == [1] and layouts == [0]  # one repaint of two lines; nothing else re-arranged
        assert "db-2.example:27017" in header_text(app)


async def test_the_footer_is_rebuilt_only_when_a_key_it_shows_changes(project, tui_app):
    write_standard(project, 1)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        footer = app.main.query_one(KeysFooter)
        keys = list(footer.children)
        assert keys
        app.main.refresh_bindings()  # focus moving, a dialog closing: nothing the footer shows changed
        await pilot.press("2", "1")
        await settle(app, pilot)
        assert list(footer.children) == keys  # the same widgets: not removed and mounted again
        app.set_state(app.state.lost())  # disconnected: the writes are greyed, at once
        await wait_for(pilot, lambda: any(key.has_class("-disabled") for key in footer.query("FooterKey")))
        assert list(footer.children) != keys


async def test_a_write_pressed_as_a_step_starts_is_refused_with_its_reason(project, tui_app, tmp_path):
    """The keys grey a moment after a step starts (a quick one never greys them); a key pressed before is
    refused all the same, and says why."""
    gate = tmp_path / "release"
    project.write_migration(1, "gated", gated(1, gate))
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await wait_for(pilot, lambda: app.screen is not app.main)
        await pilot.press("y")
        await wait_for(pilot, lambda: app.state.running_step)
        await pilot.press("u")  # again while the step runs: its keys greyed already, or not yet
        await wait_for(pilot, lambda: "busy: running up" in notifications(app))
        assert app.screen is app.main and app.state.running_step  # no second dialog, nothing else started
        gate.touch()
        await settle(app, pilot)
        assert "version 001" in header_text(app)


async def test_a_quick_step_is_shown_by_its_result_not_by_rows_rebuilt_twice(project, tui_app, monkeypatch):
    """`▶ applying` is wider than `✓ applied`: marking the running row re-fits every row, and so does clearing
    it. A step that ends before the mark would show (what the bridge reports of a no-op step) rebuilds
    nothing; one that lasts is marked."""
    write_standard(project, 3)
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.main.query_one(MigrationsTable)
        renders = _count(monkeypatch, MigrationsTable, "_render_rows")
        table.mark_running(Running(3, "up", 1, 1))
        table.mark_running(None)  # it ended before the mark showed
        table.run_ended()
        await pilot.pause(MARK_AFTER_S * 2)
        assert renders == [0] and table.running is None
        table.mark_running(Running(3, "up", 1, 1))  # this one lasts
        await wait_for(pilot, lambda: table.running is not None)
        assert str(table.get_row("v3")[0]).startswith("▶") and renders == [1]
