"""A throw-away runway project (runway.yaml + migrations/) for one test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CONFIG_TEMPLATE = """\
scripts_dir: migrations
default_app: {app}
applications:
  {app}:
    uri: "{uri}"
    database: {db_name}
    migrations_collection: migrations
    auditlog_collection: auditlog
    lock_collection: migrations_lock
    auditlog_limit: null
    read_only: false
    production: false
    timeouts:
      server_selection_ms: 5000
      connect_ms: 5000
      socket_ms: 0
      lock_wait_s: 5
      lock_ttl_s: 5
      embedded_start_s: 30
      embedded_grace_s: 0
tui:
  theme: textual-dark
  poll_interval_s: 2.0
  log_max_lines: 5000
  keymap: {{}}
"""


@dataclass
class Project:
    root: Path
    config_path: Path
    scripts_dir: Path
    uri: str
    db_name: str
    app: str = "test"

    @classmethod
    def create(cls, root: Path, uri: str, db_name: str, app: str = "test") -> Project:
        root.mkdir(parents=True, exist_ok=True)
        scripts_dir = root / "migrations"
        scripts_dir.mkdir(exist_ok=True)
        config_path = root / "runway.yaml"
        config_path.write_text(CONFIG_TEMPLATE.format(app=app, uri=uri, db_name=db_name))
        return cls(
            root=root, config_path=config_path, scripts_dir=scripts_dir, uri=uri, db_name=db_name, app=app
        )

    def write_migration(self, version: int, slug: str, body: str) -> Path:
        """Write `migrations/NNN_slug.py` with `body` verbatim and return its path."""
        path = self.scripts_dir / f"{version:03d}_{slug}.py"
        path.write_text(body)
        return path
