"""The audit log for an incident review: entries by time window, user and action, read as server queries, and
the state at a given moment, from the audit log alone; in runway's shape and in Mongorunway's."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from pymongo import monitoring

import runway_tui.engine.run.wiring as app_module  # where the client is made
from runway_tui.engine.errors import UsageError
from tests.engine.helpers import migration, open_app

T = dt.datetime(2026, 11, 1, 10, 0)


def hours(n: float) -> dt.datetime:
    return T + dt.timedelta(hours=n)


def idempotent(version: int) -> str:
    """Upgrade sets {_id: version} (so a version may be applied twice), downgrade deletes it."""
    return migration(version, up=f'ctx.db["things"].update_one({{"_id": {version}}}, {{"$set": {{"v": {version}}}}}, '
                                 'upsert=True, session=ctx.session)',
                     down=f'ctx.db["things"].delete_one({{"_id": {version}}}, session=ctx.session)')


def act(app, at: dt.datetime, user: str, operation) -> None:
    """Run `operation` as `user`, its entries dated `at` by the engine's clock."""
    app.clock, app.user = (lambda: at), user
    operation()


@pytest.fixture
def incident(project):
    """Six entries an hour apart by alice, bob and carol: up 1, up 2, mark 2 pending, up 2, down 2, up 2."""
    for version in (1, 2, 3):
        project.write_migration(version, f"m{version}", idempotent(version))
    app = open_app(project)
    try:
        act(app, hours(0), "alice", lambda: app.upgrade())
        act(app, hours(1), "bob", lambda: app.upgrade())
        act(app, hours(2), "alice", lambda: app.mark(2, applied=False))
        act(app, hours(3), "carol", lambda: app.upgrade())
        act(app, hours(4), "alice", lambda: app.downgrade())
        act(app, hours(5), "bob", lambda: app.upgrade())
        app.clock = lambda: hours(5.5)  # "now", for times given as a time ago
        yield app
    finally:
        app.close()


def seen(entries) -> list[tuple[str, str, int]]:
    return [(e.date.strftime("%H:%M"), e.user, e.migration_read_model.version) for e in entries]


def test_history_filters_by_window_user_and_action(incident):
    app = incident
    assert seen(app.history(since="2026-11-01T11:00", until="2026-11-01 13:00")) == [
        ("13:00", "carol", 2), ("12:00", "alice", 2), ("11:00", "bob", 2)]  # both ends included
    assert seen(app.history(user="alice")) == [("14:00", "alice", 2), ("12:00", "alice", 2), ("10:00", "alice", 1)]
    assert seen(app.history(user=f"alice@{app.host}", action="mark")) == [("12:00", "alice", 2)]
    assert app.history(user="alice@elsewhere") == []
    assert [e.transaction_name for e in app.history(action="down")] == ["DowngradeTransaction"]
    assert len(app.history(action="up, down")) == 5  # all but the mark
    assert seen(app.history(since="2h")) == [("15:00", "bob", 2), ("14:00", "alice", 2)]  # of the server's now
    assert seen(app.history(since=hours(1), until=hours(4), user="alice", action="down,mark")) == [
        ("14:00", "alice", 2), ("12:00", "alice", 2)]
    aware = dt.datetime(2026, 11, 1, 15, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))  # 13:30 UTC
    assert seen(app.history(until=aware, since="2026-11-01T12:30")) == [("13:00", "carol", 2)]


def test_a_filtered_history_pages_by_key(incident):
    app = incident
    first = app.history(limit=2, user="alice")
    rest = app.history(limit=2, user="alice", before=first[-1])
    assert seen(first) + seen(rest) == [("14:00", "alice", 2), ("12:00", "alice", 2), ("10:00", "alice", 1)]
    assert app.history(limit=2, user="alice", before=rest[-1]) == []


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"since": "yesterday"}, "since: expected an ISO 8601 time such as 2026-03-14 or 2026-03-14T09:30 (UTC unless "
                             "it has an offset), or a time ago such as 30m, 2h, 7d; got 'yesterday'"),
    ({"until": "2026-13-01"}, "until: expected an ISO 8601 time"),
    ({"action": "frobnicate"}, "action: unknown action 'frobnicate'; the audit log's actions are: up, down, "
                               "mark applied"),
    ({"action": ","}, "action: no action given"),
])
def test_bad_filters_are_one_clear_error(incident, kwargs, expected):
    with pytest.raises(UsageError) as raised:
        incident.history(**kwargs)
    assert str(raised.value).startswith(expected) and "\n" not in str(raised.value)


def test_state_at_a_moment_comes_from_the_audit_log(incident, mongo_client, project):
    app = incident
    mongo_client[project.db_name]["migrations"].delete_many({})  # the records say nothing: the log does
    before_anything = app.state_at(T - dt.timedelta(minutes=1))
    assert before_anything.versions == [] and before_anything.current_version is None
    at = app.state_at("2026-11-01T11:30")
    assert [v.version for v in at.applied] == [1, 2] and at.current_version == 2
    marked = app.state_at(hours(2))  # the entry's own moment counts
    assert [(v.version, v.state, v.action, v.user) for v in marked.versions] == [
        (1, "applied", "up", "alice"), (2, "pending", "mark pending", "alice")]
    assert [v.version for v in app.state_at(hours(3.5)).applied] == [1, 2]
    later = app.state_at("1h")  # 15:30 - 1h: after the down, before the last up
    assert [v.version for v in later.applied] == [1]
    assert later.versions[1].since == hours(4) and later.versions[1].action == "down"
    assert later.to_json()["applied"] == [1] and app.state_at("now").to_json()["applied"] == [1, 2]
    with pytest.raises(UsageError, match="^at: expected an ISO 8601 time"):
        app.state_at("last tuesday")


class FindListener(monitoring.CommandListener):
    """The audit collection's queries and how many documents the server sent back for each."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.queries: dict[int, dict] = {}
        self.returned: dict[int, int] = {}

    def started(self, event):
        if event.command_name in ("find", "getMore", "aggregate") and "auditlog" in str(event.command.values()):
            with self.lock:
                self.queries[event.request_id] = dict(event.command)

    def succeeded(self, event):
        with self.lock:
            if event.request_id in self.queries:
                cursor = event.reply.get("cursor", {})
                self.returned[event.request_id] = len(cursor.get("firstBatch", cursor.get("nextBatch", [])))

    def failed(self, event):
        pass


def test_filters_are_server_queries_on_the_date_index(project, monkeypatch):
    """40 entries, 2 of them by dave: the server sends only dave's, each query bounded by `date`."""
    listener = FindListener()
    real = app_module.make_client
    monkeypatch.setattr(app_module, "make_client",
                        lambda uri, config, **extra: real(uri, config, **{**extra, "event_listeners": [
                                listener, *extra.get("event_listeners", [])]}))
    project.write_migration(1, "m1", idempotent(1))
    with open_app(project) as app:
        for n in range(40):
            act(app, T + dt.timedelta(minutes=n), "dave" if n in (7, 31) else "erin",
                (lambda: app.upgrade()) if n % 2 == 0 else (lambda: app.downgrade()))
        app.clock = lambda: T + dt.timedelta(hours=2)
        listener.queries.clear()
        listener.returned.clear()
        found = app.history(limit=20, user="dave", since="3h")
    assert [e.user for e in found] == ["dave", "dave"]
    finds = [q for q in listener.queries.values() if q.get("find")]
    assert finds and all(q["filter"].get("user") == "dave" and "date" in q["filter"] for q in finds)
    assert sum(listener.returned.values()) == 2


def test_mongorunway_shapes_filter_both_logs_and_their_state(project, mongo_client):
    """compat: mongorunway: Mongorunway's own entries (its seven fields, no user) are in the log that filters
    read, once each; a user filter leaves them out; the state at a moment counts them."""
    project.config_path.write_text("compat: mongorunway\n" + project.config_path.read_text())
    for version in (1, 2, 3):
        project.write_migration(version, f"m{version}", idempotent(version))
    with open_app(project) as app:
        act(app, hours(0), "alice", lambda: app.upgrade())
        act(app, hours(1), "bob", lambda: app.upgrade())
        act(app, hours(2), "alice", lambda: app.mark(2, applied=False))
        theirs = mongo_client[project.db_name]["auditlog"]
        shared = theirs.find_one({})
        theirs.insert_one({"session_id": shared["session_id"], "transaction_name": "UpgradeTransaction",
                           "migration_read_model": {**shared["migration_read_model"], "name": "003_m3",
                                                    "version": 3},
                           "date_fmt": "%Y-%m-%d %H:%M:%S", "date": hours(0.5), "exc_name": None,
                           "exc_message": None})  # written by Mongorunway itself
        ups = app.history(action="up")
        assert [(e.date, e.user, e.migration_read_model.version) for e in ups] == [
            (hours(1), "bob", 2), (hours(0.5), None, 3), (hours(0), "alice", 1)]
        assert [e.transaction_name for e in app.history(user="alice")] == ["MarkPendingTransaction",
                                                                           "UpgradeTransaction"]
        assert [e.migration_read_model.version for e in app.history(since=hours(0.25), until=hours(0.75))] == [3]
        assert [v.version for v in app.state_at(hours(0.75)).applied] == [1, 3]
        assert [v.version for v in app.state_at(hours(1.5)).applied] == [1, 2, 3]
        assert [(v.version, v.state) for v in app.state_at(hours(2)).versions] == [
            (1, "applied"), (2, "pending"), (3, "applied")]
