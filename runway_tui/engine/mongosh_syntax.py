"""What people paste from mongosh or Compass, read into BSON values (issue 27).

The explorer's filter, projection, sort and pipeline inputs take JSON and MongoDB's extended JSON
(`{"_id": {"$oid": "…"}}`), and mongosh's shell syntax besides:

- the relaxed JSON of JSON5, read by the `json5` library: unquoted keys (`{status: 'active'}`), single
  quotes, trailing commas, comments, hexadecimal numbers;
- mongosh's constructors, which become proper BSON values: `ObjectId("…")`, `ISODate("…")` (and
  `new Date(…)`), `NumberLong(…)`, `NumberInt(…)`, `NumberDecimal("…")`, `UUID("…")`, `BinData(4, "…")`,
  `Timestamp(t, i)`, `MinKey()`, `MaxKey()`, `RegExp("…", "i")`;
- regular expression literals: `/^ada/i`.

A small scanner rewrites each constructor call and regex literal into a marked JSON5 object (it knows where
strings and comments are, so a `/` or a `(` inside a string is left alone); `json5` parses the result, and its
object hook turns the marked objects into BSON values and extended JSON wrappers into theirs. A bad input is
one `InputSyntaxError` naming the line and column of the text as typed.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import json5
from bson import json_util
from bson.binary import Binary
from bson.decimal128 import Decimal128
from bson.errors import BSONError
from bson.int64 import Int64
from bson.json_util import JSONMode, JSONOptions
from bson.max_key import MaxKey
from bson.min_key import MinKey
from bson.objectid import ObjectId
from bson.regex import Regex
from bson.timestamp import Timestamp

from runway_tui.engine.limits import BSON_MAX_INT, BSON_MIN_INT

_MARK = "\x00mongosh"  # the key of a rewritten constructor: no typed key can be it by accident
_OPTIONS = JSONOptions(json_mode=JSONMode.RELAXED, tz_aware=False)
_ERROR = re.compile(r"^<string>:(?P<line>\d+) (?P<what>.*?) at column (?P<col>\d+)$")
_IDENT_START = re.compile(r"[A-Za-z_$]")
_IDENT = re.compile(r"[A-Za-z0-9_$]*")
_REGEX_FLAGS = set("imxsu")
INT64 = (BSON_MIN_INT, BSON_MAX_INT)
ACCEPTED = ("JSON or mongosh syntax such as {status: 'active', 'address.city': 'Oslo'}, "
            "{_id: ObjectId(\"…\")}, {at: {$gte: ISODate(\"2024-01-01\")}}, {name: /^ada/i}")


class InputSyntaxError(ValueError):
    """The text is not JSON, extended JSON or mongosh syntax: one line, with the column as typed."""


def parse_value(text: str) -> Any:
    """`text` (non-empty) as a Python/BSON value: objects as dicts in key order, arrays as lists."""
    rewritten, spans = _rewrite(text)
    problems: list[InputSyntaxError] = []  # json5 turns what its hooks raise into its own ValueError

    def hook(pairs: list[tuple[str, Any]]) -> Any:
        try:
            return _object(pairs)
        except InputSyntaxError as exc:
            problems.append(exc)
            raise

    def integer(digits: str) -> int:
        try:
            return _integer(digits)
        except InputSyntaxError as exc:
            problems.append(exc)
            raise

    try:
        return json5.loads(rewritten, object_pairs_hook=hook, parse_int=integer)
    except (ValueError, TypeError, BSONError, OverflowError) as exc:
        if problems:
            raise problems[0] from None
        if isinstance(exc, ValueError) and _ERROR.match(str(exc)):
            raise InputSyntaxError(_located(str(exc), text, rewritten, spans)) from None
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__  # e.g. {"$oid": "xyz"}
        raise InputSyntaxError(f"not valid extended JSON: {first}") from None


def parse_object(text: str) -> dict[str, Any]:
    """A document such as a filter; empty text is `{}`."""
    if not text.strip():
        return {}
    value = parse_value(text)
    if not isinstance(value, dict):
        raise InputSyntaxError(f"expected an object such as {{status: 'active'}}, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return "an array" if isinstance(value, list) else type(value).__name__


# ------------------------------------------------------------------ the scanner
def _rewrite(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Constructors and regex literals as marked objects; `spans` maps offsets of the output to the input's
    (one pair where each rewritten piece starts, and where the text as typed resumes)."""
    out: list[str] = []
    spans: list[tuple[int, int]] = [(0, 0)]
    length = 0
    calls = 0  # constructor calls open at this point (a `)` closes the innermost)
    i, n = 0, len(text)

    def emit(piece: str, resume: int) -> None:
        nonlocal length
        out.append(piece)
        length += len(piece)
        spans.append((length, resume))

    while i < n:
        char = text[i]
        if char in "\"'":
            end = _string_end(text, i)
            emit(text[i:end], end)
            i = end
        elif char == "/" and text.startswith(("//", "/*"), i):
            end = text.find("\n", i) if text[i + 1] == "/" else text.find("*/", i + 2) + 2
            end = n if end <= 1 or end < i else end
            emit(text[i:end], end)
            i = end
        elif char == "/":
            pattern, flags, end = _regex_literal(text, i)
            emit(f'{{"{_MARK}": ["/", {json5.dumps(pattern)}, {json5.dumps(flags)}]}}', end)
            i = end
        elif _IDENT_START.match(char):
            end = i + 1 + len(_IDENT.match(text, i + 1).group())  # type: ignore[union-attr]
            name = text[i:end]
            after = _skip_space(text, end)
            if name == "new" and after < n and _IDENT_START.match(text[after]):
                spans.append((length, after))  # `new Date(…)` is `Date(…)`
                i = after
                continue
            if after < n and text[after] == "(":
                emit(f'{{"{_MARK}": [{json5.dumps(name)}, ', after + 1)
                calls += 1
                i = after + 1
            else:
                emit(name, end)
                i = end
        elif char == ")" and calls:
            emit("]}", i + 1)
            calls -= 1
            i += 1
        else:
            start = i
            while i < n and text[i] not in "\"'/)" and not _IDENT_START.match(text[i]):
                i += 1
            i = max(i, start + 1)
            emit(text[start:i], i)
    return "".join(out), spans


def _string_end(text: str, start: int) -> int:
    quote, i = text[start], start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    return len(text)  # unterminated: json5 says so, at the end


def _regex_literal(text: str, start: int) -> tuple[str, str, int]:
    i, in_class = start + 1, False
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "\n":
            break
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "/" and not in_class:
            flags_end = i + 1
            while flags_end < len(text) and text[flags_end].isalpha():
                flags_end += 1
            return text[start + 1:i], text[i + 1:flags_end], flags_end
        i += 1
    raise InputSyntaxError(f"a regular expression at column {_column(text, start)} has no closing '/'; "
                           "write /pattern/flags such as /^ada/i")


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _column(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset)
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{col}" if "\n" not in text else f"{col} of line {line + 1}"


def _located(message: str, text: str, rewritten: str, spans: list[tuple[int, int]]) -> str:
    """json5's `<string>:1 Unexpected "}" at column 9`, as the line and column of the text as typed."""
    found = _ERROR.match(message)
    if not found:
        return f"not valid: {message}; write {ACCEPTED}"
    line, col = int(found["line"]), int(found["col"])
    offset = 0
    for _ in range(line - 1):
        offset = rewritten.index("\n", offset) + 1
    offset += col - 1
    out_at, in_at = max((s for s in spans if s[0] <= offset), key=lambda s: s[0])
    typed = min(in_at + (offset - out_at), len(text))
    what = found["what"].replace("Unexpected end of input", "the text ends too soon")
    what = what[0].lower() + what[1:] if what else "unexpected text"
    return f"not valid at column {_column(text, typed)} ({what}); write {ACCEPTED}"


# ------------------------------------------------------------------ values
def _integer(digits: str) -> int:
    value = int(digits, 0) if digits.lower().startswith(("0x", "-0x", "+0x")) else int(digits)
    if not INT64[0] <= value <= INT64[1]:
        raise InputSyntaxError(f"{digits} does not fit in a 64-bit integer; write NumberDecimal(\"{digits}\")")
    return value


def _object(pairs: list[tuple[str, Any]]) -> Any:
    if len(pairs) == 1 and pairs[0][0] == _MARK:
        name, *args = pairs[0][1]
        return _construct(name, args)
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        twice = next(key for key in keys if keys.count(key) > 1)
        raise InputSyntaxError(f"the key {twice!r} appears twice in one object (the second would replace the "
                               "first); combine them, or use $and")
    return json_util.object_pairs_hook(pairs, _OPTIONS)


def _construct(name: str, args: list[Any]) -> Any:
    maker = _CONSTRUCTORS.get(name)
    if maker is None:
        known = ", ".join(sorted({n for n in _CONSTRUCTORS if n[0].isupper()}))
        raise InputSyntaxError(f"{name}(…) is not a constructor the explorer reads; use {known}")
    try:
        return maker(*args)
    except InputSyntaxError:
        raise
    except (TypeError, ValueError, InvalidOperation, binascii.Error, OverflowError, BSONError) as exc:
        shown = ", ".join(json5.dumps(a) if isinstance(a, str | int | float) else "…" for a in args)
        call = f"/{args[0]}/{args[1]}" if name == "/" and len(args) == 2 else f"{name}({shown})"
        hint = _HINTS.get(name, "")
        raise InputSyntaxError(f"{call}: {_reason(exc)}{'; ' + hint if hint else ''}") from None


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string {what}")
    return value


def _object_id(value: Any = None) -> ObjectId:
    return ObjectId() if value is None else ObjectId(_text(value, "of 24 hexadecimal digits"))


def _date(value: Any = None) -> dt.datetime:
    """An ISO 8601 date or date-time (UTC unless it names an offset), milliseconds since 1970, or now."""
    if value is None:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=value)
    parsed = dt.datetime.fromisoformat(_text(value, "such as \"2024-01-31T10:00:00Z\""))
    return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _long(value: Any = 0) -> Int64:
    number = int(value) if isinstance(value, str) else value
    if isinstance(number, bool) or not isinstance(number, int) or not INT64[0] <= number <= INT64[1]:
        raise ValueError("expected a 64-bit integer")
    return Int64(number)


def _int(value: Any = 0) -> int:
    number = int(value) if isinstance(value, str) else value
    if isinstance(number, bool) or not isinstance(number, int) or not -(2**31) <= number < 2**31:
        raise ValueError("expected a 32-bit integer")
    return number


def _double(value: Any = 0) -> float:
    return float(value)


def _decimal(value: Any = "0") -> Decimal128:
    if isinstance(value, float):
        raise ValueError("write the number as a string, so that no digit is lost")
    return Decimal128(Decimal(str(value)))


def _uuid(value: Any = None) -> Binary:
    return Binary.from_uuid(uuid.uuid4() if value is None else uuid.UUID(_text(value, "such as \"0e9…\"")))


def _bindata(subtype: Any, data: Any) -> Binary:
    if not isinstance(subtype, int) or not 0 <= subtype <= 255:
        raise ValueError("the subtype is a number from 0 to 255")
    return Binary(base64.b64decode(_text(data, "of base64"), validate=True), subtype)


def _timestamp(time: Any = 0, increment: Any = 0) -> Timestamp:
    if isinstance(time, dict):
        time, increment = time.get("t", 0), time.get("i", 0)
    return Timestamp(int(time), int(increment))


def _regex(pattern: Any, flags: Any = "") -> Regex:
    pattern, flags = _text(pattern, "pattern"), _text(flags, "of flags")
    unknown = sorted(set(flags) - _REGEX_FLAGS)
    if unknown:
        raise ValueError(f"flag {''.join(unknown)!r} is not one MongoDB reads (i, m, x, s, u)")
    return Regex(pattern, flags)


_CONSTRUCTORS: dict[str, Callable[..., Any]] = {
    "ObjectId": _object_id, "ISODate": _date, "Date": _date, "NumberLong": _long, "Long": _long,
    "NumberInt": _int, "Int32": _int, "Double": _double, "NumberDecimal": _decimal, "Decimal128": _decimal,
    "UUID": _uuid, "BinData": _bindata, "Timestamp": _timestamp, "MinKey": lambda: MinKey(),
    "MaxKey": lambda: MaxKey(), "RegExp": _regex, "/": _regex,
}
_HINTS = {
    "ObjectId": 'write ObjectId("65f0c0ffee00000000000001")', "ISODate": 'write ISODate("2024-01-31T10:00:00Z")',
    "Date": 'write new Date("2024-01-31")', "NumberLong": 'write NumberLong("9007199254740993")',
    "NumberDecimal": 'write NumberDecimal("19.99")', "UUID": 'write UUID("0e9a3b5c-1d2e-4f60-8a7b-9c0d1e2f3a4b")',
    "BinData": 'write BinData(0, "aGVsbG8=")', "/": "write /pattern/flags such as /^ada/i",
}
