"""One run of a pipeline in the aggregate view, read a page at a time from one server cursor (issue 27).

A pipeline's results have no key to page by, and on a server that scans (SecantusDB reads every document
for most pipelines) running it again for each page would cost a whole run per page. So the run keeps its
cursor: the first page is the aggregate command's first batch (`batchSize` is one page and one more, to
know whether there is a next), `]` reads the next batch with getMore, and pages already read are kept, so
`[` goes back without a read. At most MAX_PAGES pages are kept; past them the run says so. The cursor is
closed (killCursors) when the run is replaced, cancelled or left; a server forgets an idle cursor after
about ten minutes, and paging then says to run the pipeline again.

Thread-safe: the TUI's workers call `page` and `close` from threads; a lock keeps one read at a time.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

from pymongo.errors import PyMongoError

from runway_tui.engine.document_cells import MAX_COLUMNS, Cell, field_counts, row_of
from runway_tui.engine.inspect_values import InspectInputError, to_extended_json
from runway_tui.engine.store import driver_errors

if TYPE_CHECKING:
    from runway_tui.engine.inspect_redaction import Redactor

MAX_PAGES = 200


@dataclass(frozen=True)
class AggregatePage:
    """One page of results: cells under `columns` and each result's redacted extended JSON."""

    number: int  # 1-based
    first: int  # the 0-based index of the page's first result
    columns: list[str]
    rows: list[list[Cell | None]]
    documents: list[str]
    has_more: bool
    elapsed_ms: float
    fields: list[tuple[str, int]] = field(default_factory=list)


class AggregateResults:
    """The pages of one run; `page(n)` reads what is missing up to page n (from a worker thread)."""

    def __init__(self, cursor: Any, text: str, page_size: int, redactor: Redactor, reading: Any,
                 sent: list[dict[str, Any]]) -> None:
        self.text = text  # the pipeline as typed
        self.sent = sent  # as sent (with the server-side redaction, if any)
        self._cursor = cursor
        self._page_size = page_size
        self._redactor = redactor
        self._reading = reading
        self._lock = threading.Lock()
        self._pages: list[AggregatePage] = []
        self._shown: list[list[dict[str, Any]]] = []  # each page's redacted results (for other columns)
        self._ahead: list[dict[str, Any]] = []  # the result read to know there is a next page
        self._done = False
        self.columns: list[str] | None = None  # the first page's (or the chosen ones), kept while paging

    @property
    def pages_read(self) -> int:
        return len(self._pages)

    def page(self, number: int, columns: list[str] | None = None) -> AggregatePage:
        with self._lock:
            if columns is not None and columns != self.columns:
                self.columns = columns
                self._pages = [self._relabel(index) for index in range(len(self._pages))]
            while len(self._pages) < number:
                if self._pages and not self._pages[-1].has_more:
                    raise InspectInputError("aggregate: no more results")
                if len(self._pages) >= MAX_PAGES:
                    raise InspectInputError(f"aggregate: {MAX_PAGES} pages read; narrow the pipeline ($match, "
                                            "$limit) to see further")
                self._pages.append(self._read_next())
            return self._pages[number - 1]

    def _read_next(self) -> AggregatePage:
        started = time.monotonic()
        wanted = self._page_size + 1 - len(self._ahead)
        if self._cursor is None and not self._done:  # closed before the server's last batch
            raise InspectInputError("aggregate: this run was stopped; press Enter in the pipeline to run it again")
        with self._reading("aggregate"):
            try:
                batch = [*self._ahead, *islice(self._cursor, max(wanted, 0))] if not self._done else list(self._ahead)
            except PyMongoError as exc:
                if driver_errors.cursor_lost(exc):
                    raise InspectInputError("aggregate: the server forgot these results (idle too long); press "
                                            "Enter in the pipeline to run it again") from None
                raise
        self._done = self._done or len(batch) <= self._page_size
        self._ahead = batch[self._page_size:]
        shown = [self._redactor.apply(doc) for doc in batch[: self._page_size]]
        fields = field_counts(shown)
        if self.columns is None:
            self.columns = [path for path, _ in fields[:MAX_COLUMNS]]
        first = sum(len(p.documents) for p in self._pages)
        self._shown.append(shown)
        return AggregatePage(len(self._pages) + 1, first, self.columns, [row_of(doc, self.columns) for doc in shown],
                             [to_extended_json(doc) for doc in shown], bool(self._ahead),
                             (time.monotonic() - started) * 1000, fields)

    def _relabel(self, index: int) -> AggregatePage:
        page, columns = self._pages[index], self.columns or []
        return AggregatePage(page.number, page.first, columns, [row_of(doc, columns) for doc in self._shown[index]],
                             page.documents, page.has_more, page.elapsed_ms, page.fields)

    def close(self) -> None:
        """Ends the server cursor (killCursors); safe to call twice and from any thread."""
        with self._lock:
            cursor, self._cursor = self._cursor, None
        if cursor is not None:
            with contextlib.suppress(Exception):  # the server forgets it anyway; closing must not fail a view
                cursor.close()
