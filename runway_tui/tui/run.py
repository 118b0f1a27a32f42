"""`runway-tui` with no command: resolve the config and read-only mode, run the app, always clean up."""

from __future__ import annotations

import argparse
import sys

from runway_tui.engine.config import AppConfig, load_config
from runway_tui.engine.errors import RunwayError


def resolve_read_only(app_config: AppConfig, *, read_only_flag: bool, write_flag: bool) -> bool:
    """Flag beats config; a production application opens read-only unless --write is given."""
    if read_only_flag:
        return True
    if write_flag:
        return False
    return app_config.production or app_config.read_only


def run_tui(args: argparse.Namespace) -> int:
    try:
        config = load_config(getattr(args, "config", None))
        app_config = config.app(getattr(args, "app", None))
    except RunwayError as exc:
        sys.stderr.write(f"runway-tui: {exc}\n")
        return int(exc.exit_code)
    if getattr(args, "read_only", False) and getattr(args, "write", False):
        sys.stderr.write("runway-tui: give only one of --read-only and --write\n")
        return 2
    read_only = resolve_read_only(app_config, read_only_flag=bool(getattr(args, "read_only", False)),
                                  write_flag=bool(getattr(args, "write", False)))
    from runway_tui.tui.app import RunwayApp  # Textual only on this path

    app = RunwayApp(app_config, config.tui, read_only=read_only, theme=getattr(args, "theme", None))
    try:
        result = app.run()
    finally:
        app.shutdown_engine()
    return int(result or 0)
