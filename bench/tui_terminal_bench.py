"""The TUI step in a real terminal: runway-tui in a tmux session (its own name), the same project as
bench/tui_bench.py (N no-op migrations, half applied, K audit entries), `u` then `y`, timed from sending `y`
until tmux's screen shows the new version in the header. The pane is read every ~20 ms (each read is a
process, on two cores); pane 1's row of the new version is usually out of sight at N=1000, and it is
painted in the same frame as the header.

    .venv/bin/python bench/tui_terminal_bench.py [--n 1000] [--audit 100000] [--steps 10] [--size 120x36]

What a person sees: the terminal's own rendering and the process's event loop are both in the figure.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CACHE, secantus_daemon  # noqa: E402
from tui_bench import prepare  # noqa: E402

VERSION = re.compile(r"version (\d+)")


def capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True,
                          check=False).stdout


def wait(session: str, done, what: str, timeout: float = 60.0) -> str:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        screen = capture(session)
        if done(screen):
            return screen
        time.sleep(0.02)
    raise SystemExit(f"tmux: {what} not on screen after {timeout}s:\n{capture(session)}")


def shown_version(screen: str) -> int | None:
    header = screen.splitlines()[1] if len(screen.splitlines()) > 1 else ""
    found = VERSION.search(header)
    return int(found.group(1)) if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--audit", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--size", default="120x36")
    args = parser.parse_args()
    width, height = args.size.split("x")
    CACHE.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="tui-term-", dir=CACHE))
    session = f"runway-bench-{os.getpid()}"
    with secantus_daemon(workdir) as daemon:
        config = prepare(workdir / "project", daemon.uri, args.n, args.audit, 180.0, args.n // 2)
        path = os.environ.get("PYTHONPATH")  # (a tmux server started earlier does not have this process's env)
        command = (f"env PYTHONPATH={shlex.quote(path)} " if path else "") + \
            f"{shlex.quote(sys.executable)} -m runway_tui --config {shlex.quote(str(config))} --app bench"
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", width, "-y", height, command], check=True)
        try:
            opened = time.perf_counter()
            wait(session, lambda s: shown_version(s) == args.n // 2, "the first state")
            first = time.perf_counter() - opened
            delays = []
            for _ in range(args.steps):
                before = shown_version(capture(session)) or 0
                subprocess.run(["tmux", "send-keys", "-t", session, "u"], check=True)
                wait(session, lambda s: "[y]" in s and "Cancel [n]" in s, "the dialog")
                sent = time.perf_counter()
                subprocess.run(["tmux", "send-keys", "-t", session, "y"], check=True)
                wait(session, lambda s, v=before + 1: shown_version(s) == v, "the new version")
                delays.append(time.perf_counter() - sent)
                time.sleep(0.3)
        finally:
            subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=False)
            time.sleep(1.0)
            subprocess.run(["tmux", "kill-session", "-t", session], check=False, capture_output=True)
    print(f"real terminal ({args.size}), N={args.n}, {args.audit} audit entries: first state on screen "
          f"{first:.2f}s; y -> the header shows the new version: median "
          f"{statistics.median(delays) * 1000:.0f} ms, worst {max(delays) * 1000:.0f} ms ({len(delays)} steps: "
          f"{', '.join(f'{d * 1000:.0f}' for d in delays)})")


if __name__ == "__main__":
    main()
