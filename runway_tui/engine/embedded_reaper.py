"""`python -m runway_tui.engine.embedded_reaper FOLDER [DAEMON_PID]`: stops the folder's idle embedded daemon at
the end of its grace period (started by the last runway-tui process to leave it; see embedded.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from runway_tui.engine.embedded import EmbeddedServer


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2) or (len(argv) == 2 and not argv[1].isdigit()):
        sys.stderr.write("usage: python -m runway_tui.engine.embedded_reaper FOLDER [DAEMON_PID]\n")
        return 2
    EmbeddedServer(Path(argv[0])).reap(int(argv[1]) if len(argv) == 2 else 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
