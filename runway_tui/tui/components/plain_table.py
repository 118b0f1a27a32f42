"""`PlainTable`: the DataTable every pane and screen uses, so that no cell can drive the terminal.

A DataTable parses a string cell as markup (a collection named `[@click=app.quit]x` would be a clickable
action) and passes control characters to the terminal as they are (a document value holding OSC 52 would
set the operator's clipboard). Here every cell, label and column header is a `Text` with its control
characters shown as escapes (`format.plain` / `format.shown`), however the caller built it.
"""

from __future__ import annotations

from rich.protocol import is_renderable
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellType, ColumnKey, RowKey

from runway_tui.tui.format import plain, shown


def safe_cell(value: object) -> object:
    """A cell as it may reach the terminal: a `Text` keeps its styles, anything else but a renderable (a
    string, a number the server sent) becomes plain `Text`; None stays an empty cell."""
    if isinstance(value, Text):
        return shown(value)
    if value is None or (is_renderable(value) and not isinstance(value, str)):
        return value
    return plain(value)


class PlainTable(DataTable[object]):
    def add_column(self, label: str | Text, *, width: int | None = None, key: str | None = None,
                   default: CellType | None = None) -> ColumnKey:
        return super().add_column(safe_cell(label), width=width, key=key, default=default)  # type: ignore[arg-type]

    def add_row(self, *cells: CellType, height: int | None = 1, key: str | None = None,
                label: str | Text | None = None) -> RowKey:
        return super().add_row(*(safe_cell(cell) for cell in cells), height=height, key=key,
                               label=None if label is None else safe_cell(label))  # type: ignore[arg-type]

    def update_cell(self, row_key: RowKey | str, column_key: ColumnKey | str, value: CellType, *,
                    update_width: bool = False) -> None:
        super().update_cell(row_key, column_key, safe_cell(value), update_width=update_width)
