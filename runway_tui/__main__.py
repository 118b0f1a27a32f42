"""`python -m runway_tui` is the `runway-tui` command."""

from runway_tui.cli.main import entry

entry()
