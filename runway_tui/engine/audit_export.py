"""Audit entries written to a file for an incident review: JSON (the entries as `history --json` gives them)
or CSV (one row per entry, flat columns a spreadsheet opens).

The file is written next to its final name and renamed into place, so a reader never sees half of it, and an
existing file is never replaced. A CSV cell that a spreadsheet would take for a formula (`=`, `+`, `-`, `@`)
is written with a leading `'`: an error text from a migration must not run in the reviewer's spreadsheet.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from pathlib import Path
from typing import Any

from runway_tui.engine.models import MigrationAuditlogEntry
from runway_tui.engine.vocabulary import action_label

FORMATS = (".json", ".csv")
FIRST_COLUMNS = ("date", "action", "version", "migration", "result", "error", "duration_ms", "user", "host")


class ExportError(ValueError):
    """The file cannot be written as asked (its format, an existing file, or the OS said no)."""


def entry_json(entry: MigrationAuditlogEntry) -> dict[str, Any]:
    """The entry's stored fields, JSON-ready: the session id as hex, dates as ISO 8601 UTC, `succeeded`."""
    doc = entry.to_document()
    session = entry.session_id
    doc["session_id"] = session.as_uuid().hex if hasattr(session, "as_uuid") else (
        None if session is None else str(session))
    doc["succeeded"] = entry.succeeded
    return {k: _plain(v) for k, v in doc.items()}


def entry_row(entry: MigrationAuditlogEntry) -> dict[str, str]:
    """One flat CSV row: the columns people read first, then every other stored field."""
    doc = entry_json(entry)
    model = doc.pop("migration_read_model", None) or {}
    row = {"date": doc.pop("date", "") or "", "action": action_label(entry.transaction_name),
           "version": model.get("version", ""), "migration": model.get("name", ""),
           "result": "ok" if entry.succeeded else (entry.exc_name or "error"),
           "error": doc.pop("exc_message", "") or "", "duration_ms": doc.pop("duration_ms", ""),
           "user": doc.pop("user", "") or "", "host": doc.pop("host", "") or ""}
    doc.pop("succeeded", None)
    doc.pop("exc_name", None)
    row.update({k: v for k, v in doc.items()})
    row["checksum"] = model.get("checksum", "")
    return {k: _cell(v) for k, v in row.items()}


def write_entries(path: Path, entries: list[MigrationAuditlogEntry], about: dict[str, Any]) -> Path:
    """Write `entries` as JSON or CSV, by `path`'s suffix; `about` (application, filter...) heads the JSON."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ExportError(f"{path.name}: end the name with .json or .csv (the format follows it)")
    if path.exists():
        raise ExportError(f"{path} exists; choose another name (an export never replaces a file)")
    if suffix == ".json":
        text = json.dumps({**{k: _plain(v) for k, v in about.items()}, "count": len(entries),
                           "entries": [entry_json(e) for e in entries]}, indent=2, ensure_ascii=False) + "\n"
    else:
        rows = [entry_row(e) for e in entries]
        columns = list(FIRST_COLUMNS) + sorted({k for r in rows for k in r} - set(FIRST_COLUMNS))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        if path.exists():
            raise ExportError(f"{path} exists; choose another name (an export never replaces a file)")
        temporary.replace(path)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat() + ("Z" if value.tzinfo is None else "")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
