"""A backfill asked for something it cannot do: one line naming the file and line, exit 2, nothing written
(the migration stays as it was), and no traceback. Plus the standalone server's warning and the rate cap."""

from __future__ import annotations

import time

import pytest

from tests.backfill.helpers import INC, counters, record, seed_items, write_inc
from tests.reliability.helpers import no_traceback, one_line_error, set_config
from tests.support.cli import run_cli


def _cli(project, *args):
    result = run_cli("--config", str(project.config_path), *args, cwd=project.root, timeout=120)
    no_traceback(result.stdout, result.stderr)
    return result


BAD = {
    "batch_size": (INC.format(v=1, target='"items"', args=", batch_size=0"), "batch_size must be a whole number"),
    "missing collection": (INC.format(v=1, target='"itemz"', args=""), "collection 'itemz' does not exist"),
    "refused update": (INC.format(v=1, target='"items"', args="").replace('{"$inc": {"n": 1}}', '{"$bogus": 1}'),
                       "the server refused the backfill's first batch"),
    "in a transaction": (INC.format(v=1, target='"items"', args="").replace("transactional = False\n", ""),
                         "set `transactional = False`"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_backfill_names_file_and_line_exits_2_and_writes_nothing(project, mongo_client, db_name, case):
    seed_items(mongo_client, db_name, 500)
    body, said = BAD[case]
    project.write_migration(1, "count_items", body)
    line_no = next(i for i, line in enumerate(body.splitlines(), 1) if "ctx.backfill(" in line)
    result = _cli(project, "up")
    assert result.returncode == 2, result.stderr
    line = one_line_error(result.stderr)
    assert f"001_count_items.py:{line_no}:" in line and said in line, line
    assert counters(mongo_client, db_name) == {0: 500}  # no document changed
    stored = record(mongo_client, db_name)
    assert stored["state"] == "pending" and not stored.get("is_applied") and stored.get("backfill") is None
    again = _cli(project, "status")
    assert again.returncode == 0 and "paused" not in again.stdout


def test_a_backfill_in_a_group_run_is_refused_before_anything_runs(project, mongo_client, db_name):
    """A backfill needs `transactional = False`, which the plan of a --group run refuses (exit 4, blocked)."""
    seed_items(mongo_client, db_name, 100)
    write_inc(project)
    result = _cli(project, "up", "--all", "--group")
    assert result.returncode == 4, result.stderr
    line = one_line_error(result.stderr)
    assert "--group: 001_count_items sets transactional = False" in line and "drop --group" in line, line
    assert counters(mongo_client, db_name) == {0: 100}
    assert record(mongo_client, db_name)["state"] == "pending"


def test_bad_backfill_defaults_in_the_config_name_the_key(project):
    text = project.config_path.read_text().replace("    timeouts:\n", "    backfill:\n      max_docs_per_s: -5\n"
                                                   "    timeouts:\n", 1)
    project.config_path.write_text(text)
    result = _cli(project, "status")
    assert result.returncode == 2
    line = one_line_error(result.stderr)
    assert "applications.test.backfill.max_docs_per_s" in line and "must be a number above 0" in line, line


def test_the_rate_cap_holds(project, mongo_client, db_name):
    """`max_docs_per_s` is a ceiling: 3,000 documents at 1,500 a second cannot take less than about 2 s
    (bench/backfill_bench.py prints the rate held over 10 s)."""
    seed_items(mongo_client, db_name, 3_000)
    write_inc(project, args=", max_docs_per_s=1500")
    started = time.monotonic()
    result = _cli(project, "up")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 3_000 / 1500 * 0.9
    assert counters(mongo_client, db_name) == {1: 3_000}


def test_standalone_server_warns_that_a_batch_may_be_applied_twice(project, mongo_client, server_factory):
    server = server_factory.start("--standalone")
    from pymongo import MongoClient

    client = MongoClient(server.uri)
    database = f"standalone_{project.db_name[-8:]}"
    seed_items(client, database, 2_000)
    set_config(project, uri=server.uri, database=database)
    write_inc(project)
    result = _cli(project, "up")
    assert result.returncode == 0, result.stderr
    assert "after a crash the last batch may be applied twice" in result.stderr
    assert counters(client, database) == {1: 2_000}
    client.drop_database(database)
    client.close()
