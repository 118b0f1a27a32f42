"""The seed scenario, exactly as shipped in examples/use_api.py, on a fresh project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pymongo import MongoClient

from tests.support.shapes import printed_session_ids

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "use_api.py"


def run_example(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120, env=env,
                          stdin=subprocess.DEVNULL)


def test_seed_scenario_against_a_server(mongo_uri: str, mongo_client: MongoClient, db_name: str) -> None:
    # The sample config's database is runway_demo; the example points only the URI at our server.
    mongo_client.drop_database("runway_demo")
    try:
        result = run_example({"RUNWAY_EXAMPLE_URI": mongo_uri})
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == "created examples/migrations/001_my_awesome_migration.py"
        entry = next(line for line in lines if line.startswith("MigrationAuditlogEntry("))
        (session_id,) = printed_session_ids(entry)
        audit_ids = [bytes(doc["session_id"]) for doc in mongo_client["runway_demo"]["auditlog"].find()]
        assert audit_ids == [session_id]  # what was printed is the stored UUID, whatever bytes it holds
        assert "transaction_name='UpgradeTransaction'" in entry
        assert "name='001_my_awesome_migration', version=1" in entry
        assert "exc_name=None" in entry
        # The closing handler runs exactly once, after everything else.
        assert lines.count("'dev' app successfully closed.") == 1
        assert lines[-1] == "'dev' app successfully closed."
        audit = list(mongo_client["runway_demo"]["auditlog"].find())
        assert len(audit) == 1 and audit[0]["session_id"].subtype == 4
    finally:
        mongo_client.drop_database("runway_demo")


def test_seed_scenario_on_the_embedded_database() -> None:
    result = run_example({"RUNWAY_EXAMPLE_URI": ""})
    assert result.returncode == 0, result.stderr
    assert "transaction_name='UpgradeTransaction'" in result.stdout
    assert result.stdout.rstrip().endswith("'dev' app successfully closed.")
