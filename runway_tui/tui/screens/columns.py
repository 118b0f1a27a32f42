"""Choose a table's columns and their order: field paths, nested ones too (`address.city`), typed as a list."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from runway_tui.tui.format import plain


class ColumnsScreen(ModalScreen[list[str] | None]):
    """Enter in the input keeps these columns ([] for the automatic ones); Enter on a field adds or removes it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="columns-cancel")]

    def __init__(self, current: list[str], fields: list[tuple[str, int]], shown: int) -> None:
        super().__init__()
        self.current, self.fields, self.shown = current, fields, shown

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="columns-dialog"):
            yield Label(Text("Columns", style="bold"), id="dialog-title")
            yield Static(Text("Field paths in the order you want, separated by commas (nested ones too, such as "
                             "address.city). Empty: the most common fields. Enter keeps them; tab to the fields "
                             "of this page, where Enter adds or removes one.", style="dim"), id="columns-hint")
            yield Input(", ".join(self.current), id="columns-input")
            yield OptionList(*[Option(self._label(path, count), id=path) for path, count in self.fields],
                             id="columns-fields")

    def _label(self, path: str, count: int) -> Text:
        text = plain(path, style="bold" if path in self.current else "")
        text.append(f"  {count:,} of {self.shown:,}", style="dim")
        return text

    def on_mount(self) -> None:
        box = self.query_one(Input)
        box.cursor_blink = getattr(self.app, "cursor_blink", True)
        box.focus()

    def chosen(self) -> list[str]:
        return [part.strip() for part in self.query_one(Input).value.split(",") if part.strip()]

    @on(Input.Submitted)
    def _keep(self) -> None:
        self.dismiss(list(dict.fromkeys(self.chosen())))

    @on(OptionList.OptionSelected)
    def _toggle(self, event: OptionList.OptionSelected) -> None:
        path = str(event.option.id)
        chosen = self.chosen()
        chosen = [c for c in chosen if c != path] if path in chosen else [*chosen, path]
        self.query_one(Input).value = ", ".join(chosen)
        self.current = chosen
        options = self.query_one(OptionList)
        index = options.highlighted
        options.clear_options()
        options.add_options([Option(self._label(p, n), id=p) for p, n in self.fields])
        options.highlighted = index

    def action_cancel(self) -> None:
        self.dismiss(None)
