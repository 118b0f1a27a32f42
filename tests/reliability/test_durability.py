"""What the tool reports applied survives a crash of the server right after: our writes (state, audit,
lock) and every step's commit use a durable write concern (majority, journaled) unless the config says
otherwise, and a migration's own writes through `ctx.db` inherit it.

The server is killed (SIGKILL) the moment `up --all` has exited 0, then restarted on the same data.
"""

from __future__ import annotations

import pytest
from pymongo import MongoClient

from tests.reliability.helpers import read_state, record_figures, write_counter_migrations
from tests.support.cli import run_cli
from tests.support.project import Project
from tests.support.server import ServerFactory

TOPOLOGY_FLAGS = {"replica-set": (), "standalone": ("--standalone",)}
MIGRATIONS = 10


def _crash_after_up(tmp_path, server_factory: ServerFactory, topology: str, trials: int) -> list[int]:
    server = server_factory.start(*TOPOLOGY_FLAGS[topology])
    survived = []
    for trial in range(trials):
        project = Project.create(tmp_path / f"p{trial}", uri=server.uri, db_name=f"durable_{trial}")
        write_counter_migrations(project, MIGRATIONS)
        result = run_cli("--config", str(project.config_path), "up", "--all", cwd=project.root)
        assert result.returncode == 0, result.stderr
        server.kill()  # at once: no clean shutdown, no checkpoint
        server.start()
        with MongoClient(server.uri, serverSelectionTimeoutMS=5000) as client:
            state = read_state(client, project.db_name)
        applied = len(state.applied)
        survived.append(applied)
        assert applied == MIGRATIONS, f"trial {trial}: {applied} of {MIGRATIONS} applied records survived"
        assert state.counter == MIGRATIONS and len(state.successes("UpgradeTransaction")) == MIGRATIONS
    server.stop()
    return survived


@pytest.mark.parametrize("topology", sorted(TOPOLOGY_FLAGS))
def test_reported_applied_survives_a_server_crash(topology: str, tmp_path, server_factory: ServerFactory) -> None:
    survived = _crash_after_up(tmp_path, server_factory, topology, trials=2)
    record_figures("durability", topology=topology, trials=len(survived), survived=survived)


@pytest.mark.slow
@pytest.mark.parametrize("topology", sorted(TOPOLOGY_FLAGS))
def test_reported_applied_survives_a_server_crash_ten_times(topology: str, tmp_path,
                                                            server_factory: ServerFactory) -> None:
    survived = _crash_after_up(tmp_path, server_factory, topology, trials=10)
    record_figures("durability", topology=topology, trials=len(survived), survived=survived)


WRITE_CONCERN = '''"""Records the write concern its ctx.db has"""
version = 1


def upgrade(ctx):
    ctx.db.seen.insert_one({"wc": ctx.db.write_concern.document}, session=ctx.session)


def downgrade(ctx):
    pass
'''


@pytest.mark.parametrize(("config", "expected"), [
    ("", {"w": "majority", "j": True}),
    ("    write_concern: {w: 1, j: false}\n", {"w": 1, "j": False}),
    ("    write_concern: {w: majority, j: true, wtimeout_ms: 5000}\n", {"w": "majority", "j": True,
                                                                      "wtimeout": 5000}),
], ids=["default", "relaxed", "with-timeout"])
def test_migrations_inherit_the_write_concern(config: str, expected: dict, project: Project,
                                              mongo_client: MongoClient) -> None:
    text = project.config_path.read_text().replace("    timeouts:\n", config + "    timeouts:\n", 1)
    project.config_path.write_text(text)
    project.write_migration(1, "write_concern", WRITE_CONCERN)
    result = run_cli("--config", str(project.config_path), "up", cwd=project.root)
    assert result.returncode == 0, result.stderr
    assert mongo_client[project.db_name].seen.find_one({})["wc"] == expected
