"""Shared fixtures: a SecantusDB daemon per session, a fresh database and project per test, a CLI runner.

Set RUNWAY_TEST_MONGODB_URI to run the suite against another server instead of starting `secantusd-py`.
"""

from __future__ import annotations

import os
import re
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from tests.support import waiting
from tests.support.cli import run_cli
from tests.support.project import Project
from tests.support.server import Server, ServerFactory

URI_ENV = "RUNWAY_TEST_MONGODB_URI"


def pytest_configure(config: pytest.Config) -> None:
    """A suite started in the background of a non-interactive shell (`make test &`, nohup, some CI runners)
    inherits SIGINT ignored, and so would every runway-tui it starts: the Ctrl-C tests would see nothing
    happen and the run finish (exit 0). A handler of our own is reset to the default in each child, as in
    a terminal."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def mongo_uri() -> Iterator[str]:
    """URI of the session's server: $RUNWAY_TEST_MONGODB_URI, or a `secantusd-py` started here."""
    external = os.environ.get(URI_ENV)
    if external:
        yield external
        return
    server = Server("--enable-test-commands")
    try:
        server.start()
        yield server.uri
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def mongo_client(mongo_uri: str) -> Iterator[MongoClient]:
    client: MongoClient = MongoClient(mongo_uri, serverSelectionTimeoutMS=5000)
    yield client
    client.close()


@pytest.fixture
def db_name(request: pytest.FixtureRequest, mongo_client: MongoClient) -> Iterator[str]:
    """A unique database name for this test (`t_<test>_<8 hex>`, <= 60 chars); dropped afterwards."""
    slug = re.sub(r"[^A-Za-z0-9_]+", "_", request.node.name).strip("_")
    suffix = uuid.uuid4().hex[:8]
    name = f"t_{slug}"[: 60 - 9] + f"_{suffix}"
    yield name
    mongo_client.drop_database(name)


@pytest.fixture(scope="session")
def server_factory() -> Iterator[ServerFactory]:
    """Start extra daemons: `server_factory.start("--standalone")`; all are stopped at session end."""
    factory = ServerFactory()
    yield factory
    factory.stop_all()


@pytest.fixture
def project(tmp_path: Path, mongo_uri: str, db_name: str) -> Project:
    """`<tmp>/project/runway.yaml` (app `test`, lock ttl/wait 5 s) and an empty `migrations/`."""
    return Project.create(tmp_path / "project", uri=mongo_uri, db_name=db_name)


class BoundCli:
    """`cli("status", "--json")` runs `python -m runway_tui --config <project config> status --json`."""

    def __init__(self, project: Project) -> None:
        self.project = project

    def __call__(self, *args: str, cwd=None, env=None, timeout: float = 60):
        return run_cli(
            "--config", str(self.project.config_path), *args,
            cwd=cwd if cwd is not None else self.project.root,
            env=env,
            timeout=timeout,
        )  # fmt: skip


@pytest.fixture
def cli(project: Project) -> BoundCli:
    return BoundCli(project)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """A failed (or timed-out) test reports what it was waiting for (`tests.support.waiting`)."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and (waiting.INTERRUPTED or waiting.WAITING):
        lines = [f"interrupted while waiting for {what}" for what in waiting.INTERRUPTED]
        lines += [f"still waiting for {what}" for what in waiting.WAITING]
        report.sections.append(("what the test was waiting for", "\n".join(lines)))
    waiting.INTERRUPTED.clear()


# ------------------------------------------------------------------ the explorer's seeded data (issue 12)
@pytest.fixture(scope="session")
def explorer_db(mongo_client: MongoClient) -> Iterator[str]:
    """One seeded database for every explorer test (read only, so shared by the session)."""
    from tests.support.explorer_data import SEED_DB, seed

    seed(mongo_client, SEED_DB)
    yield SEED_DB
    mongo_client.drop_database(SEED_DB)


@pytest.fixture(scope="session")
def explorer_big_db(mongo_client: MongoClient) -> Iterator[str]:
    """100k documents for paging, inserted in bulk once per session (about 5 s)."""
    from tests.support.explorer_data import BIG_DB, seed_big

    seed_big(mongo_client, BIG_DB)
    yield BIG_DB
    mongo_client.drop_database(BIG_DB)


@pytest.fixture
def explorer_project(tmp_path: Path, mongo_uri: str, explorer_db: str) -> Project:
    """A project on the seeded database (no migrations): open the TUI or the engine on it."""
    return Project.create(tmp_path / "explorer", uri=mongo_uri, db_name=explorer_db)


@pytest.fixture
def explorer_big_project(tmp_path: Path, mongo_uri: str, explorer_big_db: str) -> Project:
    return Project.create(tmp_path / "explorer-big", uri=mongo_uri, db_name=explorer_big_db)


@pytest.fixture(scope="session")
def auth_server(server_factory: ServerFactory) -> Iterator[dict[str, str]]:
    """A daemon with `--auth`: users are made before the restart with auth on (SecantusDB's way), then
    `reader` has only `read` on the seeded database. Yields the URIs of `reader` and of `admin` (root)."""
    from tests.support.explorer_data import SEED_DB, seed

    plain = server_factory.start()
    with MongoClient(plain.uri, serverSelectionTimeoutMS=5000) as client:
        seed(client, SEED_DB)
        client.admin.command("createUser", "admin", pwd="admin-pw", roles=["root"])
        client[SEED_DB].command("createUser", "reader", pwd="reader-pw", roles=[{"role": "read", "db": SEED_DB}])
    plain.stop()
    secured = server_factory.start("--auth", storage_path=plain.storage_path)
    address = f"127.0.0.1:{secured.port}"
    yield {"reader": f"mongodb://reader:reader-pw@{address}/?directConnection=true&authSource={SEED_DB}",
           "admin": f"mongodb://admin:admin-pw@{address}/?directConnection=true&authSource=admin",
           "database": SEED_DB}
