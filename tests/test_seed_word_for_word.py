"""Mongorunway's "Use API case", with only the package name changed, in a project Mongorunway would make.

The script below uses the seed's import paths and calls exactly (`runway_tui.application.services.
migration_service`, `runway_tui.application.use_cases`, `create_app(name, raise_on_none=..., verbose_exc=...)`
finding `mongorunway.yaml` by itself, `pprint` of each history entry) and never closes the app: the
ClosingEvent handler runs at interpreter exit, once."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from pymongo import MongoClient

from tests.support.mongorunway_peer import MongorunwayProject
from tests.support.shapes import BYTES_LITERAL, printed_session_ids

SEED = '''\
import pprint

import runway_tui
from runway_tui.application.services import migration_service
from runway_tui.application import use_cases

app = runway_tui.create_app("test", raise_on_none=True, verbose_exc=True)


@app.listen()
def on_app_close(event: runway_tui.ClosingEvent) -> None:
    print(f"{event.application.name!r} app successfully closed.")


service = migration_service.MigrationService(app.session)
assert app.session.get_current_version() is None
service.create_migration_file_template("my_awesome_migration")
assert len(app.session.get_all_migration_models()) == 0
use_cases.refresh(app, verbose_exc=True)
assert len(app.session.get_all_migration_models()) == 1
app.upgrade_once()
assert app.session.uses_auditlog
for entry in app.session.history():
    pprint.pprint(entry)
'''


def test_the_seed_runs_with_only_the_package_name_changed(tmp_path, mongo_uri: str, db_name: str,
                                                          mongo_client: MongoClient) -> None:
    project = MongorunwayProject(tmp_path / "proj", mongo_uri, db_name)
    project.root.mkdir()
    project.write_config()
    script = project.root / "use_api.py"
    script.write_text(SEED, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNWAY_")}
    result = subprocess.run([sys.executable, str(script)], cwd=project.root, env=env, capture_output=True,
                            text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # pprint's layout of Mongorunway's entry: its seven fields, the read model nested, nothing of ours
    assert re.search(
        rf"MigrationAuditlogEntry\(session_id=Binary\({BYTES_LITERAL}, 4\),\n\s+"
        r"transaction_name='UpgradeTransaction',\n\s+"
        r"migration_read_model=MigrationReadModel\(name='001_my_awesome_migration',\n\s+version=1,\n\s+"
        r"checksum='[0-9a-f]{32}',\n\s+description='[^']*',\n\s+is_applied=False\),\n\s+"
        r"date_fmt='%Y-%m-%d %H:%M:%S',\n\s+date=datetime\.datetime\([0-9, ]+\),\n\s+"
        r"exc_name=None,\n\s+exc_message=None\)\n", out), out
    assert "user=" not in out and "duration_ms" not in out
    (session_id,) = printed_session_ids(out)
    stored = mongo_client[db_name]["auditlog"].find_one()
    assert bytes(stored["session_id"]) == session_id and stored["session_id"].subtype == 4
    assert out.splitlines()[-1] == "'test' app successfully closed." and out.count("successfully closed") == 1
    assert (project.migrations / "001_my_awesome_migration.py").exists()
