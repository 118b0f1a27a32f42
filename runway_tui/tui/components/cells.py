"""How a value looks in the explorer's tables: one function for every table, so that `1`, `true` and `"yes"`
never look alike (colour by BSON type, strings quoted by the engine) and any further treatment of the text
that reaches the terminal applies in one place."""

from __future__ import annotations

from rich.text import Text

from runway_tui.engine.document_cells import Cell
from runway_tui.tui.format import plain

MISSING = Text("·", style="dim")
STYLES = {
    "string": "green", "int": "cyan", "long": "cyan", "double": "cyan", "decimal": "bright_cyan",
    "bool": "magenta", "null": "dim italic", "date": "yellow", "timestamp": "yellow", "objectId": "blue",
    "binData": "dim", "regex": "red", "object": "", "array": "",
}


def cell_text(cell: Cell | None) -> Text:
    """One table cell (None: the document has no such field)."""
    if cell is None:
        return MISSING
    return plain(cell.text, style=STYLES.get(cell.kind, ""), no_wrap=True, overflow="ellipsis")
