"""`runway-tui` with no command: resolve the config and read-only mode, run the app, always clean up."""

from __future__ import annotations

import argparse
import sys

from runway_tui.engine.config import load_config
from runway_tui.engine.errors import RunwayError
from runway_tui.engine.policy import resolve_access


def run_tui(args: argparse.Namespace) -> int:
    try:
        config = load_config(getattr(args, "config", None))
        for note in config.notes:  # a mongorunway.yaml's keys without meaning for us: seen again after the TUI
            sys.stderr.write(f"runway-tui: note: {note}\n")
        app_config = config.app(getattr(args, "app", None))
        access = resolve_access(app_config, read_only_flag=bool(getattr(args, "read_only", False)),
                                write_flag=bool(getattr(args, "write", False)))
    except RunwayError as exc:
        sys.stderr.write(f"runway-tui: {exc}\n")
        return int(exc.exit_code)
    from runway_tui.tui.app import RunwayApp  # Textual only on this path
    from runway_tui.tui.settings import settings_errors

    errors = settings_errors(config.tui, config.path, getattr(args, "theme", None))
    if errors:
        for error in errors:
            sys.stderr.write(f"runway-tui: {error}\n")
        return 2

    app = RunwayApp(app_config, config.tui, read_only=access.read_only, access=access,
                    theme=getattr(args, "theme", None), handle_signals=True, project_config=config,
                    launch_flags=(bool(getattr(args, "read_only", False)), bool(getattr(args, "write", False))))
    try:
        result = app.run()
    finally:
        app.shutdown_engine()
    return int(result or 0)
