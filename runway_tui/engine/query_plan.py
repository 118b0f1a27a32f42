"""The query plan of the Documents view's filter and sort (issue 27): "is this query using `customer_created`?"

`explain` with `queryPlanner` verbosity plans the page's `find` (its filter, projection, sort and limit, as the
Documents view sends them) without running it, and the winning plan comes back as a tree of the stages the
server names (`IXSCAN`, `FETCH`, `COLLSCAN`, `SORT`...), each with the index it uses. With
`executionStats` the server also runs the query (bounded by `maxTimeMS`) and says how many index keys and
documents it examined for what it returned. Values in the plan are the user's own filter's; they are masked
like every value of the explorer (URI passwords, the configuration's secrets).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runway_tui.engine.inspect_values import compact, plain, to_extended_json

if TYPE_CHECKING:
    from runway_tui.engine.inspect import DocumentQuery, Inspector

VERBOSITIES = ("queryPlanner", "executionStats")
_DETAILS = (("indexName", "index"), ("keyPattern", "keys"), ("direction", "direction"),
            ("indexBounds", "bounds"), ("isMultiKey", "multikey"), ("filter", "filter"),
            ("sortPattern", "sort"), ("limitAmount", "limit"), ("skipAmount", "skip"))
_COUNTS = (("keysExamined", "keys examined"), ("docsExamined", "documents examined"), ("nReturned", "returned"))


@dataclass(frozen=True)
class PlanStage:
    stage: str
    details: list[tuple[str, str]]
    children: list[PlanStage] = field(default_factory=list)
    counts: list[tuple[str, int]] = field(default_factory=list)  # with executionStats, when the server says


@dataclass(frozen=True)
class QueryPlan:
    collection: str
    verbosity: str
    winning: PlanStage
    indexes: list[str]  # the indexes the winning plan reads (none: a collection scan)
    rejected: int
    totals: list[tuple[str, str]]  # with executionStats: keys / documents examined, returned, time
    text: str  # the server's reply (masked), for `c`
    elapsed_ms: float

    @property
    def collection_scan(self) -> bool:
        return not self.indexes


def explain(inspector: Inspector, collection: str, query: DocumentQuery, verbosity: str = "queryPlanner") -> QueryPlan:
    if verbosity not in VERBOSITIES:
        raise ValueError(verbosity)
    spec, projection, sort = inspector.prepare(query)
    command: dict[str, Any] = {"find": collection, "filter": spec, "sort": dict(sort),
                               "limit": inspector.settings.page_size + 1}
    if projection:
        command["projection"] = projection
    if not spec and sort == [("_id", 1)]:
        command["hint"] = {"_id": 1}  # as the Documents view reads its first page
    started = time.monotonic()
    with inspector.reading("explain"):
        reply = inspector.db.command({"explain": command, "verbosity": verbosity},
                                     maxTimeMS=inspector.settings.max_time_ms, read_preference=inspector.preference)
    return plan_of(collection, verbosity, reply, inspector.redactor.masked, (time.monotonic() - started) * 1000)


def plan_of(collection: str, verbosity: str, reply: dict[str, Any], mask: Any, elapsed_ms: float) -> QueryPlan:
    reply = mask(plain({k: v for k, v in reply.items() if not k.startswith("$") and k not in ("ok", "serverInfo")}))
    planner = reply.get("queryPlanner") or {}
    winning = planner.get("winningPlan") or {}
    winning = winning.get("queryPlan", winning)  # the slot-based engine nests the classic tree
    stats = reply.get("executionStats") or {}
    tree = _stage(winning, stats.get("executionStages"))
    totals = [(label, f"{int(stats[key]):,}") for key, label in (
        ("totalKeysExamined", "keys examined"), ("totalDocsExamined", "documents examined"),
        ("nReturned", "returned"), ("executionTimeMillis", "ms")) if isinstance(stats.get(key), int | float)]
    return QueryPlan(collection, verbosity, tree, _indexes(tree), len(planner.get("rejectedPlans") or []), totals,
                     to_extended_json(reply), elapsed_ms)


def _stage(node: dict[str, Any], executed: dict[str, Any] | None) -> PlanStage:
    details = [(label, compact(node[key], 80) if not isinstance(node[key], str) else node[key])
               for key, label in _DETAILS if key in node]
    same = executed if isinstance(executed, dict) and executed.get("stage") == node.get("stage") else None
    counts = [(label, int(same[key])) for key, label in _COUNTS if same and isinstance(same.get(key), int)]
    inputs = node.get("inputStages") or ([node["inputStage"]] if "inputStage" in node else [])
    executed_inputs = (same or {}).get("inputStages") or ([same["inputStage"]] if same and "inputStage" in same
                                                          else [])
    children = [_stage(child, executed_inputs[i] if i < len(executed_inputs) else None)
                for i, child in enumerate(inputs)]
    return PlanStage(str(node.get("stage", "?")), details, children, counts)


def _indexes(stage: PlanStage) -> list[str]:
    found = [value for label, value in stage.details if label == "index"]
    for child in stage.children:
        found += [name for name in _indexes(child) if name not in found]
    return found
