"""The state at a moment: which versions were applied then, from the audit log alone, beside what holds now.

Read in its own worker (one aggregation on the audit log); the rows that differ from now are marked, so an
incident review reads "what changed since" at a glance. Esc goes back.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static
from textual.worker import get_current_worker

from runway_tui.engine.state_at import StateAt
from runway_tui.engine.timespec import TimeSpec
from runway_tui.tui.explorer import explain
from runway_tui.tui.format import short_name, version_text, when

STATE_STYLES = {"applied": "green", "pending": "", "forgotten": "magenta"}


class StateAtScreen(Screen[None]):
    BINDINGS = [Binding("escape", "back", "Back", id="state-at-back"),
                Binding("q", "back", "Back", show=False),
                Binding("j", "cursor('down')", "Down", show=False),
                Binding("k", "cursor('up')", "Up", show=False)]

    def __init__(self, at: TimeSpec, now: dict[int, str] | None = None) -> None:
        super().__init__()
        self.at = at
        self.now = now or {}  # the current state of each version (from the state shown), to compare
        self.state: StateAt | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="detail"):
            yield Label(Text.assemble(("State at ", "dim"), (self.at.text, "bold"),
                                      ("  · from the audit log · read only", "dim")),
                        id="state-at-title", classes="detail-title")
            yield Static(Text("reading the audit log…", style="italic dim"), id="state-at-summary")
            table = DataTable(cursor_type="row", id="state-at-table", classes="detail-box")
            table.border_title = "Versions the audit log had changed by then"
            yield table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in (("version", "Ver"), ("name", "Name"), ("then", "Then"), ("now", "Now"),
                           ("since", "Since (UTC)"), ("action", "Action"), ("who", "User@host")):
            table.add_column(label, key=key)  # then and now side by side: what changed since reads first
        table.focus()
        self.load()

    @work(thread=True, name="state-at", group="inspect-state-at", exclusive=True, exit_on_error=False)
    def load(self) -> None:
        engine = getattr(self.app, "engine", None)
        if engine is None:
            self.app.call_from_thread(self._failed, "not connected (r retries)")
            return
        try:
            state = engine.state_at(self.at)
        except Exception as exc:  # noqa: BLE001 - shown in place, never a crash
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._failed, explain(exc))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show, state)

    def _failed(self, message: str) -> None:
        self.query_one("#state-at-summary", Static).update(Text(message, style="red"))

    def show(self, state: StateAt) -> None:
        self.state = state
        title = self.query_one("#state-at-title", Label)
        title.update(Text.assemble(("State at ", "dim"), (f"{when(state.at, seconds=True)} UTC", "bold"),
                                   (f"  ({self.at.text})" if self.at.moment is None else "", "dim"),
                                   ("  · from the audit log · read only", "dim")))
        changed = sum(1 for v in state.versions if self.now and self.now.get(v.version, "no record") != v.state
                      and (v.state, self.now.get(v.version, "no record")) != ("forgotten", "no record"))
        summary = Text.assemble(("version ", "dim"), (version_text(state.current_version)
                                                      if state.current_version is not None else "none", "bold"),
                                (f" then · {len(state.applied)} applied", ""),
                                (f" · {changed} differ from now (marked)" if changed else "", "yellow"))
        if not state.versions:
            summary = Text("no migration had been applied or changed by then", style="dim")
        self.query_one("#state-at-summary", Static).update(summary)
        table = self.query_one(DataTable)
        table.clear()
        for v in state.versions:
            now = self.now.get(v.version, "no record")
            differs = bool(self.now) and now != v.state and (v.state, now) != ("forgotten", "no record")
            table.add_row(version_text(v.version), short_name(v.name, v.version),
                          Text(v.state, style=STATE_STYLES.get(v.state, "")),
                          Text(("≠ " if differs else "") + now, style="bold yellow" if differs else "dim"),
                          when(v.since, seconds=True), v.action, f"{v.user}@{v.host}" if v.user else "—",
                          key=str(v.version))

    def action_back(self) -> None:
        self.dismiss(None)

    def action_cursor(self, where: str) -> None:
        self.query_one(DataTable).run_action(f"cursor_{where}")
