"""Switching application without restarting (`a`): pick one in the list, then the engine, the panes and
the access rule start over for it, exactly as a fresh launch with the same flags would.

Mixed into `RunwayApp`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runway_tui.engine.errors import RunwayError
from runway_tui.engine.models import StatusReport
from runway_tui.engine.policy import resolve_access
from runway_tui.tui.components.header_bar import HeaderState
from runway_tui.tui.screens.apps import AppProbe, AppsScreen
from runway_tui.tui.state import UiState

if TYPE_CHECKING:
    from runway_tui.tui.host import Host

WORKER_GROUPS = ("reads", "audit", "overview", "lock", "files")  # results of the old engine are dropped


class AppSwitching:
    def request_switch_app(self: Host) -> None:
        config = self.project_config
        if config is None or len(config.app_names) < 2:
            self.notify("only one application in the config", timeout=3)
            return
        if self.state.busy is not None:
            self.notify(f"busy: {self.state.busy.label}", severity="warning", timeout=3, markup=False)
            return
        current = None
        if self.snapshot is not None and self.engine is not None:
            lock = self.snapshot.lock
            held = "free" if lock is None else f"{lock.user}@{lock.host}" + (" (expired)" if lock.expired else "")
            info = self.engine.server_info
            current = AppProbe.of(self.snapshot.status, held, f"MongoDB {info.version}, {info.topology}")

        def chosen(name: str | None) -> None:
            if name and name != self.app_config.name:
                self.switch_app(name)

        self.push_screen(AppsScreen(config, self.app_config.name, current), chosen)

    def switch_app(self: Host, name: str) -> None:
        """Close this application's engine (in the connect worker) and open `name` with the launch flags."""
        config = self.project_config
        assert config is not None
        if self.state.busy is not None:
            self.notify(f"busy: {self.state.busy.label}", severity="warning", timeout=3, markup=False)
            return
        try:
            app_config = config.app(name)
            access = resolve_access(app_config, read_only_flag=self.launch_flags[0], write_flag=self.launch_flags[1])
        except RunwayError as exc:
            self.notify(f"cannot open {name}: {exc}", severity="error", markup=False)
            return
        self.stop_watch()
        for group in WORKER_GROUPS:
            self.workers.cancel_group(self, group)
        stale, self.engine, self.snapshot = self.engine, None, None
        self.app_config, self.access, self.production = app_config, access, app_config.production
        self.header_state = HeaderState(app_config.name, app_config.database,
                                        "embedded" if app_config.is_embedded else app_config.masked_uri,
                                        access.read_only, app_config.production)
        self.main.audit_pane.reset()
        self.main.database_pane.reset()
        self.init_live()
        self.files_shown = False
        self.main.migrations.show(StatusReport([], None))
        self.set_state(UiState(access.read_only))
        self.update_header()
        mode = "read-only" if access.read_only else "writes allowed"
        self.log_line("info", f"switching to {name} ({self.header_state.address}, database "
                              f"{app_config.database}, {mode})")
        self.connect_engine(stale)
