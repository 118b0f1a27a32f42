"""The peer itself works against the test server: the ground the other interop tests stand on."""

from __future__ import annotations

from pymongo import MongoClient

from tests.support.mongorunway_peer import MongorunwayProject


def test_mongorunway_creates_refreshes_and_upgrades_on_the_test_server(
        mongorunway_project: MongorunwayProject, mongo_client: MongoClient) -> None:
    project = mongorunway_project
    for name in ("first", "second"):
        made = project.run("create-template", project.app, "-n", name)
        assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in project.migrations.glob("0*.py")) == ["001_first.py", "002_second.py"]
    assert project.run("refresh", project.app).returncode == 0
    upgraded = project.run("upgrade", project.app, "all")
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    records = list(mongo_client[project.database]["migrations"].find({}, sort=[("_id", 1)]))
    assert [(r["_id"], r["name"], r["is_applied"]) for r in records] == [
        (1, "001_first", True), (2, "002_second", True)]
    assert mongo_client[project.database]["auditlog"].count_documents({}) == 2
    version = project.run("version", project.app)
    assert "Current applied version is 2" in version.stdout + version.stderr
