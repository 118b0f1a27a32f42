"""The read-only explorer: documents, schema, indexes, validation and the server, safe to run on production.

Every read is bounded by `maxTimeMS` (`tui.inspect_max_time_ms`) and sent with the inspection read
preference (`tui.inspect_read_preference`, default primaryPreferred, so it may go to a secondary).
Documents are paged by key (`_id`, after the user's sort if any), never by `skip`. Every value leaves
this module through `Redactor.apply` (`tui.redact_fields`; URI passwords and the configuration's secrets
masked) and as plain data or extended JSON text: the TUI never sees a BSON type. What the user types is
checked by `QueryGuard` before it is sent (inspect_redaction.py). A read the user may not make raises
`NotPermittedError`; each section of the server report degrades to "not permitted" on its own. Nothing
here writes: this module sends only find, aggregate ($sample, $indexStats, $currentOp), count,
listCollections, listIndexes, collStats, replSetGetStatus and serverStatus.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pymongo.errors import OperationFailure, PyMongoError
from pymongo.read_preferences import ReadPreference

from runway_tui.engine.aggregate_policy import PipelinePolicy, as_pipeline, results_redactor
from runway_tui.engine.aggregate_run import AggregateResults
from runway_tui.engine.catalog_reads import list_collections
from runway_tui.engine.document_cells import MAX_COLUMNS, field_counts, row_of
from runway_tui.engine.errors import RunwayError, ServerUnreachableError
from runway_tui.engine.inspect_redaction import QueryGuard, Redactor
from runway_tui.engine.inspect_reports import (
    CurrentOp,
    DocumentCount,
    DocumentPage,
    DocumentQuery,
    FieldStat,
    IndexInfo,
    IndexReport,
    InspectSettings,
    Member,
    SchemaReport,
    Section,
    ServerReport,
    ValidationReport,
)
from runway_tui.engine.inspect_schema import infer_schema
from runway_tui.engine.inspect_values import (
    InspectInputError,
    InspectRefusedError,
    InspectTimeoutError,
    NotPermittedError,
    compact,
    parse_json_object,
    parse_sort,
    plain,
    to_extended_json,
)
from runway_tui.engine.mongosh_syntax import InputSyntaxError, parse_value
from runway_tui.engine.page_keys import covers, keys_projection, value_at
from runway_tui.engine.query_plan import QueryPlan
from runway_tui.engine.query_plan import explain as explain_query
from runway_tui.engine.store import driver_errors
from runway_tui.engine.uri import scrub

if TYPE_CHECKING:
    from pymongo.database import Database

    from runway_tui.engine.app import MigrationApp

NOT_PERMITTED = "not permitted"
USAGE_NOT_REPORTED = "usage not reported by this server"
PREFERENCES = {"primary": ReadPreference.PRIMARY, "primaryPreferred": ReadPreference.PRIMARY_PREFERRED,
               "secondary": ReadPreference.SECONDARY, "secondaryPreferred": ReadPreference.SECONDARY_PREFERRED,
               "nearest": ReadPreference.NEAREST}

# Re-exported: the explorer's reports and its schema inference live in inspect_reports.py and inspect_schema.py.
__all__ = ["NOT_PERMITTED", "PREFERENCES", "USAGE_NOT_REPORTED", "CurrentOp", "DocumentCount", "DocumentPage",
           "DocumentQuery", "FieldStat", "IndexInfo", "IndexReport", "InspectSettings", "Inspector", "Member",
           "SchemaReport", "Section", "ServerReport", "ValidationReport", "infer_schema"]


class Inspector:
    """Read-only views of one database. Thread-safe (pymongo is): call it from worker threads."""

    def __init__(self, database: Database[dict[str, Any]], settings: InspectSettings | None = None,
                 secrets: list[str] | None = None, ours: set[str] | None = None) -> None:
        self.settings = settings or InspectSettings()
        preference = PREFERENCES.get(self.settings.read_preference, ReadPreference.PRIMARY_PREFERRED)
        self.preference = preference
        self.db = database.client.get_database(database.name, read_preference=preference)
        self.admin = database.client.get_database("admin", read_preference=preference)
        self.secrets = secrets or []
        self.redactor = Redactor(self.settings.redact_fields, self.secrets)
        self.guard = QueryGuard(self.redactor)
        self.policy = PipelinePolicy(self.guard)
        self.ours = ours or set()

    @classmethod
    def for_app(cls, engine: MigrationApp, settings: InspectSettings) -> Inspector:
        config = engine.config
        return cls(engine.database, settings, secrets=config.secrets, ours=set(engine.own_collections.names))

    # ------------------------------------------------------------------ errors
    @contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        """Driver errors become the explorer's one-line errors (never a traceback, never a password)."""
        try:
            yield
        except PyMongoError as exc:
            raise self._translate(exc, what) from None

    def _translate(self, exc: PyMongoError, what: str) -> RunwayError:
        """The explorer's words for a driver error (engine/store/driver_errors.py reads it)."""
        why = driver_errors.reason(exc, lambda text: scrub(text, self.secrets))
        if driver_errors.not_permitted(exc):
            return NotPermittedError(f"{what}: {NOT_PERMITTED}")
        if driver_errors.timed_out(exc):
            return InspectTimeoutError(
                f"{what}: took longer than {self.settings.max_time_ms} ms (maxTimeMS) and was stopped; "
                "narrow the filter or raise tui.inspect_max_time_ms")
        if driver_errors.is_connection_error(exc):
            return ServerUnreachableError(f"cannot reach the server: {why}")
        if isinstance(exc, OperationFailure):
            return InspectRefusedError(f"{what}: the server refused it: {why}")
        return InspectRefusedError(f"{what}: {why}")

    # ------------------------------------------------------------------ documents
    def documents(self, collection: str, query: DocumentQuery | None = None, after: Any = None,
                  columns: list[str] | None = None) -> DocumentPage:
        """One page of `page_size` documents after `after` (None: the first page), in the sort's order then
        `_id`'s. `columns` keeps the first page's columns while paging."""
        query = query or DocumentQuery()
        started = time.monotonic()
        spec, projection, sort = self.prepare(query)
        condition = spec if after is None else self._and(spec, self._after(sort, after))
        limit = self.settings.page_size
        raw = self._find(collection, condition, projection, sort, limit + 1, plain_first=not spec)
        has_more = len(raw) > limit
        raw = raw[:limit]
        keyed = raw if all(covers(projection, name) for name, _ in sort) else \
            self.sort_keys(collection, condition, sort, raw, limit, plain_first=not spec)
        self.guard.check_order(keyed, sort)
        anchor = tuple(value_at(keyed[-1], name) for name, _ in sort) if has_more and keyed else None
        shown = [self.redactor.apply(doc) for doc in raw]
        fields = sorted(field_counts(shown), key=lambda f: self.redactor.covering(f[0]) is not None)  # *** last
        columns = columns or [path for path, _ in fields[:MAX_COLUMNS]]
        rows = [row_of(doc, columns) for doc in shown]
        return DocumentPage(collection, query, columns, rows, [to_extended_json(doc) for doc in shown], has_more,
                            anchor, (time.monotonic() - started) * 1000, fields)

    def prepare(self, query: DocumentQuery) -> tuple[dict[str, Any], dict[str, Any] | None, list[tuple[str, int]]]:
        """The query's filter, projection and sort (then `_id`, for keyset pages), checked before any read."""
        spec = parse_json_object(query.filter, "filter")
        projection = parse_json_object(query.projection, "projection") or None
        sort = parse_sort(query.sort)
        self.guard.check(spec, projection, sort)
        return spec, projection, self._keyset_sort(sort)

    def explain(self, collection: str, query: DocumentQuery | None = None,
                verbosity: str = "queryPlanner") -> QueryPlan:
        """The winning plan of the page's find (query_plan.py); `executionStats` runs it, bounded by maxTimeMS."""
        return explain_query(self, collection, query or DocumentQuery(), verbosity)

    def _find(self, collection: str, condition: dict[str, Any], projection: dict[str, Any] | None,
              sort: list[tuple[str, int]], limit: int, plain_first: bool) -> list[dict[str, Any]]:
        cursor = self.db[collection].find(condition, projection).sort(sort).limit(limit)
        cursor = cursor.max_time_ms(self.settings.max_time_ms)
        if plain_first and sort == [("_id", 1)]:
            cursor = cursor.hint([("_id", 1)])  # the first page of a huge collection: the _id index, not a scan
        with self._reading("documents"):
            return list(cursor)

    def sort_keys(self, collection: str, condition: dict[str, Any], sort: list[tuple[str, int]],
                   page: list[dict[str, Any]], limit: int, plain_first: bool) -> list[dict[str, Any]]:
        """The sort keys of the page's documents when the projection does not return them (page_keys.py)."""
        wanted = keys_projection(sort)
        if page and all("_id" in doc for doc in page):
            ids = [doc["_id"] for doc in page]
            cursor = self.db[collection].find({"_id": {"$in": ids}}, wanted).max_time_ms(self.settings.max_time_ms)
            with self._reading("documents"):
                by_id = {_id_key(doc["_id"]): doc for doc in cursor}
            return [by_id.get(_id_key(i), {"_id": i}) for i in ids]
        return self._find(collection, condition, wanted, sort, limit, plain_first)[:limit]

    @staticmethod
    def _keyset_sort(sort: list[tuple[str, int]]) -> list[tuple[str, int]]:
        if not any(name == "_id" for name, _ in sort):
            sort = [*sort, ("_id", sort[-1][1] if sort else 1)]
        return sort

    @staticmethod
    def _and(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
        return second if not first else {"$and": [first, second]}

    @staticmethod
    def _after(sort: list[tuple[str, int]], anchor: tuple[Any, ...]) -> dict[str, Any]:
        """Keyset condition: (k1, k2, ...) strictly after the anchor in the sort's order.

        A missing or null value sorts first; values of another BSON type than the anchor's are compared the
        way the server's `$gt`/`$lt` compare them (within one type), so a sort over a field of mixed types
        pages within the anchor's type."""
        branches = []
        for index, (name, direction) in enumerate(sort):
            equal = {sort[i][0]: anchor[i] for i in range(index)}
            value = anchor[index]
            if value is None:
                if direction < 0:
                    continue  # nothing sorts before null when descending
                beyond: dict[str, Any] = {"$ne": None}
            else:
                beyond = {"$gt" if direction > 0 else "$lt": value}
            branches.append({**equal, name: beyond})
        return {"$or": branches} if len(branches) > 1 else (branches[0] if branches else {"_id": {"$in": []}})

    def count(self, collection: str, filter_text: str = "", exact: bool = False) -> DocumentCount | None:
        """The collection's estimated count (metadata, no scan), or with `exact` the documents matching the
        filter counted by the server; None when only an exact count can answer (a filter, not asked)."""
        spec = parse_json_object(filter_text, "filter")
        self.guard.check_filter(spec)
        started = time.monotonic()
        coll = self.db[collection]
        with self._reading("count"):
            if not exact:
                if spec:
                    return None
                value = coll.estimated_document_count(maxTimeMS=self.settings.max_time_ms)
            else:
                value = coll.count_documents(spec, maxTimeMS=self.settings.max_time_ms)
        return DocumentCount(int(value), exact, (time.monotonic() - started) * 1000)

    # ------------------------------------------------------------------ aggregate (aggregate_policy.py)
    def aggregate(self, collection: str, text: str) -> AggregateResults:
        """Check the pipeline (refusals before anything is sent), run it, and return its run: `page(1)` is the
        first batch, already read. The caller closes the run when it is done with it."""
        pipeline = self.parse_pipeline(text)
        sent = self.policy.executed(pipeline)
        size = self.settings.page_size
        with self._reading("aggregate"):
            cursor = self.db[collection].aggregate(sent, maxTimeMS=self.settings.max_time_ms, batchSize=size + 1)
        results = AggregateResults(cursor, text, size, results_redactor(self.redactor), self._reading, sent)
        try:
            results.page(1)
        except BaseException:
            results.close()
            raise
        return results

    def parse_pipeline(self, text: str) -> list[dict[str, Any]]:
        if not text.strip():
            raise InspectInputError("pipeline: type stages such as [{$match: {status: 'active'}}, "
                                    "{$group: {_id: '$city', n: {$sum: 1}}}]")
        try:
            value = parse_value(text)
        except InputSyntaxError as exc:
            raise InspectInputError(f"pipeline: {exc}") from None
        pipeline = as_pipeline(value)
        self.policy.check(pipeline)
        return pipeline

    def reading(self, what: str) -> Any:
        """Driver errors as the explorer's one-line errors, for the explorer's other engine modules."""
        return self._reading(what)

    # ------------------------------------------------------------------ schema
    def schema(self, collection: str, sample_size: int | None = None, filter_text: str = "") -> SchemaReport:
        """Field paths of a `$sample` of what the filter selects (all documents without one): nested documents
        as `a.b`, array elements as `tags[]` (documents inside arrays as `items[].sku`), with the share of
        sampled documents that have each, its types, and its common values."""
        size = sample_size or self.settings.sample_size
        spec = parse_json_object(filter_text, "filter")
        self.guard.check_filter(spec)
        started = time.monotonic()
        pipeline: list[dict[str, Any]] = [{"$match": spec}] if spec else []
        pipeline.append({"$sample": {"size": size}})
        with self._reading("schema"):
            docs = list(self.db[collection].aggregate(pipeline, maxTimeMS=self.settings.max_time_ms))
        return SchemaReport(collection, len(docs), size, infer_schema(docs, self.redactor),
                            (time.monotonic() - started) * 1000, filter_text.strip())

    # ------------------------------------------------------------------ indexes
    def indexes(self, collection: str) -> IndexReport:
        """Each index with its flags, its size (collStats) and its use since the server started ($indexStats)."""
        with self._reading("indexes"):
            reply = self.db.command({"listIndexes": collection, "cursor": {}}, maxTimeMS=self.settings.max_time_ms,
                                    read_preference=self.preference)
        specs = list(reply.get("cursor", {}).get("firstBatch", []))
        usage: dict[str, dict[str, Any]] = {}
        usage_note = None
        try:
            with self._reading("index usage"):
                for row in self.db[collection].aggregate([{"$indexStats": {}}], maxTimeMS=self.settings.max_time_ms):
                    usage[row.get("name")] = row.get("accesses") or {}
        except (NotPermittedError, InspectRefusedError, InspectTimeoutError) as exc:
            usage_note = NOT_PERMITTED if isinstance(exc, NotPermittedError) else str(exc)
        sizes: dict[str, int] = {}
        size_note = None
        try:
            with self._reading("index sizes"):
                stats = self.db.command("collStats", collection, maxTimeMS=self.settings.max_time_ms,
                                        read_preference=self.preference)
            sizes = {k: int(v) for k, v in (stats.get("indexSizes") or {}).items()}
        except (NotPermittedError, InspectRefusedError, InspectTimeoutError) as exc:
            size_note = NOT_PERMITTED if isinstance(exc, NotPermittedError) else str(exc)
        if usage and not any(accesses.get("since") is not None for accesses in usage.values()):
            usage, usage_note = {}, USAGE_NOT_REPORTED  # MongoDB dates every count; a server that does not, counts none
        rows = []
        for spec in specs:
            name = str(spec.get("name"))
            accesses = usage.get(name)
            since = accesses.get("since") if accesses else None
            ttl = spec.get("expireAfterSeconds")
            partial = spec.get("partialFilterExpression")
            rows.append(IndexInfo(
                name=self.redactor.mask(name),
                keys=to_extended_json(self.redactor.masked(spec.get("key", {})), indent=None),
                unique=bool(spec.get("unique")), sparse=bool(spec.get("sparse")),
                partial=to_extended_json(self.redactor.apply(partial), indent=None) if partial else None,
                ttl_s=int(ttl) if ttl is not None else None, hidden=bool(spec.get("hidden")), size=sizes.get(name),
                ops=int(accesses.get("ops", 0)) if accesses is not None else None,
                since=since.isoformat(sep=" ", timespec="seconds") if hasattr(since, "isoformat") else None))
        return IndexReport(collection, rows, usage_note, size_note)

    # ------------------------------------------------------------------ validation and options
    def validation(self, collection: str) -> ValidationReport:
        with self._reading("collection options"):
            infos = list_collections(self.db, read_preference=self.preference, max_time_ms=self.settings.max_time_ms,
                                     filter={"name": collection})
        if not infos:
            return ValidationReport(collection, exists=False)
        info = infos[0]
        options = dict(info.get("options") or {})
        validator = options.pop("validator", None)
        level = options.pop("validationLevel", None)
        action = options.pop("validationAction", None)
        shown: list[tuple[str, str]] = []
        if options.get("capped"):
            limits = ", ".join(f"{k} {options[k]:,}" for k in ("size", "max") if options.get(k))
            shown.append(("capped", f"yes ({limits})" if limits else "yes"))
        else:
            shown.append(("capped", "no"))
        for key, label in (("timeseries", "time series"), ("collation", "collation"),
                           ("clusteredIndex", "clustered")):
            shown.append((label, to_extended_json(plain(self.redactor.masked(options[key])), indent=None)
                           if options.get(key) else "no"))
        for key in sorted(set(options) - {"capped", "size", "max", "timeseries", "collation", "clusteredIndex"}):
            shown.append((self.redactor.mask(key), compact(plain(self.redactor.masked(options[key])), 120)))
        return ValidationReport(
            collection, exists=True,
            validator=to_extended_json(self.redactor.apply(validator)) if validator else None,
            level=level or ("strict" if validator else None), action=action or ("error" if validator else None),
            options=shown, kind=str(info.get("type", "collection")))

    # ------------------------------------------------------------------ server
    def server(self, version: str, topology: str, set_name: str | None) -> ServerReport:
        """Version and topology (from the connect probe), then three sections, each on its own privilege."""
        return ServerReport(version, topology, set_name, self._members(topology), self._operations(),
                            self._connections(), self.settings.slow_op_s, self.db.name)

    def _section(self, what: str, read: Any) -> Section:
        try:
            with self._reading(what):
                return Section(read())
        except NotPermittedError:
            return Section(None, NOT_PERMITTED)
        except (InspectRefusedError, InspectTimeoutError) as exc:
            return Section(None, str(exc))

    def _members(self, topology: str) -> Section:
        if topology != "replica set":
            return Section(None, f"{topology}: no replica set members")

        def read() -> list[Member]:
            status = self.admin.command("replSetGetStatus", maxTimeMS=self.settings.max_time_ms,
                                        read_preference=self.preference)
            members = status.get("members") or []
            primary = next((m.get("optimeDate") for m in members if m.get("stateStr") == "PRIMARY"), None)
            rows = []
            for m in members:
                optime = m.get("optimeDate")
                lag = (primary - optime).total_seconds() if primary is not None and optime is not None else None
                rows.append(Member(str(m.get("name")), str(m.get("stateStr", m.get("state"))),
                                   m.get("health", 1) == 1, lag, bool(m.get("self"))))
            return rows

        return self._section("replica set status", read)

    def _operations(self) -> Section:
        prefix = f"{self.db.name}."

        def read() -> list[CurrentOp]:
            ops = self.admin.aggregate([{"$currentOp": {"allUsers": True, "idleConnections": False}}],
                                       maxTimeMS=self.settings.max_time_ms)
            rows = []
            for op in ops:
                secs = op.get("secs_running")
                secs = float(secs if secs is not None else (op.get("microsecs_running") or 0) / 1e6)
                ns = str(op.get("ns") or "")
                if not ns.startswith(prefix) or secs < self.settings.slow_op_s:
                    continue
                command = self.redactor.apply(plain(op.get("command") or {}))
                command.pop("lsid", None)
                command.pop("$clusterTime", None)
                rows.append(CurrentOp(str(op.get("opid", "")), secs, str(op.get("op", "")), ns,
                                      str(op.get("client", "")), compact(command, 120)))
            return sorted(rows, key=lambda r: -r.secs)

        return self._section("current operations", read)

    def _connections(self) -> Section:
        def read() -> list[tuple[str, str]]:
            status = self.admin.command("serverStatus", maxTimeMS=self.settings.max_time_ms,
                                        read_preference=self.preference)
            conns = status.get("connections") or {}
            return [(key, f"{int(conns[key]):,}") for key in ("current", "available", "totalCreated", "active")
                    if key in conns]

        return self._section("connections", read)


def _id_key(value: Any) -> str:
    """A hashable stand-in for any `_id` (a document or an array is one too)."""
    return to_extended_json(value, indent=None)
