"""One row in full: every cell of the selected row, none cut, each copyable (`c` or enter, OSC 52)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


class RowScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close"), Binding("question_mark", "app.show_keys", "Keys", show=False),
                Binding("q", "close", show=False),
                Binding("c", "copy", "Copy", id="row-copy"), Binding("y", "copy", show=False),
                Binding("j", "down", show=False), Binding("k", "up", show=False)]

    def __init__(self, title: str, fields: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields

    def compose(self) -> ComposeResult:
        width = max(len(label) for label, _ in self.fields)
        options = [Option(Text.assemble((label.ljust(width + 2), "bold"), value or "—"), id=str(index))
                   for index, (label, value) in enumerate(self.fields)]
        with Vertical(classes="dialog", id="row-dialog"):
            yield Label(Text(self.title_text, style="bold"), id="dialog-title")
            yield OptionList(*options, id="row-fields")
            yield Label(Text("c or enter copies the highlighted value · esc closes", style="dim"))

    def on_mount(self) -> None:
        fields = self.query_one(OptionList)
        fields.highlighted = 0
        fields.focus()

    def action_copy(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is not None:
            self._copy(index)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self._copy(int(event.option.id or 0))

    def _copy(self, index: int) -> None:
        label, value = self.fields[index]
        if not value:
            self.notify(f"{label} is empty: nothing to copy", severity="warning", timeout=3)
            return
        self.app.copy_to_clipboard(value)
        self.notify(f"copied {label.lower()}: {value if len(value) <= 60 else value[:59] + '…'} (OSC 52)",
                    timeout=3, markup=False)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()
