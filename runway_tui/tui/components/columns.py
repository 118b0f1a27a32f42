"""Fit a table's columns into the width its pane has: shrink the least useful first, then hand out what is left.

DataTable sizes columns to their content and crops the table at the pane's edge, which silently hides
the last columns (the description, the user). Here every column gets a width that fits; texts longer
than their column are clipped with an ellipsis, and one column (the description) takes the remaining width.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.widgets import DataTable


@dataclass
class Column:
    key: str
    labels: tuple[str, ...]  # longest first; the first that fits the width is shown
    natural: int  # the width the longest value (or the long label) needs
    compact: int | None = None  # an alternative format of this width (e.g. a shorter date, a mark only)
    width: int = 0

    @property
    def is_compact(self) -> bool:
        return self.compact is not None and self.width <= self.compact

    @property
    def label(self) -> str:
        for label in self.labels:
            if len(label) <= self.width:
                return label
        return self.labels[-1][: self.width]


Step = tuple[str, int | None]  # (column, floor); floor None switches the column to its compact format


def fit(columns: list[Column], available: int, gap: int, steps: list[Step], give_back: list[str]) -> None:
    """Set each column's width so that the row (columns + `gap` per column) fits `available` cells.

    `steps` shrink one column at a time (only as much as still needed); `give_back` lists the columns
    that receive any room left over, in order, the last one taking all of it.
    """
    by_key = {c.key: c for c in columns}
    for column in columns:
        column.width = max(column.natural, 1)
    if available <= 0:  # not laid out yet: natural widths
        return

    def excess() -> int:
        return sum(c.width for c in columns) + gap * len(columns) - available

    for key, floor in steps:
        over = excess()
        if over <= 0:
            break
        column = by_key[key]
        if floor is None:
            if column.compact is not None and column.width > column.compact:
                column.width = column.compact
        else:
            column.width = max(min(column.width, floor), column.width - over)
    spare = -excess()
    for index, key in enumerate(give_back):
        if spare <= 0:
            break
        column = by_key[key]
        if index == len(give_back) - 1:
            extra = spare
        elif column.is_compact:  # all or nothing: back to the full format only if it fits whole
            extra = column.natural - column.width if spare >= column.natural - column.width else 0
        else:
            extra = max(0, min(spare, column.natural - column.width))
        column.width += extra
        spare -= extra


def cursor_row_key(table: DataTable) -> str | None:
    """The key of the row under a DataTable's cursor (None when the table is empty or not laid out yet)."""
    if table.row_count == 0:
        return None
    try:
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
    except Exception:  # the cursor may point past the rows while they are being replaced
        return None
