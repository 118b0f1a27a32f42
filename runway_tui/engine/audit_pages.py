"""Pages of the audit log read by key, with queries a server answers from its `date` index.

A page is "the `limit` entries older than the last one shown" (keyset paging: no skip, no count). Each
query is a bare range on `date` over a window that grows going back in time (1 h, 12 h, 7 d, ...), the
windows disjoint, so a page costs an index range over a few hundred recent entries. SecantusDB plans an
index range only for a query on `date` alone: wrapping it in `$and` or adding an `$or` (the tie-break on
`_id`) makes it scan and sort the whole collection (~2 s at 100k entries, per query). So entries that
share the anchor's date are read with an equality on `date` and cut on `_id` here, not on the server.

A text filter cannot use the index (a regex over several fields): it costs one scan per page, once. The
filters of an incident review (`AuditFilter`: a time window, a user, actions) are equalities added to every
window's query, and their window bounds the windows: the server still answers from the `date` index.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pymongo import DESCENDING
from pymongo.collection import Collection

from runway_tui.engine.audit_filter import AuditFilter
from runway_tui.engine.models import MigrationAuditlogEntry

WINDOW_HOURS = (1, 12, 24 * 7, 24 * 60, 24 * 365 * 3, 24 * 365 * 30)
ORDER = [("date", DESCENDING), ("_id", DESCENDING)]
CLOCK_SKEW = dt.timedelta(minutes=5)


def text_query(text: str) -> dict[str, Any]:
    pattern = {"$regex": re.escape(text), "$options": "i"}
    return {"$or": [{"transaction_name": pattern}, {"migration_read_model.name": pattern}, {"user": pattern},
                    {"host": pattern}, {"exc_name": pattern}, {"exc_message": pattern}]}


def _older(entry: MigrationAuditlogEntry) -> dict[str, Any]:
    return {"$or": [{"date": {"$lt": entry.date}}, {"date": entry.date, "_id": {"$lt": entry.id}}]}


def read_page(collection: Collection[dict[str, Any]], limit: int, now: dt.datetime,
              before: MigrationAuditlogEntry | None = None, text: str = "",
              where: AuditFilter | None = None) -> list[MigrationAuditlogEntry]:
    """Up to `limit` entries, newest first, older than `before` (None: the newest, up to the server's `now`),
    matching `where` (its equalities go with every window; its `since`/`until` bound the windows)."""
    where = where or AuditFilter()
    if text:
        parts = [text_query(text), *([where.query()] if not where.empty else []),
                 *([_older(before)] if before is not None else [])]
        query = parts[0] if len(parts) == 1 else {"$and": parts}
        return [MigrationAuditlogEntry.from_document(d) for d in collection.find(query).sort(ORDER).limit(limit)]
    match = where.conditions()
    docs: list[dict[str, Any]] = []
    if before is not None and before.date is not None:
        ties = [d for d in collection.find({"date": before.date, **match}) if _before_id(d.get("_id"), before.id)]
        docs = sorted(ties, key=lambda d: d["_id"], reverse=True)[:limit]
        upper, inclusive = before.date, False
    else:
        upper, inclusive = now + CLOCK_SKEW, True  # the server's clock, not ours
    if where.until is not None and (where.until < upper or before is None):
        upper, inclusive = where.until, True
    floor = where.since
    newer = upper
    for hours in WINDOW_HOURS:
        if len(docs) >= limit or (floor is not None and newer < floor):
            break
        older = upper - dt.timedelta(hours=hours)
        bottom = {"$gte": max(older, floor)} if floor is not None else {"$gte": older}
        span = {**bottom, "$lte" if inclusive else "$lt": newer}
        docs += collection.find({"date": span, **match}).sort(ORDER).limit(limit - len(docs))
        newer, inclusive = older, False
    if len(docs) < limit and (floor is None or newer > floor):  # older than every window (or undated): rare
        rest = {"$lt": newer} if floor is None else {"$gte": floor, "$lt": newer}
        docs += collection.find({"date": rest, **match}).sort(ORDER).limit(limit - len(docs))
    return [MigrationAuditlogEntry.from_document(d) for d in docs]


def read_newer(collection: Collection[dict[str, Any]], shown: list[MigrationAuditlogEntry],
               limit: int) -> list[MigrationAuditlogEntry] | None:
    """The entries written since the newest one shown, newest first (an index range of a handful of entries
    after a step), to put in front of the newest page; None when there are too many to merge: read the page."""
    newest = shown[0] if shown else None
    if newest is None or newest.date is None:
        return None
    docs = list(collection.find({"date": {"$gte": newest.date}}).sort(ORDER).limit(limit))
    if len(docs) >= limit:
        return None
    known = {e.id for e in shown}
    return [MigrationAuditlogEntry.from_document(d) for d in docs if d.get("_id") not in known
            and (d["date"] > newest.date or _before_id(newest.id, d.get("_id")))]  # after it in the log's order


def _before_id(value: Any, anchor: Any) -> bool:
    try:
        return bool(value < anchor)
    except TypeError:  # ids of different types (not written by the engine): any fixed order will do
        return str(value) < str(anchor)
