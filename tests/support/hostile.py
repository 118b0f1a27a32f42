"""Text that tries to drive the operator's terminal, put where files, servers and other tools put text.

Each payload is a real attack seen on main: OSC 52 writes the clipboard (here "echo pwned"), OSC 0 sets
the window title, 8-bit C1 controls do the same without an ESC, CSI clears the screen, and Rich/Textual
markup would make a link or a clickable action of a name. `seed_database` writes them where another tool
(or anyone able to write one document) can: records, audit entries, the lock, collections and documents.
"""

from __future__ import annotations

import datetime as dt
import re

from bson import Binary

CLIP = "ZWNobyBwd25lZA=="  # base64 of "echo pwned": what OSC 52 would put on the clipboard
OSC52 = f"\x1b]52;c;{CLIP}\x07"
OSC0 = "\x1b]0;PWNED-TITLE\x1b\\"
C1_CSI = "\x9b2J"  # CSI as one 8-bit byte: clear the screen
C1_OSC = "\x9d0;C1-TITLE\x9c"  # OSC ... ST as 8-bit controls: set the title
MARKUP = "[link=https://evil.example/]click[/link][@click=app.quit]q[/]"
HOSTILE = f"A{OSC52}B{OSC0}C{C1_CSI}D{C1_OSC}E{MARKUP}"

# What must never reach a terminal from the data (raw bytes, as the terminal would receive them).
FORBIDDEN = {
    "OSC 52 (clipboard)": b"\x1b]52;",
    "OSC 0 (title)": b"\x1b]0;PWNED",
    "OSC 8 (hyperlink)": b"evil.example/\x1b",
    "C1 CSI": "\x9b".encode(),
    "C1 OSC": "\x9d".encode(),
    "C1 ST": "\x9c".encode(),
}
# The visible form runway shows instead (see `visible` in runway_tui/engine/messages.py).
SHOWN_OSC52 = "\\x1b]52;c;" + CLIP + "\\x07"
SHOWN_C1 = "\\x9b2J"

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def controls_in(text: str, *, allow_sgr: bool = False) -> list[str]:
    """The control characters of `text` a terminal would act on (`\\n` and `\\t` are layout); with
    `allow_sgr`, runway's own colour codes (`ESC [ digits m`) are allowed."""
    if allow_sgr:
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return sorted({repr(c) for c in _CONTROL.findall(text)})


def forbidden_in(data: bytes) -> list[str]:
    return [name for name, marker in FORBIDDEN.items() if marker in data]


def hostile_migration(version: int, *, fails: bool = False) -> str:
    """A migration whose docstring, log lines, printed text, collection, field names, values, index and
    validator all carry the payload (written with Python escapes: the file itself is plain ASCII)."""
    escaped = HOSTILE.encode("unicode_escape").decode("ascii")
    body = f'''"""{escaped} add the evil collection"""

version = {version}
transactional = False
TEXT = "{escaped}"
NAME = "evil" + TEXT[:40].replace("[", "(")


def upgrade(ctx):
    ctx.log("log line " + TEXT)
    print("printed " + TEXT)
    ctx.db.create_collection(NAME, validator={{"$jsonSchema": {{"description": TEXT}}}})
    ctx.db[NAME].insert_one({{"_id": 1, "field " + TEXT[:20]: "value " + TEXT, "nested": {{"k": TEXT}}}})
    ctx.db[NAME].create_index("nested.k", name="index " + TEXT[:30])
'''
    if fails:
        body += "    raise ValueError('failed ' + TEXT)\n"
    body += "\n\ndef downgrade(ctx):\n    pass\n"
    return body


def seed_database(db, *, orphan_version: int = 90) -> None:
    """Another tool's records (an orphan and a failed step with its traceback), an audit entry and an
    expired lock, each text field carrying the payload."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    db["migrations"].insert_one({"_id": orphan_version, "name": f"{orphan_version:03d}_orphan {HOSTILE}",
                                 "version": orphan_version, "checksum": "0" * 32, "description": f"desc {HOSTILE}",
                                 "is_applied": True, "state": "applied", "applied_at": now,
                                 "applied_by": f"mallory {HOSTILE}", "duration_ms": 1, "error": None})
    failed = orphan_version + 1
    db["migrations"].insert_one({"_id": failed, "name": f"{failed:03d}_failed", "version": failed,
                                 "checksum": "1" * 32, "description": "", "is_applied": False, "state": "failed",
                                 "applied_at": None, "applied_by": None, "duration_ms": None,
                                 "error": f"ValueError: {HOSTILE}",
                                 "error_traceback": f"Traceback (most recent call last):\n  {HOSTILE}\n"})
    model = {"name": f"{orphan_version:03d}_orphan {HOSTILE}", "version": orphan_version, "checksum": "0" * 32,
             "description": HOSTILE, "is_applied": False}
    db["auditlog"].insert_one({"session_id": Binary(b"\x00" * 16, 4), "transaction_name": "UpgradeTransaction",
                               "migration_read_model": model, "date_fmt": "%Y-%m-%d %H:%M:%S", "date": now,
                               "exc_name": f"Err {OSC0}", "exc_message": f"message {HOSTILE}", "duration_ms": 3,
                               "user": f"u {OSC52}", "host": f"h {C1_OSC}", "engine_version": f"v {C1_CSI}"})
    db["migrations_lock"].insert_one({"_id": "runway", "owner": "someone else", "token": "t",
                                      "user": f"lockuser {OSC52}", "host": f"lockhost {C1_OSC}", "pid": 7,
                                      "operation": f"up {OSC0}", "acquired_at": now - dt.timedelta(hours=2),
                                      "expires_at": now - dt.timedelta(hours=1), "heartbeat_at": now})
