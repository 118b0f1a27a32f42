"""A very large document in the explorer: how long its screen takes to open, and what it shows.

    .venv/bin/python bench/large_document_bench.py [--repeat 3]

One document of about 15 MB (a 5 MB string, a 4 MB string, 60 000 sub-documents in an array, 100 000
lines of text), opened in the TUI (headless, `run_test`, 120x36): from pressing Enter on its row until
the document screen is painted with its JSON, and the worst stall of the event loop meanwhile (a 10 ms
timer's lateness). The target (issue 25): the screen within a few seconds, intact. Before the cut
(`runway_tui/tui/long_text.py`) the same screen stayed empty for minutes.

Same SecantusDB daemon setup as bench/run.py (a child process on a free port).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CACHE, secantus_daemon  # noqa: E402

CONFIG = """\
scripts_dir: migrations
applications:
  bench:
    uri: "{uri}"
    database: large_document_bench
"""


def seed(uri: str) -> int:
    import bson
    from pymongo import MongoClient

    document = {"_id": 1, "blob": "x" * (5 * 1024 * 1024), "items": [{"n": i, "s": "y" * 50} for i in range(60_000)],
                "text": "\n".join(f"line {i}" for i in range(100_000)), "blob2": "z" * (4 * 1024 * 1024)}
    with MongoClient(uri) as client:
        client.large_document_bench.big.drop()
        client.large_document_bench.big.insert_many([document, {"_id": 2, "small": "ok"}])
    return len(bson.encode(document))


async def open_document(config_path: Path) -> dict[str, float]:
    from textual.widgets import DataTable

    from runway_tui.engine.config import load_config
    from runway_tui.tui.app import RunwayApp
    from runway_tui.tui.screens.collection import CollectionScreen
    from runway_tui.tui.screens.document import DocumentScreen

    config = load_config(config_path)
    app = RunwayApp(config.app(), config.tui, read_only=True)

    async def until(condition, what: str, timeout: float = 600) -> float:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise SystemExit(f"large document bench: timed out waiting for {what}")
            await asyncio.sleep(0.005)
        return time.monotonic()

    def painted() -> bool:
        if not isinstance(app.screen, DocumentScreen):
            return False
        strips = app.screen._compositor.render_strips()
        return any('"_id"' in "".join(segment.text for segment in strip) for strip in strips)

    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(lambda: app.snapshot is not None, "the first state")
            await pilot.press("2")
            table = app.main.query_one("#collections", DataTable)
            await until(lambda: "big" in [str(k.value) for k in table.rows], "the collections")
            await until(lambda: not app.working(), "the overview")
            table.move_cursor(row=[str(k.value) for k in table.rows].index("big"))
            started = time.monotonic()
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, CollectionScreen) and app.screen.page is not None,
                        "the first page")
            page_s = time.monotonic() - started
            worst = [0.0]
            last = [time.monotonic()]

            def tick() -> None:
                now = time.monotonic()
                worst[0] = max(worst[0], now - last[0] - 0.01)
                last[0] = now

            timer = app.set_interval(0.01, tick)
            started = time.monotonic()
            last[0] = started
            await pilot.press("enter")
            await until(painted, "the document screen")
            document_s = time.monotonic() - started
            timer.stop()
    finally:
        app.shutdown_engine()
    return {"first_page_s": page_s, "document_screen_s": document_s, "worst_stall_s": worst[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as work, secantus_daemon(Path(work)) as daemon:
        size = seed(daemon.uri)
        project = Path(work) / "project"
        (project / "migrations").mkdir(parents=True)
        config_path = project / "runway.yaml"
        config_path.write_text(CONFIG.format(uri=daemon.uri))
        runs = [asyncio.run(open_document(config_path)) for _ in range(args.repeat)]
    print(f"document: {size / 1e6:.1f} MB of BSON; {args.repeat} runs (120x36, headless)")
    for key in ("first_page_s", "document_screen_s", "worst_stall_s"):
        values = [run[key] for run in runs]
        print(f"  {key:<18} median {statistics.median(values):6.2f} s   (runs: "
              + ", ".join(f"{v:.2f}" for v in values) + ")")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
