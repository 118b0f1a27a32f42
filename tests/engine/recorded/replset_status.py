"""`replSetGetStatus` documents as servers answer them, trimmed to the fields lag is read from.

`single_node` was recorded from the test server (SecantusDB, a single-node replica set); the others follow
mongod 8's shape (members with state, health, optime.ts and optimeDate) for the cases a real set goes through.
"""

import datetime as dt

from bson.timestamp import Timestamp

T0 = dt.datetime(2026, 12, 5, 6, 46, 15, 151000)


def _member(_id: int, state: int, behind_s: float | None, *, health: float = 1.0, name: str | None = None,
            optime_date: bool = True) -> dict:
    state_str = {1: "PRIMARY", 2: "SECONDARY", 7: "ARBITER", 8: "(not reachable/healthy)", 3: "RECOVERING",
                 5: "STARTUP2"}[state]
    member: dict = {"_id": _id, "name": name or f"db{_id}.example.net:27017", "health": health, "state": state,
                    "stateStr": state_str, "uptime": 86400, "configVersion": 3, "configTerm": 7}
    if behind_s is not None:
        at = T0 - dt.timedelta(seconds=behind_s)
        member["optime"] = {"ts": Timestamp(int(at.replace(tzinfo=dt.UTC).timestamp()), 1), "t": 7}
        if optime_date:
            member["optimeDate"] = at
    return member


def status(*members: dict) -> dict:
    return {"set": "rs0", "date": T0, "myState": 1, "term": 7, "heartbeatIntervalMillis": 2000,
            "members": list(members), "ok": 1.0}


single_node = {
    "set": "secantus", "date": T0, "myState": 1, "term": 1, "syncSourceHost": "", "syncSourceId": -1,
    "heartbeatIntervalMillis": 2000, "majorityVoteCount": 1, "writeMajorityCount": 1, "votingMembersCount": 1,
    "members": [{"_id": 0, "name": "127.0.0.1:47117", "health": 1.0, "state": 1, "stateStr": "PRIMARY",
                 "uptime": 0, "optime": {"ts": Timestamp(1796453175, 4), "t": 1}, "optimeDate": T0,
                 "syncSourceHost": "", "syncSourceId": -1, "infoMessage": "", "configVersion": 1, "configTerm": 1,
                 "self": True}],
    "ok": 1.0,
}
in_step = status(_member(0, 1, 0), _member(1, 2, 0.4), _member(2, 2, 1.2))
one_lagging = status(_member(0, 1, 0), _member(1, 2, 0.5), _member(2, 2, 12.3))
secondary_down = status(_member(0, 1, 0), _member(1, 2, 0.5), _member(2, 8, 3600, health=0.0))
with_arbiter = status(_member(0, 1, 0), _member(1, 2, 2.0), _member(2, 7, None))
delayed_member = status(_member(0, 1, 0), _member(1, 2, 1.0), _member(2, 2, 3600, name="delayed.example.net:27017"))
no_primary = status(_member(0, 2, 0), _member(1, 2, 5.0), _member(2, 2, 1.0))
timestamps_only = status(_member(0, 1, 0, optime_date=False), _member(1, 2, 9, optime_date=False))
