"""`python -m runway_tui.engine.embedded_reaper FOLDER`: stops the folder's idle embedded daemon at the
end of its grace period (started by the last runway-tui process to leave it; see embedded.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from runway_tui.engine.embedded import EmbeddedServer


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m runway_tui.engine.embedded_reaper FOLDER\n")
        return 2
    EmbeddedServer(Path(argv[0])).reap()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
