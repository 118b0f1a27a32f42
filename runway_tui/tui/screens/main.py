"""The main screen: header, four panes, footer. Owns the feature keys so that modals suspend them."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input, RichLog

from runway_tui.tui import audit_tools, flows, row_view, switcher
from runway_tui.tui.audit_search import AuditSearch, AuditSearchError
from runway_tui.tui.bindings import main_bindings
from runway_tui.tui.components.audit_pane import AuditPane, AuditTable
from runway_tui.tui.components.database_pane import CollectionsTable, DatabasePane
from runway_tui.tui.components.header_bar import HeaderBar
from runway_tui.tui.components.keys_footer import KeysFooter
from runway_tui.tui.components.live_log import LiveLog
from runway_tui.tui.components.migrations_table import MigrationsTable
from runway_tui.tui.guard import WriteGuard
from runway_tui.tui.screens.collection import CollectionScreen
from runway_tui.tui.screens.detail import AuditDetailScreen, MigrationDetailScreen
from runway_tui.tui.screens.server import ServerScreen

PANES = {
    "migrations": ("#migrations-pane", "#migrations"),
    "database": ("#database-pane", "#collections"),
    "audit": ("#audit-pane", "#audit"),
    "log": ("#log-pane", "#log"),
}


class MainScreen(WriteGuard, Screen[None]):
    BINDINGS = [*main_bindings(), Binding("escape", "back", "Back", show=False)]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    AUTO_FOCUS = "#migrations"

    def compose(self) -> ComposeResult:
        yield HeaderBar(id="header")
        with Container(id="panes"):
            with Vertical(id="migrations-pane", classes="pane") as pane:
                pane.border_title = "[1] Migrations"
                yield Input(placeholder="filter migrations (version, name, state) · Esc clears",
                            id="migrations-filter", classes="filter-input")
                yield MigrationsTable(id="migrations")
            database = DatabasePane(id="database-pane", classes="pane")
            database.border_title = "[2] Database"
            yield database
            audit = AuditPane(id="audit-pane", classes="pane")
            audit.border_title = "[3] Audit log"
            yield audit
            log = LiveLog(self.runway.tui_config.log_max_lines, id="log-pane", classes="pane")
            log.border_title = "[4] Live log"
            yield log
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        for box in self.query(Input):
            box.cursor_blink = self.runway.cursor_blink
        self.runway.start()

    # ------------------------------------------------------------------ the panes (what the app hands state down to)
    @property
    def header(self) -> HeaderBar:
        return self.query_one(HeaderBar)

    @property
    def migrations(self) -> MigrationsTable:
        return self.query_one(MigrationsTable)

    @property
    def database_pane(self) -> DatabasePane:
        return self.query_one(DatabasePane)

    @property
    def audit_pane(self) -> AuditPane:
        return self.query_one(AuditPane)

    @property
    def live_log(self) -> LiveLog:
        return self.query_one(LiveLog)

    # ------------------------------------------------------------------ navigation
    def action_focus_pane(self, name: str) -> None:
        self.query_one(PANES[name][1]).focus()

    def focused_pane(self) -> str | None:
        for name, (pane, _) in PANES.items():
            if self.query_one(pane).has_focus_within:
                return name
        return None

    def action_filter(self) -> None:
        pane = self.focused_pane()
        target = pane if pane in ("audit", "log", "database") else "migrations"
        box = self.query_one("#collections-filter" if target == "database" else f"#{target}-filter", Input)
        box.display = True
        box.focus()

    def action_back(self) -> None:
        if self.runway.state.lock_wait:  # esc first cancels a wait for another runner's lock
            self.runway.cancel_lock_wait()
            return
        focused = self.focused
        if isinstance(focused, Input):
            self._close_filter(focused, clear=True)
            return
        pane = self.focused_pane()  # esc in a list clears the filter it shows
        if pane in ("migrations", "audit", "log", "database"):
            box = self.query_one("#collections-filter" if pane == "database" else f"#{pane}-filter", Input)
            if box.value:
                self._close_filter(box, clear=True)

    def _close_filter(self, box: Input, clear: bool) -> None:
        if clear and box.value:
            box.value = ""
            if box.id == "audit-filter":
                self.audit_pane.set_filter("")
            if box.id == "log-filter":
                self.query_one(LiveLog).set_text_filter("")
        if box.id == "migrations-filter":
            self.query_one(MigrationsTable).set_filter(box.value)
        if box.id == "collections-filter":
            self.query_one(CollectionsTable).set_filter(box.value)
        box.display = bool(box.value)
        self.query_one({"audit-filter": "#audit", "log-filter": "#log", "collections-filter": "#collections"}.get(
            box.id or "", "#migrations")).focus()

    @on(Input.Changed, "#migrations-filter")
    def _migrations_filter(self, event: Input.Changed) -> None:
        self.query_one(MigrationsTable).set_filter(event.value)

    @on(Input.Submitted, "#migrations-filter")
    def _migrations_filter_done(self, event: Input.Submitted) -> None:
        self._close_filter(event.input, clear=False)

    @on(Input.Changed, "#log-filter")
    def _log_filter(self, event: Input.Changed) -> None:
        self.query_one(LiveLog).set_text_filter(event.value)

    @on(Input.Submitted, "#log-filter")
    def _log_filter_done(self, event: Input.Submitted) -> None:
        self._close_filter(event.input, clear=False)

    @on(Input.Changed, "#collections-filter")
    def _collections_filter(self, event: Input.Changed) -> None:
        self.query_one(CollectionsTable).set_filter(event.value)

    @on(Input.Submitted, "#collections-filter")
    def _collections_filter_done(self, event: Input.Submitted) -> None:
        self._close_filter(event.input, clear=False)

    @on(Input.Submitted, "#audit-filter")
    def _audit_filter(self, event: Input.Submitted) -> None:
        try:
            AuditSearch.parse(event.value)
        except AuditSearchError as exc:  # said at once; the line stays to be corrected
            self.notify(f"audit filter: {exc}", severity="error", timeout=6, markup=False)
            return
        self.audit_pane.set_filter(event.value.strip())
        self._close_filter(event.input, clear=False)

    # ------------------------------------------------------------------ detail screens
    @on(DataTable.RowSelected, "#migrations")
    def _open_migration(self) -> None:
        row = self.query_one(MigrationsTable).selected_row
        if row is not None:
            self.app.push_screen(MigrationDetailScreen(row))

    @on(DataTable.RowSelected, "#collections")
    def _open_collection(self) -> None:
        name = self.query_one(CollectionsTable).selected_name
        if name is not None:
            self.app.push_screen(CollectionScreen(name))

    @on(DataTable.RowSelected, "#audit")
    def _open_audit(self) -> None:
        entry = self.query_one(AuditTable).selected_entry
        if entry is not None:
            self.app.push_screen(AuditDetailScreen(entry))

    # ------------------------------------------------------------------ actions (delegated to the app)
    def action_migrate_up(self) -> None:
        flows.request_step(self.runway, "up")

    def action_migrate_down(self) -> None:
        flows.request_step(self.runway, "down")

    def action_migrate_to(self, direction: str) -> None:
        flows.request_step_to(self.runway, direction)

    def action_plan(self) -> None:
        flows.request_plan(self.runway)

    def action_rehearse(self) -> None:
        from runway_tui.tui.screens.rehearsal import RehearsalScreen

        self.app.push_screen(RehearsalScreen())

    def action_refresh(self) -> None:
        flows.request_refresh(self.runway)

    def action_backfill_pause(self) -> None:
        flows.toggle_backfill_pause(self.runway)

    def action_backfill_cancel(self) -> None:
        flows.cancel_backfill(self.runway)

    def action_new_migration(self) -> None:
        flows.request_new_migration(self.runway)

    def action_edit_migration(self) -> None:
        flows.edit_selected(self.runway)

    def action_mark(self, applied: bool) -> None:
        flows.request_mark(self.runway, applied)

    def action_accept_drift(self) -> None:
        flows.request_accept(self.runway)

    def action_forget(self) -> None:
        flows.request_forget(self.runway)

    def action_unlock(self) -> None:
        flows.request_unlock(self.runway)

    def action_wide_view(self) -> None:
        wide = self.query_one(MigrationsTable).toggle_wide()
        self.query_one("#panes").set_class(wide, "-wide-migrations")
        pane = self.query_one("#migrations-pane")
        pane.border_title = "[1] Migrations · wide" if wide else "[1] Migrations"

    def action_status_filter(self) -> None:
        self.query_one(MigrationsTable).cycle_status_filter()  # the pane's subtitle says which

    def action_next_problem(self) -> None:
        table = self.query_one(MigrationsTable)
        table.focus()
        row = table.select_next_problem()
        if row is None:
            self.notify("no migration has a problem" + (" in this filter" if table.filter_text else ""),
                        timeout=2)

    def action_copy_name(self) -> None:
        row_view.copy_name(self)

    def action_show_row(self) -> None:
        row_view.show_row(self)

    def action_log_follow(self) -> None:
        following = self.query_one(LiveLog).toggle_follow()
        self.notify("live log: following" if following else "live log: paused", timeout=2)

    def action_log_level(self) -> None:
        level = self.query_one(LiveLog).cycle_level()
        self.notify(f"live log: showing {level} and above", timeout=2)

    def action_audit_page(self, delta: int) -> None:
        self.audit_pane.turn(delta)

    def action_audit_export(self) -> None:
        audit_tools.request_export(self)

    def action_state_at(self) -> None:
        audit_tools.request_state_at(self)

    def action_switch_app(self) -> None:
        switcher.request_switch_app(self.runway)

    def action_server_info(self) -> None:
        self.app.push_screen(ServerScreen())

    def action_show_keys(self) -> None:
        self.runway.show_keys()

    def action_quit_app(self) -> None:
        flows.request_quit(self.runway)


__all__ = ["MainScreen", "RichLog"]
