"""Switching application without restarting (`a`): pick one in the list, then the engine, the panes and
the access rule start over for it, exactly as a fresh launch with the same flags would.

Functions over the app (`Host`).
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


def request_switch_app(host: Host) -> None:
    config = host.project_config
    if config is None or len(config.app_names) < 2:
        host.notify("only one application in the config", timeout=3)
        return
    if host.state.busy is not None:
        host.notify(f"busy: {host.state.busy.label}", severity="warning", timeout=3, markup=False)
        return
    current = None
    if host.snapshot is not None and host.engine is not None:
        lock = host.snapshot.lock
        held = "free" if lock is None else f"{lock.user}@{lock.host}" + (" (expired)" if lock.expired else "")
        info = host.engine.server_info
        current = AppProbe.of(host.snapshot.status, held, f"MongoDB {info.version}, {info.topology}")

    def chosen(name: str | None) -> None:
        if name and name != host.app_config.name:
            switch_app(host, name)

    host.push_screen(AppsScreen(config, host.app_config.name, current), chosen)

def switch_app(host: Host, name: str) -> None:
    """Close this application's engine (in the connect worker) and open `name` with the launch flags."""
    config = host.project_config
    assert config is not None
    if host.state.busy is not None:
        host.notify(f"busy: {host.state.busy.label}", severity="warning", timeout=3, markup=False)
        return
    try:
        app_config = config.app(name)
        access = resolve_access(app_config, read_only_flag=host.launch_flags[0], write_flag=host.launch_flags[1])
    except RunwayError as exc:
        host.notify(f"cannot open {name}: {exc}", severity="error", markup=False)
        return
    if app_config.fleet is not None:  # many tenant databases: tui/run.py opens the Fleet screen on it
        host.exit(("fleet", name))  # type: ignore[arg-type]
        return
    host.stop_watch()
    for group in WORKER_GROUPS:
        host.workers.cancel_group(host, group)
    stale, host.engine, host.snapshot = host.engine, None, None
    host.app_config, host.access, host.production = app_config, access, app_config.production
    host.header_state = HeaderState(app_config.name, app_config.database,
                                    "embedded" if app_config.is_embedded else app_config.masked_uri,
                                    access.read_only, app_config.production)
    host.main.audit_pane.reset()
    host.main.database_pane.reset()
    host.init_live()
    host.files_shown = False
    host.main.migrations.show(StatusReport([], None))
    host.set_state(UiState(access.read_only))
    host.update_header()
    mode = "read-only" if access.read_only else "writes allowed"
    host.log_line("info", f"switching to {name} ({host.header_state.address}, database "
                          f"{app_config.database}, {mode})")
    host.connect_engine(stale)
