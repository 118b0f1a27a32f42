"""`history --since/--until/--user/--action` and `history --at TIME`, as CI and an incident review read them:
the table, the JSON, and one line with exit 2 for a value that does not parse."""

from __future__ import annotations

import json

import pytest

from tests.engine.helpers import open_app
from tests.engine.test_history_filters import act, hours, idempotent


@pytest.fixture
def incident(project):
    for version in (1, 2, 3):
        project.write_migration(version, f"m{version}", idempotent(version))
    with open_app(project) as app:
        act(app, hours(0), "alice", lambda: app.upgrade())
        act(app, hours(1), "bob", lambda: app.upgrade())
        act(app, hours(2), "alice", lambda: app.mark(2, applied=False))
        act(app, hours(3), "carol", lambda: app.upgrade(to=3))
        host = app.host
    return host


def lines(result) -> list[str]:
    return result.stdout.splitlines()


def test_history_filters_table_and_json(main_cli, incident):
    host = incident
    table = main_cli("history", "--since", "2026-11-01T11:00", "--until", "2026-11-01T12:30+00:00")
    assert table.returncode == 0, table.stderr
    assert lines(table)[0] == "audit log since 2026-11-01 11:00:00 UTC · until 2026-11-01 12:30:00 UTC (newest first)"
    assert lines(table)[1].split() == ["DATE", "(UTC)", "ACTION", "MIGRATION", "RESULT", "DURATION", "BY", "CLIENT"]
    mark, up = (line.split() for line in lines(table)[2:])
    assert mark == ["2026-11-01", "12:00:00", "mark", "pending", "002_m2", "ok", f"alice@{host}", "api"]  # no duration
    assert up[:5] == ["2026-11-01", "11:00:00", "up", "002_m2", "ok"] and up[-2:] == [f"bob@{host}", "api"]
    assert up[-3] in ("ms", "s")  # "12 ms" or "1.2 s": the one duration format
    only = json.loads(main_cli("history", "--user", "alice", "--action", "up,mark", "--json").stdout)
    assert only["ok"] is True and only["more"] is False
    assert only["filter"] == {"since": None, "until": None, "user": "alice", "host": None,
                              "actions": ["up", "mark applied", "mark pending"]}
    assert [(e["transaction_name"], e["migration_read_model"]["version"]) for e in only["entries"]] == [
        ("MarkPendingTransaction", 2), ("UpgradeTransaction", 1)]
    recent = json.loads(main_cli("history", "--since", "1m", "--json").stdout)  # a minute before the server's now
    assert recent["entries"] == [] and recent["filter"]["since"] is not None
    none = main_cli("history", "--user", "nobody")
    assert none.returncode == 0 and lines(none)[-1] == "no audit entry matches"


def test_history_says_when_more_entries_match(main_cli, incident):
    result = main_cli("history", "--action", "up", "--limit", "2")
    assert result.returncode == 0
    assert len(lines(result)) == 1 + 1 + 2  # the filter line, the header, two entries
    assert "the newest 2 shown; more match (--limit N shows more)" in result.stderr
    assert json.loads(main_cli("history", "--action", "up", "--limit", "2", "--json").stdout)["more"] is True


def test_history_at_a_moment(main_cli, incident):
    host = incident
    result = main_cli("history", "--at", "2026-11-01T12:30")
    assert result.returncode == 0, result.stderr
    assert lines(result)[0] == "state at 2026-11-01 12:30:00 UTC, from the audit log: version 001 (1 applied)"
    rows = [line.split() for line in lines(result)[2:]]
    assert rows == [["001", "001_m1", "applied", "2026-11-01", "10:00:00", "up", f"alice@{host}"],
                    ["002", "002_m2", "pending", "2026-11-01", "12:00:00", "mark", "pending", f"alice@{host}"]]
    data = json.loads(main_cli("history", "--at", "2026-11-01T13:30", "--json").stdout)
    assert data["ok"] is True and data["at"] == "2026-11-01T13:30:00Z"
    assert data["current_version"] == 3 and data["applied"] == [1, 2, 3]
    assert data["migrations"][1] == {"version": 2, "name": "002_m2", "state": "applied",
                                     "since": "2026-11-01T13:00:00Z", "action": "up", "user": "carol",
                                     "host": host}
    empty = main_cli("history", "--at", "2020-01-01")
    assert lines(empty) == ["state at 2020-01-01 00:00:00 UTC, from the audit log: version none (0 applied)",
                            "no migration had been applied or changed by then"]


@pytest.mark.parametrize(("args", "expected"), [
    (("--since", "yesterday"), "argument --since: expected an ISO 8601 time such as 2026-03-14 or "
                               "2026-03-14T09:30 (UTC unless it has an offset), or a time ago such as 30m, 2h, 7d; "
                               "got 'yesterday'"),
    (("--until", "2026-02-30"), "argument --until: expected an ISO 8601 time"),
    (("--at", "3 fortnights"), "argument --at: expected an ISO 8601 time"),
    (("--action", "rollback"), "argument --action: unknown action 'rollback'; the audit log's actions are: up, "
                               "down, mark applied, mark pending"),
    (("--user", " "), "argument --user: expected a user name (or user@host), got an empty value"),
    (("--at", "2h", "--user", "bob"), "--at shows the state at one moment and takes no filter; drop --user"),
])
def test_a_bad_value_is_one_line_and_exit_2(main_cli, project, args, expected):
    result = main_cli("history", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"runway-tui: error: {expected}") and "Traceback" not in result.stderr
