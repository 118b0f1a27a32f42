"""`runway-tui` with no command: resolve the config and read-only mode, run the app, always clean up."""

from __future__ import annotations

import argparse
import sys

from runway_tui.engine.config import AppConfig, Config, load_config, with_lock_wait
from runway_tui.engine.errors import ConfigError, RunwayError
from runway_tui.engine.messages import visible
from runway_tui.engine.policy import Access, resolve_access


def run_tui(args: argparse.Namespace) -> int:
    from runway_tui.tui.settings import theme_flag_error, tui_names  # Textual's names: only on this path

    flag_error = theme_flag_error(getattr(args, "theme", None))
    try:
        config = load_config(getattr(args, "config", None), tui_names=tui_names())
        for note in config.notes:  # a mongorunway.yaml's keys without meaning for us: seen again after the TUI
            sys.stderr.write(f"runway-tui: note: {visible(note)}\n")
        app_config = with_lock_wait(config.app(getattr(args, "app", None)), getattr(args, "lock_wait", None))
        access = resolve_access(app_config, read_only_flag=bool(getattr(args, "read_only", False)),
                                write_flag=bool(getattr(args, "write", False)))
    except RunwayError as exc:
        problems = exc.problems if isinstance(exc, ConfigError) else [str(exc)]
        for problem in problems + ([flag_error] if flag_error else []):  # every problem, one line each
            sys.stderr.write(f"runway-tui: {visible(problem, keep_tabs=True)}\n")
        return int(exc.exit_code)
    if flag_error:
        sys.stderr.write(f"runway-tui: {flag_error}\n")
        return 2
    if app_config.fleet is not None:  # many tenant databases: the Fleet screen (tui/screens/fleet.py)
        return run_fleet_tui(app_config, config, access, args)
    from runway_tui.tui.app import RunwayApp  # the app itself only once the settings are known good

    app = RunwayApp(app_config, config.tui, read_only=access.read_only, access=access,
                    theme=getattr(args, "theme", None), handle_signals=True, project_config=config,
                    launch_flags=(bool(getattr(args, "read_only", False)), bool(getattr(args, "write", False))))
    try:
        result = app.run()
    finally:
        app.shutdown_engine()
    if isinstance(result, tuple):  # `a` chose a fleet application: its Fleet screen (tui/screens/fleet.py)
        return run_fleet_tui(config.app(result[1]), config, access, args)
    return int(result or 0)


def run_fleet_tui(app_config: AppConfig, config: Config, access: Access, args: argparse.Namespace) -> int:
    """The Fleet screen; Enter on a tenant opens the usual four panes on it, and leaving them comes back here.
    (`access` is the launched application's; the fleet's own is decided from the same flags, for its config.)"""
    from runway_tui.engine.fleet.facade import Fleet
    from runway_tui.engine.fleet.targets import tenant_config
    from runway_tui.tui.app import RunwayApp
    from runway_tui.tui.screens.fleet import FleetApp

    fleet = Fleet(app_config, read_only_flag=bool(getattr(args, "read_only", False)),
                  write_flag=bool(getattr(args, "write", False)))
    theme = getattr(args, "theme", None) or config.tui.theme
    while True:
        tenant = FleetApp(fleet, poll_interval=config.tui.poll_interval_s, theme=theme).run()
        if tenant is None:
            return 0
        single = tenant_config(app_config, app_config.fleet.targets[tenant.cluster_index], tenant.database)
        app = RunwayApp(single, config.tui, read_only=fleet.access.read_only, access=fleet.access, theme=theme,
                        handle_signals=True)
        try:
            app.run()
        finally:
            app.shutdown_engine()
