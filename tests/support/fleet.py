"""A throw-away fleet project: one application whose `fleet:` block lists tenant databases on one or two
servers, with a control database of its own (issue 22)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from pymongo import MongoClient

from tests.support.cli import REPO_ROOT, run_cli


@dataclass
class FleetProject:
    root: Path
    config_path: Path
    scripts_dir: Path
    prefix: str  # every tenant database of this test starts with it
    control_db: str
    clients: list[MongoClient] = field(default_factory=list)

    @classmethod
    def create(cls, root: Path, targets: list[tuple[str, str]], control_uri: str, *, concurrency: int = 4,
               max_failures: int = 0, waves: str | None = None, ttl_s: float = 5, wait_s: float = 5,
               selection_ms: int = 5000, prefix: str | None = None) -> FleetProject:
        """`targets`: (uri, databases selector in YAML flow style); `{prefix}` in a selector is replaced."""
        prefix = prefix or f"f{uuid.uuid4().hex[:6]}"
        root.mkdir(parents=True, exist_ok=True)
        scripts = root / "migrations"
        scripts.mkdir(exist_ok=True)
        control_db = f"{prefix}_control"
        lines = ["scripts_dir: migrations", "default_app: tenants", "applications:", "  tenants:", "    fleet:",
                 "      targets:"]
        for uri, selector in targets:
            lines += [f"        - uri: \"{uri}\"", f"          databases: {selector.replace('{prefix}', prefix)}"]
        lines += [f"      concurrency: {concurrency}", f"      max_failures: {max_failures}",
                  f"      control: {{uri: \"{control_uri}\", database: {control_db}}}"]
        if waves:
            lines.append(f"      waves: {waves.replace('{prefix}', prefix)}")
        lines += ["    timeouts:", f"      server_selection_ms: {selection_ms}", f"      connect_ms: {selection_ms}",
                  f"      lock_wait_s: {wait_s}", f"      lock_ttl_s: {ttl_s}", "      embedded_grace_s: 0"]
        config = root / "runway.yaml"
        config.write_text("\n".join(lines) + "\n")
        return cls(root, config, scripts, prefix, control_db)

    def write_migration(self, version: int, slug: str, body: str) -> Path:
        path = self.scripts_dir / f"{version:03d}_{slug}.py"
        path.write_text(body)
        return path

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return run_cli("--config", str(self.config_path), *args, cwd=self.root, timeout=timeout)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """A runner started in the background (two of them are started together)."""
        import os

        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), NO_COLOR="1", COLUMNS="160")
        return subprocess.Popen([sys.executable, "-m", "runway_tui", "--config", str(self.config_path), *args],
                                cwd=self.root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


def make_tenants(uri: str, names: list[str]) -> None:
    """Tenant databases exist once they hold something."""
    with MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
        for name in names:
            client[name]["seed"].insert_one({"tenant": name})


def drop_prefixed(uri: str, prefix: str) -> None:
    with MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
        for name in client.list_database_names():
            if name.startswith(prefix):
                client.drop_database(name)


def versions(uri: str, names: list[str]) -> dict[str, list[int]]:
    """The applied versions each tenant's migrations collection records."""
    with MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
        return {name: sorted(doc["_id"] for doc in client[name]["migrations"].find({"is_applied": True}))
                for name in names}


def as_json(result: subprocess.CompletedProcess[str]) -> dict:
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"not JSON (exit {result.returncode}): {result.stdout!r} / {result.stderr!r}") from exc
