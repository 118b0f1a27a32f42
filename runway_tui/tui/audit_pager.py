"""Pane 3's pages: keyset paging by anchor (never by skipping), text filter, incremental reloads.

Mixed into `RunwayApp`; the reads themselves are the `load-audit` worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runway_tui.engine.models import MigrationAuditlogEntry
from runway_tui.tui.components.audit_pane import AuditPane
from runway_tui.tui.messages import AuditPage

if TYPE_CHECKING:
    from runway_tui.tui.app import RunwayApp


class AuditPaging:
    """The `before` anchor of every page from the newest to the one shown (None: the newest)."""

    audit_filter: str
    audit_anchors: list[MigrationAuditlogEntry | None]
    audit: AuditPage | None

    def init_audit(self) -> None:
        self.audit_filter = ""
        self.audit_anchors = [None]
        self.audit = None

    def reload_audit(self: RunwayApp, reason: str, incremental: bool = True) -> None:
        """Reload the page shown. On the newest page, unfiltered, only the entries written since are read;
        an older page is keyed by its anchor, so new entries do not shift it: it is read again as it is."""
        if self.engine is None:
            return
        page, before = self.audit, self.audit_anchors[-1]
        shown = page if (incremental and page is not None and before is None and page.before is None
                         and not page.filter_text and not self.audit_filter and page.entries) else None
        self.load_audit(reason, before, self.audit_filter, len(self.audit_anchors) - 1, shown)

    def audit_loaded(self: RunwayApp, page: AuditPage) -> None:
        if page.before is not self.audit_anchors[-1] or page.filter_text != self.audit_filter:
            return  # the user paged or filtered since: another read is on its way
        if self.audit is not None and self.audit.before is page.before and self.audit.filter_text == \
                page.filter_text and page.read_at < self.audit.read_at:
            return
        self.audit = page
        self.main.query_one(AuditPane).show(page)

    def set_audit_filter(self: RunwayApp, text: str) -> None:
        self.audit_filter, self.audit_anchors = text, [None]  # a filter starts at the newest page
        self.main.query_one(AuditPane).show_loading()
        self.reload_audit("audit-filter")

    def audit_page(self: RunwayApp, delta: int) -> None:
        """`]` older, `[` newer: by key (the last entry shown is the next page's anchor), never by skipping."""
        page = self.audit
        if page is None or page.before is not self.audit_anchors[-1] or page.filter_text != self.audit_filter:
            return  # the page asked for is on its way: one press, one page
        if delta > 0 and page.has_more and page.entries:
            self.audit_anchors.append(page.entries[-1])
        elif delta < 0 and len(self.audit_anchors) > 1:
            self.audit_anchors.pop()
        else:
            self.notify("no more audit entries that way", timeout=2)
            return
        self.main.query_one(AuditPane).show_loading()
        self.reload_audit("audit-page")
