"""Pane 2's overview: collections first, statistics as they arrive, coalesced and settled after steps.

Mixed into `RunwayApp`; the reads themselves are the `overview` worker.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from textual.timer import Timer

from runway_tui.tui.components.database_pane import DatabasePane
from runway_tui.tui.messages import OverviewLoaded

if TYPE_CHECKING:
    from runway_tui.tui.app import RunwayApp

OVERVIEW_FRESH_S = 5.0  # focusing pane 2 reloads it when its overview is older than this
OVERVIEW_SETTLE_S = 1.0  # after a step, the overview reloads once steps have stopped for this long


class OverviewLoading:
    overview: list[dict[str, Any]] | None
    overview_complete: bool

    def init_overview(self) -> None:
        self.overview = None
        self.overview_complete = False
        self._overview_again = False
        self._overview_light = True  # every request since the last load came after a step (see request_overview)
        self._overview_timer: Timer | None = None
        self._overview_at = 0.0  # time.monotonic() of the last complete overview

    def overview_on_focus(self: RunwayApp) -> None:
        """Pane 2 got the focus: reload it unless it was just read (focus also returns after every dialog)."""
        if self.engine is not None and time.monotonic() - self._overview_at > OVERVIEW_FRESH_S:
            self.request_overview()

    def request_overview(self: RunwayApp, delay: float = 0.0, after_step: bool = False) -> None:
        """Reload the database overview in the background; a request while one runs is coalesced into one
        more run after it. With `delay`, wait until requests stop coming for that long (steps in a row).

        `after_step`: a step changes the collections it migrates, and adds one entry to the audit log,
        whose statistics cost a scan of 100k entries on some servers: its row keeps the last figures
        (a full reload on `r`, on connect and when pane 2 takes the focus)."""
        if self.engine is None or not self.screen_stack:  # a settle timer may fire while the app exits
            return
        self._overview_light = self._overview_light and after_step
        if self._overview_timer is not None:
            self._overview_timer.stop()
            self._overview_timer = None
        if delay > 0:
            self._overview_timer = self.set_timer(delay, lambda: self.request_overview(after_step=after_step),
                                                  name="overview-settle")
            return
        if self._worker_running("overview"):
            self._overview_again = True
            return
        light, self._overview_light, self._overview_again = self._overview_light, True, False
        self.main.query_one(DatabasePane).show_loading()
        self.load_overview(self.overview if light else None)

    def overview_loaded(self: RunwayApp, message: OverviewLoaded) -> None:
        if message.failed:
            self.main.query_one(DatabasePane).show_overview(self.overview or [], complete=True)
            return
        self.overview, self.overview_complete = message.rows, message.complete
        if message.complete:
            self._overview_at = time.monotonic()
        self.main.query_one(DatabasePane).show_overview(message.rows, complete=message.complete)
        if message.complete and self._overview_again:
            self.call_later(lambda: self.request_overview(after_step=self._overview_light))
