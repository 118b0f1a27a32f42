"""Switch application without restarting: every application of the config with its version, pending and
problem counts, lock and reachability, each probed read-only in a background worker."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from runway_tui.engine.app import MigrationApp
from runway_tui.engine.config import Config
from runway_tui.engine.models import StatusReport
from runway_tui.engine.policy import Access
from runway_tui.engine.vocabulary import version_label
from runway_tui.tui.components.header_bar import PRODUCTION_BADGE
from runway_tui.tui.components.plain_table import PlainTable

COLUMNS = ("app", "database", "version", "pending", "problems", "lock", "server")


@dataclass(frozen=True)
class AppProbe:
    """What one read-only look at an application found (or why it could not look)."""

    version: str = "…"
    pending: str = "…"
    problems: str = "…"
    lock: str = "…"
    server: str = "probing…"

    @classmethod
    def of(cls, status: StatusReport, lock: str, server: str) -> AppProbe:
        counts = status.counts()
        problems = sum(counts.get(k, 0) for k in ("drift", "orphan", "failed", "interrupted", "broken",
                                                  "audit_mismatch"))
        return cls(version_label(status.current_version),
                   str(counts["pending"]), str(problems), lock, server)


def probe(config: Config, name: str) -> AppProbe:
    """Connect read-only, read the status and the lock, close. Never raises: a failure is the row's text.

    A probe runs no project code: the application's `app_events` handlers (an announcement, a backup) run
    when it is opened, never because someone looked at the list."""
    if name in config.applications and config.applications[name].fleet is not None:
        return AppProbe("—", "—", "—", "—", "a fleet of tenant databases: Enter opens the Fleet screen")
    try:
        engine = MigrationApp(config.app(name), access=Access(True, "probing for the application list"),
                              project_code=False)
    except Exception as exc:  # noqa: BLE001 - unreachable, bad config for that app...: one line in the row
        return AppProbe("—", "—", "—", "—", f"unreachable: {str(exc)[:120]}")
    try:
        lock = engine.lock_info()
        held = "free" if lock is None else f"{lock.user}@{lock.host}" + (" (expired)" if lock.expired else "")
        info = engine.server_info
        return AppProbe.of(engine.status(), held, f"MongoDB {info.version}, {info.topology}")
    except Exception as exc:  # noqa: BLE001
        return AppProbe("—", "—", "—", "—", f"error: {str(exc)[:120]}")
    finally:
        engine.close()


class AppsScreen(ModalScreen[str | None]):
    """enter switches to the highlighted application; esc keeps the current one."""

    BINDINGS = [Binding("escape", "close", "Close", show=False), Binding("q", "close", "Close", show=False),
                Binding("question_mark", "app.show_keys", "Keys", show=False)]  # (the app's ? stops at a dialog)

    def __init__(self, config: Config, current: str, current_probe: AppProbe | None = None) -> None:
        super().__init__()
        self.config = config
        self.current = current
        self.probes: dict[str, AppProbe] = {name: AppProbe() for name in config.app_names}
        if current_probe is not None:
            self.probes[current] = current_probe

    def compose(self) -> ComposeResult:
        with Vertical(id="apps-dialog", classes="dialog"):
            yield Label(Text("Applications"), id="dialog-title")
            yield PlainTable(cursor_type="row", id="apps-table", zebra_stripes=False)
            yield Label(Text("enter switches (the current one is marked ●) · esc keeps it · probed read-only",
                             style="dim"), id="apps-note")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in zip(COLUMNS, ("Application", "Database", "Version", "Pending", "Problems", "Lock",
                                        "Server"), strict=True):
            table.add_column(label, key=key)
        for name in self.config.app_names:
            table.add_row(*self._cells(name), key=name)
            if name == self.current:
                table.move_cursor(row=table.get_row_index(name))
        table.focus()
        for name in self.config.app_names:
            if name != self.current or self.probes[name].server == "probing…":
                self.probe_app(name)

    def _cells(self, name: str) -> tuple[Text | str, ...]:
        found = self.probes[name]
        app = self.config.applications.get(name)
        marker = "● " if name == self.current else "  "
        style = "bold" if name == self.current else ""
        label = Text(marker + name, style=style)
        if app is not None and app.production:  # the header's badge: production reads the same everywhere
            label.append(" ")
            label.append(" PRODUCTION ", style=PRODUCTION_BADGE)
        return (label,
                app.database if app is not None else "—", found.version, found.pending, found.problems,
                found.lock, Text(found.server, style="red" if found.server.startswith(("unreachable", "error"))
                                 else "dim"))

    @work(thread=True, group="apps-probe", exit_on_error=False)
    def probe_app(self, name: str) -> None:
        found = probe(self.config, name)
        self.app.call_from_thread(self._show, name, found)

    def _show(self, name: str, found: AppProbe) -> None:
        self.probes[name] = found
        if not self.is_attached:
            return
        table = self.query_one(DataTable)
        for key, value in zip(COLUMNS, self._cells(name), strict=True):
            table.update_cell(name, key, value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(str(event.row_key.value))

    def action_close(self) -> None:
        self.dismiss(None)
