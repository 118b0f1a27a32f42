"""Opening the terminal UI from the command line (the only path that imports Textual)."""

from __future__ import annotations

import argparse


def launch_tui(args: argparse.Namespace) -> int:
    from runway_tui.tui.run import run_tui

    return run_tui(args)
