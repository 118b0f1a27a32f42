"""Enter on a field of the Schema view: the filters it offers (present, missing, each type, each common value),
one of which becomes the Documents view's filter, narrowing the one the sample was drawn from."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from runway_tui.engine.schema_values import SchemaFilter
from runway_tui.tui.format import plain


class SchemaFilterScreen(ModalScreen[str | None]):
    """Returns the chosen filter's text (None: cancelled)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="schema-filter-cancel"),
                Binding("j", "down", show=False), Binding("k", "up", show=False)]

    def __init__(self, path: str, filters: list[SchemaFilter], narrowing: bool) -> None:
        super().__init__()
        self.path, self.filters, self.narrowing = path, filters, narrowing

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="pick-dialog"):
            yield Label(Text.assemble(("Filter the documents by ", "dim"), (self.path, "bold")), id="dialog-title")
            yield OptionList(*[Option(Text.assemble(f.label, ("  " + f.text, "dim")), id=str(i))
                               for i, f in enumerate(self.filters)], id="pick-list")
            note = "enter shows them in Documents" + (", within the current filter" if self.narrowing else "")
            yield Label(plain(f"{note} · esc cancels", style="dim"))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.filters[int(str(event.option.id))].text)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()
