"""The `?` panel: generated from the main screen's live bindings, so remaps and read-only mode show as they are."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label


@dataclass(frozen=True)
class KeyRow:
    group: str
    key: str
    description: str
    help: str
    enabled: bool


class KeysScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, rows: list[KeyRow], note: str) -> None:
        super().__init__()
        self.rows = rows
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="keys-dialog", classes="dialog"):
            yield Label(Text("Keys"), id="dialog-title")
            yield DataTable(cursor_type="row", id="keys-table", zebra_stripes=False)
            yield Label(Text(self.note, style="dim"), id="keys-note")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Key", key="key")
        table.add_column("Action", key="action")
        table.add_column("What it does", key="help")
        group = None
        for row in self.rows:
            if row.group != group:
                group = row.group
                table.add_row(Text(group, style="bold cyan"), "", "")
            style = "" if row.enabled else "dim"
            table.add_row(Text(row.key, style="bold " + style if style else "bold"), Text(row.description, style=style),
                          Text(row.help + ("" if row.enabled else " (busy)"), style=style or "dim"))
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
