"""screenshots/rehearsal.svg: the Rehearsal screen of a small shop project on the embedded database.

    .venv/bin/python scripts/rehearsal_screenshot.py

Production (`shop`, 5000 users and 3000 orders) and the scratch are two databases on one embedded daemon in a
temporary folder; the migrations are the README's example. Durations are measured, so they vary per run.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pymongo import MongoClient  # noqa: E402

from runway_tui.engine.config import load_config  # noqa: E402
from runway_tui.engine.embedded import EmbeddedServer  # noqa: E402
from runway_tui.tui.app import RunwayApp  # noqa: E402
from runway_tui.tui.screens.rehearsal import RehearsalScreen  # noqa: E402

MIGRATIONS = {
    "001_backfill_status.py": '''"""Backfill users.status."""
version = 1


def upgrade(ctx):
    ctx.db["users"].update_many({"status": {"$exists": False}}, {"$set": {"status": "active"}}, session=ctx.session)


def downgrade(ctx):
    ctx.db["users"].update_many({}, {"$unset": {"status": ""}}, session=ctx.session)
''',
    "002_users_email_unique.py": '''"""A unique index on users.email."""
version = 2
transactional = False


def upgrade(ctx):
    ctx.db["users"].create_index("email", unique=True, name="email_unique")


def downgrade(ctx):
    ctx.db["users"].drop_index("email_unique")
''',
    "003_drop_cancelled_orders.py": '''"""Delete cancelled orders."""
version = 3


def upgrade(ctx):
    ctx.db["orders"].delete_many({"state": "cancelled"}, session=ctx.session)


def downgrade(ctx):
    pass
''',
}


async def session(app: RunwayApp, out: Path) -> None:
    async with app.run_test(size=(130, 40)) as pilot:
        for _ in range(600):
            await pilot.pause(0.05)
            if app.snapshot is not None and not app.working():
                break
        app.push_screen(RehearsalScreen())
        for _ in range(1200):
            await pilot.pause(0.05)
            screen = app.screen
            if isinstance(screen, RehearsalScreen) and screen.report is not None:
                break
        await pilot.pause(0.3)
        app.save_screenshot("rehearsal.svg", path=str(out))
        print("screenshots/rehearsal.svg")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="runway-rehearsal-shot-") as tmp:
        project = Path(tmp)
        (project / "migrations").mkdir()
        for name, body in MIGRATIONS.items():
            (project / "migrations" / name).write_text(body)
        (project / "runway.yaml").write_text("scripts_dir: migrations\napplications:\n  shop:\n    uri: embedded\n"
                                             "    database: shop\n    timeouts:\n      embedded_grace_s: 0\n"
                                             "tui:\n  redact_fields: [email]\n")
        daemon = EmbeddedServer(project / ".runway" / "embedded", 30.0, grace_s=0)
        uri = daemon.start()
        try:
            client: MongoClient = MongoClient(uri, directConnection=True)
            db = client["shop"]
            db["users"].insert_many([{"_id": i, "name": f"User {i}", "email": f"u{i % 4990}@example.com"}
                                     for i in range(5000)])
            db["orders"].insert_many([{"_id": i, "user": i % 5000, "state": "cancelled" if i % 7 == 0 else "paid"}
                                      for i in range(3000)])
            client.close()
            config = load_config(project / "runway.yaml")
            app_config = config.app("shop")
            app = RunwayApp(app_config, config.tui, read_only=False, address="embedded (.runway/embedded)",
                            poll_interval=3600)
            app.cursor_blink = False
            try:
                asyncio.run(session(app, ROOT / "screenshots"))
            finally:
                app.shutdown_engine()
        finally:
            daemon.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
