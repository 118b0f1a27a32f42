"""`runway-tui rehearse` as a user runs it: output, exit codes, the JSON document, and both databases read
with pymongo afterwards (production byte for byte unchanged, the scratch dropped or kept)."""

from __future__ import annotations

from pymongo import MongoClient

from runway_tui.cli.main import main
from tests.rehearse.conftest import (
    BACKFILL,
    DROP_CANCELLED,
    EMAIL_UNIQUE,
    RENAME,
    as_json,
    seed,
    snapshot,
    write_rehearsal_key,
)


def _scratch_databases(client: MongoClient, production: str) -> list[str]:
    return [n for n in client.list_database_names() if n.startswith(f"rehearse_{production}"[:49])]


def test_json_document_counts_and_production_untouched(rehearsal_project, rehearse_cli, mongo_client):
    project = rehearsal_project
    project.write_migration(1, "backfill", BACKFILL)
    project.write_migration(3, "rename", RENAME)
    before = snapshot(mongo_client, project.db_name)

    result = rehearse_cli(project, "--json")

    # production's index by_fullname uses the field 003 renames: flagged, so exit 4
    assert result.returncode == 4, result.stderr
    report = as_json(result)
    assert [(c["kind"], c["collection"], c["version"], c["ok"], c["examples"]) for c in report["prechecks"]] == [
        ("field_in_use", "users", 3, False, ["by_fullname"])]
    assert {"application", "database", "sample_size", "scratch", "production_writes", "migrations",
            "prechecks"} <= set(report)
    assert report["application"] == "test" and report["database"] == project.db_name
    assert report["sample_size"] == 1000 and report["production_writes"] == 0
    assert [m["version"] for m in report["migrations"]] == [1, 3]
    backfill, rename = report["migrations"]
    assert backfill["result"] == "ok" and backfill["error"] is None and backfill["reversible"] is True
    users = backfill["collections"]["users"]
    # the whole collection fits in the sample: every user gets a status
    assert (users["sampled"], users["total"], users["updated"], users["unchanged"]) == (40, 40, 40, 0)
    assert users["inserted"] + users["updated"] + users["deleted"] + users["unchanged"] == users["sampled"]
    assert users["schema"]["added"] == ["status"] and users["schema"]["removed"] == []
    assert len(users["examples"]) == 3 and users["examples"][0]["after"]["status"] == "active"
    assert "status" not in users["examples"][0]["before"]
    assert isinstance(backfill["duration_ms"], int) and isinstance(backfill["estimated_full_ms"], int)
    # a rename there and back moves the field to the end: the same document, so reversible
    assert rename["reversible"] is True
    assert rename["collections"]["users"]["schema"] == {"added": ["name"], "removed": ["fullname"], "changed": []}
    assert snapshot(mongo_client, project.db_name) == before  # documents, indexes, options, runway's state
    assert _scratch_databases(mongo_client, project.db_name) == []  # dropped


def test_counts_are_exact_on_a_partial_sample(rehearsal_project, rehearse_cli):
    project = rehearsal_project
    project.write_migration(4, "drop_cancelled", DROP_CANCELLED)
    report = as_json(rehearse_cli(project, "--json", "--sample", "7"))
    orders = report["migrations"][0]["collections"]["orders"]
    assert orders["sampled"] == 7 and orders["total"] == 30
    assert orders["inserted"] == 0
    assert orders["updated"] + orders["deleted"] + orders["unchanged"] == 7


def test_irreversible_migration_exit_4_and_says_what_differed(rehearsal_project, rehearse_cli, mongo_client):
    project = rehearsal_project
    project.write_migration(1, "backfill", BACKFILL)
    project.write_migration(4, "drop_cancelled", DROP_CANCELLED)

    result = rehearse_cli(project)

    assert result.returncode == 4, result.stdout + result.stderr
    assert "reversible: NO" in result.stdout
    assert "orders: 10 documents missing" in result.stdout  # 10 of the 30 orders are cancelled
    assert "reversible: yes" in result.stdout  # 001 is judged on its own step
    report = as_json(rehearse_cli(project, "--json"))
    assert [m["reversible"] for m in report["migrations"]] == [True, False]
    assert report["migrations"][1]["collections"]["orders"]["deleted"] == 10


def test_no_reverse_judges_nothing_and_passes(rehearsal_project, rehearse_cli):
    project = rehearsal_project
    project.write_migration(4, "drop_cancelled", DROP_CANCELLED)
    result = rehearse_cli(project, "--json", "--no-reverse")
    assert result.returncode == 0
    assert as_json(result)["migrations"][0]["reversible"] is None


def test_unique_index_precheck_counts_production_not_the_sample(project, rehearse_cli, mongo_client, mongo_uri):
    seed(mongo_client, project.db_name, users=40, duplicate_emails=3)  # 3 e-mails held twice
    write_rehearsal_key(project, mongo_uri)
    project.write_migration(2, "email_unique", EMAIL_UNIQUE)
    # a sample of 5 by `_id`... is random: whatever it holds, the figure is production's
    result = rehearse_cli(project, "--json", "--sample", "5")
    report = as_json(result)
    checks = [c for c in report["prechecks"] if c["kind"] == "unique_index"]
    if report["migrations"][0]["result"] == "ok":  # the sample held no twin: the build passed there
        assert result.returncode == 4
        assert len(checks) == 1 and checks[0]["collection"] == "users"
        assert checks[0]["ok"] is False and checks[0]["violations"] == 3
        assert {e["documents"] for e in checks[0]["examples"]} == {2}
    else:  # the sample held both of a pair (about 4 % of draws): the build failed on the sample, and says on
        # which key; no pre-check is derived from a step that failed (a known gap, see the stop's note)
        assert result.returncode == 1
        assert "duplicate key" in report["migrations"][0]["error"].lower()


def test_failure_on_the_sample_exit_1_names_the_document(rehearsal_project, rehearse_cli, mongo_client):
    project = rehearsal_project
    project.write_migration(1, "backfill", BACKFILL)
    project.write_migration(2, "boom", '''"""Fails on one user."""
version = 2


def upgrade(ctx):
    for user in ctx.db["users"].find({}, session=ctx.session):
        if user["_id"] == 7:
            raise ValueError(f"user {user['_id']} has no country")


def downgrade(ctx):
    pass
''')
    project.write_migration(3, "rename", RENAME)
    before = snapshot(mongo_client, project.db_name)

    result = rehearse_cli(project, "--json")

    assert result.returncode == 1
    report = as_json(result)
    assert [m["result"] for m in report["migrations"]] == ["ok", "failed", "not run"]
    assert "user 7 has no country" in report["migrations"][1]["error"]
    assert "\n" not in report["migrations"][1]["error"]
    assert report["production_writes"] == 0
    assert snapshot(mongo_client, project.db_name) == before
    text = rehearse_cli(project)
    assert text.returncode == 1 and "✗ 002_boom (version 2): failed" in text.stdout


def test_steps_and_to_choose_the_migrations(rehearsal_project, rehearse_cli):
    project = rehearsal_project
    project.write_migration(1, "backfill", BACKFILL)
    project.write_migration(3, "rename", RENAME)
    project.write_migration(4, "drop_cancelled", DROP_CANCELLED)
    assert [m["version"] for m in as_json(rehearse_cli(project, "--json", "--steps", "1"))["migrations"]] == [1]
    assert [m["version"] for m in as_json(rehearse_cli(project, "--json", "--to", "3"))["migrations"]] == [1, 3]
    assert [m["version"] for m in as_json(rehearse_cli(project, "--json", "--all",
                                                       "--no-reverse"))["migrations"]] == [1, 3, 4]


def test_plan_is_productions_applied_migrations_are_not_rehearsed(rehearsal_project, rehearse_cli, mongo_client):
    project = rehearsal_project
    project.write_migration(1, "backfill", BACKFILL)
    assert main(["--config", str(project.config_path), "up", "--steps", "1"]) == 0  # production at version 1
    project.write_migration(3, "rename", RENAME)
    before = snapshot(mongo_client, project.db_name)
    report = as_json(rehearse_cli(project, "--json"))
    assert [m["version"] for m in report["migrations"]] == [3]
    # the copied sample has the backfill production already has
    example = report["migrations"][0]["collections"]["users"]["examples"][0]
    assert example["before"]["status"] == "active"
    assert snapshot(mongo_client, project.db_name) == before  # the audit log and records too


def test_bad_input_is_one_line_and_exit_2(rehearsal_project, rehearse_cli, mongo_uri):
    project = rehearsal_project
    project.write_migration(1, "backfill", BACKFILL)
    unknown = rehearse_cli(project, "--to", "99")
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1 and "99" in unknown.stderr
    zero = rehearse_cli(project, "--sample", "0")
    assert zero.returncode == 2 and zero.stderr.startswith("runway-tui: error:")
    block = f'    rehearsal:\n      uri: "{mongo_uri}"\n'
    text = project.config_path.read_text()  # the scratch named as the production database, on its server
    project.config_path.write_text(text.replace(block, block + f"      database: {project.db_name}\n"))
    same = rehearse_cli(project)
    assert same.returncode == 2
    assert "production database itself" in same.stderr and same.stderr.count("\n") == 1


def test_nothing_pending_says_so_and_exits_0(rehearsal_project, rehearse_cli):
    result = rehearse_cli(rehearsal_project)
    assert result.returncode == 0
    assert "nothing to rehearse" in result.stdout


def test_keep_leaves_the_scratch_and_says_where(rehearsal_project, rehearse_cli, mongo_client):
    project = rehearsal_project
    project.write_migration(1, "backfill", BACKFILL)
    project.write_migration(4, "drop_cancelled", DROP_CANCELLED)
    report = as_json(rehearse_cli(project, "--json", "--keep"))
    kept = _scratch_databases(mongo_client, project.db_name)
    assert len(kept) == 1 and kept[0] in report["scratch"] and report["kept"] is True
    try:
        scratch = mongo_client[kept[0]]
        assert scratch["users"].count_documents({"status": "active"}) == 40  # the state after the last up
        assert "by_fullname" in scratch["users"].index_information()
        orders = scratch.list_collections(filter={"name": "orders"}).next()
        assert orders["options"]["validator"] == {"state": {"$exists": True}}
        assert orders["options"]["validationAction"] == "warn"
        assert scratch["orders"].count_documents({}) == 20  # after 004's up: the cancelled ones gone
        assert scratch["orders"].index_information()["by_user"]["sparse"] is True
        assert sorted(r["version"] for r in scratch["migrations"].find()) == [1, 4]  # the engine's records
    finally:
        mongo_client.drop_database(kept[0])


def test_redacted_fields_and_secrets_never_appear(rehearsal_project, rehearse_cli):
    project = rehearsal_project
    text = project.config_path.read_text().replace("tui:\n", "tui:\n  redact_fields: [ssn, email]\n")
    project.config_path.write_text(text)
    project.write_migration(1, "backfill", BACKFILL)
    for args in (("--json",), ()):
        result = rehearse_cli(project, *args)
        assert result.returncode == 0, result.stderr
        assert "000-00-" not in result.stdout + result.stderr
        assert "@example.com" not in result.stdout + result.stderr
    examples = as_json(rehearse_cli(project, "--json"))["migrations"][0]["collections"]["users"]["examples"]
    assert examples[0]["before"]["ssn"] == "***" and examples[0]["after"]["email"] == "***"


def test_production_and_read_only_applications_may_rehearse(rehearsal_project, rehearse_cli, mongo_client):
    project = rehearsal_project
    text = project.config_path.read_text().replace("    read_only: false\n", "    read_only: true\n")
    project.config_path.write_text(text.replace("    production: false\n", "    production: true\n"))
    project.write_migration(1, "backfill", BACKFILL)
    before = snapshot(mongo_client, project.db_name)
    result = rehearse_cli(project, "--json")
    assert result.returncode == 0, result.stderr
    assert as_json(result)["migrations"][0]["result"] == "ok"
    assert snapshot(mongo_client, project.db_name) == before


def test_a_bad_rehearsal_key_is_one_line_naming_it(rehearsal_project, rehearse_cli):
    project = rehearsal_project
    text = project.config_path.read_text().replace("    rehearsal:\n", "    rehearsal:\n      url: x\n")
    project.config_path.write_text(text)
    result = rehearse_cli(project)
    assert result.returncode == 2
    assert "applications.test.rehearsal.url" in result.stderr and "unknown key" in result.stderr
    assert result.stderr.count("\n") == 1


def test_the_scratch_uri_password_never_appears(rehearsal_project, rehearse_cli, mongo_uri):
    project = rehearsal_project
    project.write_migration(1, "backfill", BACKFILL)
    secret_uri = mongo_uri.replace("mongodb://", "mongodb://runway:s3cr3t-pw@")
    text = project.config_path.read_text().replace(f'uri: "{mongo_uri}"\n      ', "")
    text = text.replace(f'    rehearsal:\n      uri: "{mongo_uri}"\n', f'    rehearsal:\n      uri: "{secret_uri}"\n')
    project.config_path.write_text(text)
    for args in ((), ("--json",), ("--debug",)):
        result = rehearse_cli(project, *args)
        assert "s3cr3t-pw" not in result.stdout + result.stderr, args
