"""Values for the read-only explorer: (extended) JSON in, redacted plain data and extended JSON text out.

The TUI never imports pymongo or bson: everything it shows passes through here first. What is hidden
(`tui.redact_fields`, URI passwords, the configuration's secrets) is decided in `inspect_redaction`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from bson import json_util
from bson.binary import Binary
from bson.code import Code
from bson.dbref import DBRef
from bson.decimal128 import Decimal128
from bson.errors import BSONError
from bson.int64 import Int64
from bson.json_util import JSONMode, JSONOptions
from bson.max_key import MaxKey
from bson.min_key import MinKey
from bson.objectid import ObjectId
from bson.regex import Regex
from bson.timestamp import Timestamp

from runway_tui.engine.errors import RunwayError, UsageError

CELL_CHARS = 40  # a table cell shows at most this much of a value
RELAXED = JSONOptions(json_mode=JSONMode.RELAXED, tz_aware=False)
_JSON_ERROR = re.compile(r"^(?P<what>.*?): line \d+ column (?P<col>\d+) \(char \d+\)$")


class InspectInputError(UsageError):
    """A filter, projection or sort the user typed is not usable: one line saying what and where."""


class InspectRefusedError(RunwayError):
    """The server refused a read (an unknown operator, a bad projection): its one-line reason."""


class InspectTimeoutError(RunwayError):
    """A read ran into its `maxTimeMS` (`tui.inspect_max_time_ms`)."""


class NotPermittedError(RunwayError):
    """The user lacks the privilege for this read: the view says "not permitted", never an error dialog."""


def parse_json_object(text: str, what: str) -> dict[str, Any]:
    """`{"status": {"$exists": false}}` or extended JSON (`{"_id": {"$oid": "..."}}`); empty text is `{}`."""
    text = text.strip()
    if not text:
        return {}
    try:
        value = json_util.loads(text, json_options=RELAXED)
    except json.JSONDecodeError as exc:
        raise InspectInputError(f"{what}: not valid JSON: {exc.msg} at column {exc.colno}") from None
    except (TypeError, ValueError, BSONError) as exc:  # a malformed extended-JSON wrapper, e.g. {"$oid": "xyz"}
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InspectInputError(f"{what}: not valid extended JSON: {first}") from None
    if not isinstance(value, dict):
        raise InspectInputError(f"{what}: expected a JSON object such as {{\"status\": \"active\"}}, "
                                f"got {type(value).__name__}")
    return value


def parse_sort(text: str) -> list[tuple[str, int]]:
    """`{"age": -1, "name": 1}`: field -> 1 or -1, in order."""
    spec = parse_json_object(text, "sort")
    result = []
    for field, direction in spec.items():
        if direction not in (1, -1) or isinstance(direction, bool):
            raise InspectInputError(f"sort: {field!r} must be 1 (ascending) or -1 (descending), got {direction!r}")
        result.append((field, int(direction)))
    return result


def to_extended_json(value: Any, indent: int | None = 2) -> str:
    """Relaxed extended JSON (`{"$oid": ...}`, `{"$date": ...}`, `{"$numberDecimal": ...}`), keys in order."""
    return json_util.dumps(value, json_options=RELAXED, indent=indent, ensure_ascii=False)


def type_name(value: Any) -> str:
    """The BSON type's name as MongoDB's `$type` calls it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Int64):
        return "long"
    if isinstance(value, int):
        return "int" if -2**31 <= value < 2**31 else "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, ObjectId):
        return "objectId"
    if isinstance(value, dt.datetime):
        return "date"
    if isinstance(value, Decimal128):
        return "decimal"
    if isinstance(value, Binary | bytes):
        return "binData"
    if isinstance(value, Timestamp):
        return "timestamp"
    if isinstance(value, Regex | re.Pattern):
        return "regex"
    names = {Code: "javascript", DBRef: "dbPointer", MinKey: "minKey", MaxKey: "maxKey"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return type(value).__name__


def compact(value: Any, limit: int = CELL_CHARS) -> str:
    """One short line for a table cell: scalars as themselves, documents and arrays as one-line JSON."""
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False) if _looks_like_json(value) else value
    elif value is None or isinstance(value, bool | int | float):
        text = json.dumps(value)
    elif isinstance(value, ObjectId):
        text = str(value)
    elif isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ", timespec="seconds")
    elif isinstance(value, Decimal128):
        text = str(value)
    else:
        text = to_extended_json(value, indent=None)
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _looks_like_json(text: str) -> bool:
    """A string that would read as a number, true/false/null or JSON: quoted in a cell, so "23" is not 23."""
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def plain(value: Any) -> Any:
    """Plain Python data for the TUI (JSON types only; BSON types as their extended JSON)."""
    return json.loads(to_extended_json(value, indent=None))
