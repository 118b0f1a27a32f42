"""What the explorer hands to the front ends: its settings, the user's query, and one report per view (documents,
schema, indexes, validation, the server). Plain data: every value in them is already redacted (inspect.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runway_tui.engine.document_cells import Cell
from runway_tui.engine.schema_values import SchemaFilter, TopValue

if TYPE_CHECKING:
    from runway_tui.engine.config import TuiConfig


@dataclass(frozen=True)
class InspectSettings:
    """How the explorer reads: bounds, where reads may go, what it hides."""

    max_time_ms: int = 5000
    read_preference: str = "primaryPreferred"
    sample_size: int = 1000
    slow_op_s: float = 1.0
    redact_fields: tuple[str, ...] = ()
    page_size: int = 50

    @classmethod
    def from_tui(cls, tui: TuiConfig) -> InspectSettings:
        return cls(max_time_ms=tui.inspect_max_time_ms, read_preference=tui.inspect_read_preference,
                   sample_size=tui.schema_sample_size, slow_op_s=tui.slow_op_threshold_s,
                   redact_fields=tuple(tui.redact_fields))


@dataclass(frozen=True)
class DocumentQuery:
    """What the user typed (extended JSON text); parsed by the engine, so a bad one is one line of error."""

    filter: str = ""
    projection: str = ""
    sort: str = ""

    @property
    def is_default(self) -> bool:
        return not (self.filter.strip() or self.projection.strip() or self.sort.strip())


@dataclass(frozen=True)
class DocumentPage:
    """One page: table cells under `columns` (field paths; typed, redacted; None where a document lacks the
    field) and the full redacted extended JSON of each document. `next_anchor` is opaque: hand it back for the
    next page. `fields` lists every column path of the page with how many documents have it, most common first
    (what a column picker offers)."""

    collection: str
    query: DocumentQuery
    columns: list[str]
    rows: list[list[Cell | None]]
    documents: list[str]
    has_more: bool
    next_anchor: Any
    elapsed_ms: float
    fields: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class DocumentCount:
    count: int
    exact: bool
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class FieldStat:
    """One field path of the sample: in how many documents it occurs, its types' shares there, its most common
    values when it has few, and the filters that select it, a type or a value (schema_values.py)."""

    path: str
    present: int
    percent: float
    types: list[tuple[str, float]]
    values: list[TopValue] = field(default_factory=list)  # the most common ones, for a field with few
    redacted: bool = False
    filters: list[SchemaFilter] = field(default_factory=list)  # what Enter on the field offers

    @property
    def always(self) -> bool:
        return self.present > 0 and self.percent >= 100.0


@dataclass(frozen=True)
class SchemaReport:
    collection: str
    sampled: int
    requested: int
    fields: list[FieldStat]
    elapsed_ms: float
    filter: str = ""  # the filter the sample was drawn from ("" for the whole collection)


@dataclass(frozen=True)
class IndexInfo:
    name: str
    keys: str
    unique: bool = False
    sparse: bool = False
    partial: str | None = None
    ttl_s: int | None = None
    hidden: bool = False
    size: int | None = None
    ops: int | None = None
    since: str | None = None

    @property
    def never_used(self) -> bool:
        return self.ops == 0

    @property
    def flags(self) -> list[str]:
        shown = [name for name, on in (("unique", self.unique), ("sparse", self.sparse),
                                        ("partial", self.partial is not None), ("hidden", self.hidden)) if on]
        if self.ttl_s is not None:
            shown.append(f"TTL {self.ttl_s}s")
        return shown


@dataclass(frozen=True)
class IndexReport:
    collection: str
    indexes: list[IndexInfo]
    usage_note: str | None = None  # "not permitted" when $indexStats is refused; USAGE_NOT_REPORTED without counts
    size_note: str | None = None


@dataclass(frozen=True)
class ValidationReport:
    collection: str
    exists: bool
    validator: str | None = None
    level: str | None = None
    action: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    kind: str = "collection"


@dataclass(frozen=True)
class Member:
    name: str
    state: str
    healthy: bool
    lag_s: float | None
    is_self: bool = False


@dataclass(frozen=True)
class CurrentOp:
    opid: str
    secs: float
    op: str
    ns: str
    client: str
    summary: str


@dataclass(frozen=True)
class Section:
    """One part of the server report: its rows, or why there are none ("not permitted", an error)."""

    rows: list[Any] | None
    note: str | None = None


@dataclass(frozen=True)
class ServerReport:
    version: str
    topology: str
    set_name: str | None
    members: Section
    operations: Section
    connections: Section  # rows: [(label, value)]
    threshold_s: float
    database: str
