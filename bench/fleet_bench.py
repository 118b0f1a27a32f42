"""Fleet figures (issue 22): `fleet up` of one small migration on N tenant databases against the wrapper-script
way (N `runway-tui up --config ...` processes one after another, one config per tenant), and `fleet status`
of M tenants. Same daemon, one run each.

    .venv/bin/python bench/fleet_bench.py --tenants 200 --status-tenants 500

Prints wall seconds and the ratio; the issue asks for fleet up <= 0.2x the wrapper way, fleet status of 500
tenants <= 5 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import REPO, secantus_daemon  # noqa: E402

MIGRATION = '''"""add an index and a field"""
version = 1


def upgrade(ctx):
    ctx.db.users.create_index("email")
    ctx.db.users.update_many({}, {"$set": {"plan": "free"}}, session=ctx.session)


def downgrade(ctx):
    ctx.db.users.drop_index("email_1")
'''

TIMEOUTS = """    timeouts: {lock_wait_s: 30, lock_ttl_s: 30, embedded_grace_s: 0}
"""


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "runway_tui", "--config", str(config), *args], cwd=config.parent,
                          env=env, capture_output=True, text=True, check=False)


def seed(uri: str, names: list[str]) -> None:
    from pymongo import MongoClient

    with MongoClient(uri) as client:
        for name in names:
            client[name]["users"].insert_many([{"email": f"u{i}@{name}"} for i in range(5)])


def project(root: Path, body: str) -> Path:
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "001_email_index.py").write_text(MIGRATION)
    config = root / "runway.yaml"
    config.write_text("scripts_dir: migrations\napplications:\n" + body)
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--status-tenants", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--status-only", action="store_true", help="only `fleet status` (no up, no wrapper way)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fleet-bench-"))
    with secantus_daemon(work) as daemon:
        uri = daemon.uri
        wrapper_names = [f"wrap_{i:04d}" for i in range(args.tenants)]
        fleet_names = [f"fleet_{i:04d}" for i in range(args.tenants)]
        fleet = project(work / "fleet", f"  tenants:\n    fleet:\n      targets:\n        - uri: \"{uri}\"\n"
                                        "          databases: {match: \"fleet_*\"}\n"
                                        f"      concurrency: {args.concurrency}\n{TIMEOUTS}")
        if args.status_only:
            seed(uri, [f"fleet_{i:04d}" for i in range(args.status_tenants)])
            status(fleet, args.status_tenants)
            return
        seed(uri, wrapper_names + fleet_names)

        # the wrapper-script way: one config per tenant, one process after another
        apps = "".join(f"  {name}:\n    uri: \"{uri}\"\n    database: {name}\n{TIMEOUTS}" for name in wrapper_names)
        wrapper = project(work / "wrapper", apps)
        started = time.perf_counter()
        for name in wrapper_names:
            result = cli(wrapper, "up", "--app", name)
            if result.returncode != 0:
                raise SystemExit(f"up --app {name}: exit {result.returncode}: {result.stderr[-500:]}")
        wrapper_s = time.perf_counter() - started

        started = time.perf_counter()
        result = cli(fleet, "fleet", "up")
        fleet_s = time.perf_counter() - started
        if result.returncode != 0:
            raise SystemExit(f"fleet up: exit {result.returncode}: {result.stderr[-1000:]}")
        print(f"fleet up, {args.tenants} tenants, concurrency {args.concurrency}: {fleet_s:.2f} s; "
              f"{args.tenants} x 'runway-tui up' one after another: {wrapper_s:.2f} s; "
              f"ratio {fleet_s / wrapper_s:.3f} (issue: <= 0.2)")

        more = [f"fleet_{i:04d}" for i in range(args.tenants, args.status_tenants)]
        seed(uri, more)
        status(fleet, args.status_tenants)


def status(fleet: Path, tenants: int) -> None:
    started = time.perf_counter()
    result = cli(fleet, "fleet", "status", "--json")
    status_s = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"fleet status: exit {result.returncode}: {result.stderr[-1000:]}")
    print(f"fleet status, {tenants} tenants: {status_s:.2f} s (issue: <= 5 s)")


if __name__ == "__main__":
    main()
