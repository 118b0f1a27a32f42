"""Pane 2: the server and the database's collections (read only, estimated counts: no scans)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from runway_tui.engine.connection import ServerInfo
from runway_tui.tui.bindings import LIST_BINDINGS
from runway_tui.tui.components.columns import Column, Step, cursor_row_key, fit
from runway_tui.tui.components.plain_table import PlainTable
from runway_tui.tui.format import markup_safe, plain, shown, size

OVERVIEW_FRESH_S = 5.0  # focusing pane 2 reloads it when its overview is older than this
OVERVIEW_SETTLE_S = 1.0  # after a step, the overview reloads once steps have stopped for this long


class CollectionsTable(PlainTable):
    BINDINGS = LIST_BINDINGS

    def on_focus(self) -> None:
        """Focusing the pane reloads it (in the background): the one pane not reloaded on polls."""
        self.post_message(DatabasePane.Focused())

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]
        self._fingerprint: object = None
        self._rows: list[dict[str, Any]] = []
        self._complete = True
        self._fitted_size: object = None  # the size the columns were fitted to
        self.name_filter = ""  # `/` in pane 2: only collections whose name contains this (any case)

    # runway's own collections are marked in the name column (◆), not in a column of their own,
    # so that every column fits in half of a 120-column terminal.
    COLUMNS = (("name", "Collection"), ("count", "Docs"), ("size", "Size"), ("indexes", "Idx"),
               ("validator", "Valid"))
    # too narrow: "Valid" becomes "V" first, then long names are cut (…); room left over widens the names
    SHRINK: list[Step] = [("validator", None), ("name", 10), ("size", 6)]
    GIVE_BACK = ["validator", "name"]
    NUMBERS = ("count", "size", "indexes")

    def on_mount(self) -> None:
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)

    def on_resize(self, event: events.Resize) -> None:
        if self.size != self._fitted_size:
            self._fingerprint = None  # same rows, new width: fit the columns again
            self.show(self._rows, self._complete)

    def _fit(self, cells: list[tuple[Text, ...]]) -> list[Column]:
        """Every column within the pane's width (a DataTable would crop the last ones at its edge)."""
        columns = [Column(key, (label, "V") if key == "validator" else (label,),
                          max([len(label), *(row_cells[index].cell_len for row_cells in cells)]),
                          compact=1 if key == "validator" else None)
                   for index, (key, label) in enumerate(self.COLUMNS)]
        visible = max(self.size.height - 1, 0)
        scrollbar = self.styles.scrollbar_size_vertical if len(cells) > visible else 0
        self._fitted_size = self.size
        fit(columns, self.size.width - scrollbar, 2 * self.cell_padding, self.SHRINK, self.GIVE_BACK)
        return columns

    def set_filter(self, text: str) -> None:
        self.name_filter = text.strip()
        self.show(self._rows, self._complete)

    def show(self, rows: list[dict[str, Any]], complete: bool = True) -> None:
        self._rows, self._complete = rows, complete
        every = len(rows)
        if self.name_filter:
            needle = self.name_filter.lower()
            rows = [r for r in rows if needle in r["name"].lower()]
        if self.parent is not None:
            subtitle = f"{len(rows)} collections · ◆ runway's" if rows else "no collections yet"
            if self.name_filter:
                subtitle = f"{len(rows)} of {every} collections match {self.name_filter!r}"
            self.parent.border_subtitle = markup_safe(subtitle if complete else f"{subtitle} · reading statistics…")
        fingerprint = (complete, self.name_filter,
                       tuple(tuple(sorted((k, str(v)) for k, v in r.items())) for r in rows))
        if fingerprint == self._fingerprint:
            return
        self._fingerprint = fingerprint
        selected = self.selected_name
        cells = []
        for row in rows:
            count = row.get("count")
            waiting = not complete and row.get("type", "collection") == "collection" and count is None
            cells.append((
                plain(f"◆ {row['name']}", style="dim cyan") if row.get("ours") else plain(row["name"], style="bold"),
                Text("…" if waiting else "" if count is None else f"~{count:,}", justify="right", style="dim"
                     if waiting else ""),
                Text("…" if waiting else size(row.get("size")), justify="right", style="dim" if waiting else ""),
                Text("" if row.get("indexes") is None else str(row["indexes"]), justify="right"),
                Text("✓", style="green") if row.get("validator") else Text("—", style="dim"),
            ))
        # Each column is as wide as its widest cell, or as the pane allows (names cut with …), measured here
        # rather than by the table when it is next idle: the final layout at once, the same in every screenshot.
        self.clear(columns=True)
        columns = self._fit(cells)
        for column in columns:  # numbers are right-aligned: so are their labels
            label = Text(column.label, justify="right" if column.key in self.NUMBERS else "left")
            self.add_column(label, key=column.key, width=column.width)
        for row, row_cells in zip(rows, cells, strict=True):
            name = row_cells[0].copy()
            name.truncate(columns[0].width, overflow="ellipsis")
            self.add_row(name, *row_cells[1:], key=row["name"])
        if selected is not None:
            for index, row in enumerate(rows):
                if row["name"] == selected:
                    self.move_cursor(row=index)

    @property
    def selected_name(self) -> str | None:
        return cursor_row_key(self)

    @property
    def selected_data(self) -> dict[str, Any] | None:
        """Everything known of the selected collection (its cells in full)."""
        name = self.selected_name
        return next((row for row in self._rows if row["name"] == name), None)


class DatabasePane(Vertical):
    """The server line and the collections. The pane owns its overview (the rows shown, when they were read)
    and the pacing of its reloads (one at a time, one more after it, settled after steps); it posts `Wanted`
    when it needs one, and the app's worker hands the rows down (`accept`)."""

    @dataclass
    class Wanted(Message):
        """An overview is needed. `previous`: the rows shown, whose audit log figures a reload after a step
        keeps (its statistics cost a scan of 100k entries on some servers)."""

        previous: list[dict[str, Any]] | None

    class Focused(Message):
        """The collections list took the focus: the pane reloads unless its overview is fresh."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.reset()

    def reset(self) -> None:
        """Nothing read yet (start, another application)."""
        self.overview: list[dict[str, Any]] | None = None
        self.overview_complete = False
        self.loaded_at = 0.0  # time.monotonic() of the last complete overview
        self._reading = False
        self._reload_again = False
        self._keep_audit_row = True  # every request since the last load came after a step (see `request`)
        self._settle: Timer | None = None

    def request(self, delay: float = 0.0, after_step: bool = False) -> None:
        """Reload the overview in the background; a request while one runs is coalesced into one more run
        after it. With `delay`, wait until requests stop coming for that long (steps in a row).

        `after_step`: a step changes the collections it migrates, and adds one entry to the audit log: its row
        keeps the last figures (a full reload on `r`, on connect and when pane 2 takes the focus)."""
        self._keep_audit_row = self._keep_audit_row and after_step
        if self._settle is not None:
            self._settle.stop()
            self._settle = None
        if delay > 0:
            self._settle = self.set_timer(delay, lambda: self.request(after_step=after_step), name="overview-settle")
            return
        if self._reading:
            self._reload_again = True
            return
        light, self._keep_audit_row, self._reload_again, self._reading = self._keep_audit_row, True, False, True
        self.show_loading()
        self.app.post_message(self.Wanted(self.overview if light else None))  # to the app, as AuditPane.Wanted

    def request_if_stale(self) -> None:
        """Focus returns after every dialog: reload only an overview older than OVERVIEW_FRESH_S."""
        if time.monotonic() - self.loaded_at > OVERVIEW_FRESH_S:
            self.request()

    def accept(self, rows: list[dict[str, Any]], complete: bool, failed: bool = False) -> None:
        """Rows read for a `Wanted` (statistics may still be coming: `complete` False)."""
        if failed:
            self._reading = False
            self.show_overview(self.overview or [], complete=True)
            return
        self.overview, self.overview_complete = rows, complete
        if complete:
            self.loaded_at, self._reading = time.monotonic(), False
        self.show_overview(rows, complete=complete)
        if complete and self._reload_again:
            self.call_later(lambda: self.request(after_step=self._keep_audit_row))

    def compose(self) -> ComposeResult:
        yield Static(Text("connecting…", style="italic dim"), id="server-info")
        yield Input(placeholder="filter collections by name · Esc clears", id="collections-filter",
                    classes="filter-input")
        yield CollectionsTable(id="collections")

    def show_server(self, server: ServerInfo, address: str, database: str) -> None:
        text = Text()
        text.append(f"MongoDB {server.version}, {server.topology}")
        if server.set_name:
            text.append(f" ({server.set_name})", style="dim")
        text.append(" · ", style="dim")
        text.append("transactions" if server.supports_transactions else "no transactions",
                    style="green" if server.supports_transactions else "yellow")
        self.query_one("#server-info", Static).update(shown(text))  # what the server says of itself

    def show_loading(self) -> None:
        """A reload started: say so, and keep showing what was there (or "loading" the first time)."""
        table = self.query_one(CollectionsTable)
        if table.row_count == 0:
            self.border_subtitle = "loading collections…"
        elif not str(self.border_subtitle).endswith("…"):
            self.border_subtitle = f"{table.row_count} collections · reloading…"

    def show_overview(self, rows: list[dict[str, Any]], complete: bool) -> None:
        self.query_one(CollectionsTable).show(rows, complete)

    def show_disconnected(self, error: str) -> None:
        self.query_one("#server-info", Static).update(plain(error, style="red"))
