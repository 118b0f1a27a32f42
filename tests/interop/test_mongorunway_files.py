"""Mongorunway's migration files under both tools: the real Mongorunway 1.0.7a0 runs the templates
runway-tui writes in a Mongorunway project, and runway-tui (with no Mongorunway installed) runs a realistic
Mongorunway project to exactly the database state Mongorunway itself reaches, both ways."""

from __future__ import annotations

import importlib.util
import json
import re
from typing import Any

from pymongo import MongoClient
from pymongo.database import Database

from runway_tui.compat.mongorunway.storage import SIDE_SUFFIX
from runway_tui.engine.evidence import evidence_collection
from runway_tui.engine.sources import sources_collection
from tests.support.cli import run_cli
from tests.support.mongorunway_files import write_mongorunway_project
from tests.support.mongorunway_peer import MongorunwayProject

OWN = {"migrations", "auditlog", "migrations_lock", "migrations" + SIDE_SUFFIX, "auditlog" + SIDE_SUFFIX,
       sources_collection("migrations"), evidence_collection("auditlog")}


def runway_config(project: MongorunwayProject, database: str, strategy: str = "numerical") -> str:
    """Until mongorunway.yaml is read (issue 10d): a runway.yaml beside it, with the project's conventions."""
    path = project.root / "runway.yaml"
    path.write_text(f"compat: mongorunway\nfilename_strategy: {strategy}\nscripts_dir: {project.scripts_dir}\n"
                    f"applications:\n  test:\n    uri: \"{project.uri}\"\n    database: {database}\n", encoding="utf-8")
    return str(path)


def runway(config: str, *args: str, cwd: Any) -> Any:
    result = run_cli("--config", config, *args, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def mongorunway(project: MongorunwayProject, *args: str, expect: str | None = None) -> str:
    result = project.run(*args)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    if expect is not None:
        assert expect in output, output
    return output


def snapshot(db: Database) -> dict[str, Any]:
    """The user's data as a reader sees it: documents (ids aside), indexes and collection options."""
    state = {}
    for name in sorted(set(db.list_collection_names()) - OWN):
        docs = sorted(json.dumps({k: v for k, v in d.items() if k != "_id"}, sort_keys=True) for d in db[name].find())
        indexes = {n: (i["key"], i.get("unique", False)) for n, i in db[name].index_information().items()}
        state[name] = {"documents": docs, "indexes": indexes, "options": db[name].options()}
    return state


def test_runway_tui_templates_run_under_mongorunway_both_ways(mongorunway_project: MongorunwayProject,
                                                             mongo_client: MongoClient) -> None:
    project = mongorunway_project
    config = runway_config(project, project.database)
    made = runway(config, "new", "create items", "--description", "Create the items collection.", cwd=project.root)
    path = project.migrations / "001_create_items.py"
    assert str(path) in made.stdout
    text = path.read_text()
    path.write_text(text.replace("return []", 'return [mongorunway.create_collection("items")]', 1)
                    .replace("return []", 'return [mongorunway.drop_collection("items")]', 1))

    mongorunway(project, "refresh", "test", expect="migration(s) was successfully synced")
    mongorunway(project, "upgrade", "test", "all", expect="Successfully upgraded 1 migration(s)")
    db = mongo_client[project.database]
    assert "items" in db.list_collection_names()
    assert db["migrations"].find_one({"_id": 1}, {"_id": 0, "name": 1, "description": 1, "is_applied": 1}) == {
        "name": "001_create_items", "description": "Create the items collection.", "is_applied": True}
    mongorunway(project, "downgrade", "test", "all", expect="Successfully downgraded 1 migration(s)")
    assert "items" not in db.list_collection_names()


def test_unix_timestamp_files_made_by_either_tool_run_under_both(mongorunway_project: MongorunwayProject,
                                                                 mongo_client: MongoClient, db_name: str) -> None:
    project = mongorunway_project
    project.filename_strategy = "mongorunway.UnixFilenameStrategy"
    project.write_config()
    mongorunway(project, "create-template", "test", "-n", "first")
    ours = f"{db_name[:50]}_rt"
    config = runway_config(project, ours, strategy="unix_timestamp")
    runway(config, "new", "second", cwd=project.root)
    names = sorted(p.name for p in project.migrations.glob("*.py") if not p.name.startswith("_"))
    assert [re.sub(r"^\d{10,}", "<ts>", n) for n in names] == ["<ts>_first.py", "<ts>_second.py"]

    mongorunway(project, "refresh", "test")
    mongorunway(project, "upgrade", "test", "all", expect="Successfully upgraded 2 migration(s)")
    mongorunway(project, "downgrade", "test", "all", expect="Successfully downgraded 2 migration(s)")
    try:
        status = json.loads(runway(config, "--json", "status", cwd=project.root).stdout)
        assert [(r["version"], r["format"], r["broken_reason"]) for r in status["migrations"]] == [
            (1, "mongorunway", None), (2, "mongorunway", None)]
        up = json.loads(runway(config, "--json", "up", "--all", cwd=project.root).stdout)
        assert up["ok"] and up["current_version"] == 2
    finally:
        mongo_client.drop_database(ours)


def test_a_mongorunway_project_reaches_the_same_state_under_both_tools(mongorunway_project: MongorunwayProject,
                                                                       mongo_client: MongoClient,
                                                                       db_name: str) -> None:
    assert importlib.util.find_spec("mongorunway") is None  # runway-tui runs these files with its stand-in
    project = mongorunway_project
    write_mongorunway_project(project.migrations)
    ours = f"{db_name[:50]}_rt"
    config = runway_config(project, ours)
    try:
        mongorunway(project, "refresh", "test")
        mongorunway(project, "upgrade", "test", "all", expect="Successfully upgraded 4 migration(s)")
        runway(config, "up", "--all", cwd=project.root)
        theirs_up, ours_up = snapshot(mongo_client[project.database]), snapshot(mongo_client[ours])
        assert set(ours_up) == {"archive", "items"} and len(ours_up["items"]["documents"]) == 3
        assert ours_up == theirs_up

        mongorunway(project, "downgrade", "test", "all", expect="Successfully downgraded 4 migration(s)")
        runway(config, "down", "--all", cwd=project.root)
        assert snapshot(mongo_client[ours]) == snapshot(mongo_client[project.database]) == {}
    finally:
        mongo_client.drop_database(ours)
