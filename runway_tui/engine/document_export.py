"""What an explorer view shows, saved to a file (issue 27): the documents of the current query, or the results of
the current pipeline, redacted exactly as shown, as JSON lines (one relaxed extended JSON document a line) or
CSV (the view's columns; a cell a spreadsheet would read as a formula starts with `'`).

Everything the query or pipeline selects is written, up to EXPORT_LIMIT documents (said when there are more),
in one read: a find cursor or the pipeline's cursor, never page after page. The file is written beside its
final name and linked into place, so no one sees half of it and an existing file is never replaced.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runway_tui.engine.aggregate_policy import results_redactor
from runway_tui.engine.document_cells import MISSING, value_at
from runway_tui.engine.inspect_values import to_extended_json, type_name
from runway_tui.engine.page_keys import covers

if TYPE_CHECKING:
    from runway_tui.engine.inspect import DocumentQuery, Inspector

FORMATS = (".jsonl", ".csv")
EXPORT_LIMIT = 100_000
BATCH = 1000
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


class ExportError(ValueError):
    """The file cannot be written as asked (its format, an existing file, or the OS said no)."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    count: int
    truncated: bool  # EXPORT_LIMIT reached with more to come
    elapsed_ms: float


def problem_with(path: Path) -> str | None:
    """Why `path` cannot be an export's file (None when it can)."""
    if path.suffix.lower() not in FORMATS:
        return "end the name with .jsonl (JSON lines) or .csv (the format follows it)"
    if path.exists():
        return f"{path} exists; choose another name (an export never replaces a file)"
    if not path.parent.is_dir():
        return f"{path.parent} is not a folder"
    return None


def export_documents(inspector: Inspector, collection: str, query: DocumentQuery, path: Path,
                     columns: list[str], limit: int = EXPORT_LIMIT) -> ExportResult:
    """Every document the query selects, in its order, redacted as the Documents view shows them."""
    spec, projection, sort = inspector.prepare(query)  # refusals before anything is sent
    _check_path(path)
    started = time.monotonic()

    def documents() -> Iterator[dict[str, Any]]:
        cursor = inspector.db[collection].find(spec, projection).sort(sort).limit(limit + 1).batch_size(BATCH)
        cursor = cursor.max_time_ms(inspector.settings.max_time_ms)
        keyed_by_page = all(covers(projection, name) for name, _ in sort)
        with inspector.reading("export"):
            batch: list[dict[str, Any]] = []
            for doc in cursor:
                batch.append(doc)
                if len(batch) == BATCH:
                    yield from _checked(inspector, collection, spec, sort, batch, keyed_by_page)
                    batch = []
            yield from _checked(inspector, collection, spec, sort, batch, keyed_by_page)

    count, truncated = _write(path, (inspector.redactor.apply(d) for d in documents()), columns, limit)
    return ExportResult(path, count, truncated, (time.monotonic() - started) * 1000)


def _checked(inspector: Inspector, collection: str, spec: dict[str, Any], sort: list[tuple[str, int]],
             batch: list[dict[str, Any]], keyed_by_page: bool) -> list[dict[str, Any]]:
    """The batch, once its order is known to follow no redacted value (as for a page)."""
    if batch:
        keyed = batch if keyed_by_page else inspector.sort_keys(collection, spec, sort, batch, len(batch), False)
        inspector.guard.check_order(keyed, sort)
    return batch


def export_pipeline(inspector: Inspector, collection: str, text: str, path: Path, columns: list[str],
                    limit: int = EXPORT_LIMIT) -> ExportResult:
    """Every result of the pipeline (run again, from the start), redacted as the aggregate view shows them."""
    sent = inspector.policy.executed(inspector.parse_pipeline(text))  # refusals before anything is sent
    _check_path(path)
    started = time.monotonic()
    redactor = results_redactor(inspector.redactor)

    def results() -> Iterator[dict[str, Any]]:
        with inspector.reading("export"):
            cursor = inspector.db[collection].aggregate(sent, maxTimeMS=inspector.settings.max_time_ms,
                                                        batchSize=BATCH)
            try:
                for doc in cursor:
                    yield redactor.apply(doc)
            finally:
                cursor.close()

    count, truncated = _write(path, results(), columns, limit)
    return ExportResult(path, count, truncated, (time.monotonic() - started) * 1000)


def _check_path(path: Path) -> None:
    problem = problem_with(path)
    if problem:
        raise ExportError(problem)


def _write(path: Path, docs: Iterable[dict[str, Any]], columns: list[str], limit: int) -> tuple[int, bool]:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    count, truncated = 0, False
    try:
        with temporary.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n") if path.suffix.lower() == ".csv" else None
            if writer is not None:
                writer.writerow(columns)
            for doc in docs:
                if count == limit:
                    truncated = True
                    break
                if writer is not None:
                    writer.writerow([csv_cell(value_at(doc, column)) for column in columns])
                else:
                    out.write(to_extended_json(doc, indent=None) + "\n")
                count += 1
        try:
            os.link(temporary, path)  # fails if the name was taken meanwhile: never replaces a file
        except FileExistsError:
            raise ExportError(f"{path} exists; choose another name (an export never replaces a file)") from None
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        temporary.unlink(missing_ok=True)
    return count, truncated


def csv_cell(value: Any) -> str:
    """A value as a spreadsheet reads it: text as itself (a formula-like one quoted with '), numbers and
    booleans as JSON writes them, null as null, missing as an empty cell, the rest as extended JSON."""
    if value is MISSING:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA) else value
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="milliseconds") + ("Z" if value.tzinfo is None else "")
    kind = type_name(value)
    return str(value) if kind in ("objectId", "decimal") else to_extended_json(value, indent=None)
