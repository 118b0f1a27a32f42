"""One document in full: syntax-coloured extended JSON (already redacted by the engine), scrollable, copyable.

A very large document (or value) is shown cut, with a note (`long_text`): the screen opens at once whatever
the document's size, and `c` copies the whole of it when the terminal can take it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from runway_tui.tui.bindings import LIST_BINDINGS
from runway_tui.tui.format import plain
from runway_tui.tui.long_text import code_view, cut_long, too_large_to_copy


class DocumentView(VerticalScroll):
    BINDINGS = [Binding("j", "scroll_down", "Down", show=False), Binding("k", "scroll_up", "Up", show=False),
                *[b for b in LIST_BINDINGS if b.key in ("g", "G")]]

    def action_scroll_top(self) -> None:
        self.scroll_home()

    def action_scroll_bottom(self) -> None:
        self.scroll_end()


class DocumentScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="document-back"),
        Binding("q", "back", "Back", show=False),
        Binding("c", "copy", "Copy", id="document-copy"),
        Binding("y", "copy", "Copy", show=False),
    ]

    def __init__(self, collection: str, text: str) -> None:
        super().__init__()
        self.collection = collection
        self.text = text  # the redacted extended JSON: what is shown is exactly what is copied

    def compose(self) -> ComposeResult:
        shown = cut_long(self.text, "the document")
        with Vertical(classes="detail"):
            yield Label(Text.assemble(("Document in ", "dim"), plain(self.collection, "bold"),
                                      ("  · extended JSON · c copies it", "dim")), classes="detail-title")
            if shown.note:
                yield Label(plain(shown.note, "yellow"), id="document-note")
            with DocumentView(id="document-body", classes="detail-box") as body:
                body.border_title = "document"
                yield Static(code_view(shown, "json", word_wrap=True, line_numbers=True), id="document-json")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#document-body").focus()

    def action_copy(self) -> None:
        """OSC 52: works over SSH and in tmux (with set-clipboard on); a terminal without it ignores it."""
        refused = too_large_to_copy(self.text)
        if refused:
            self.notify(f"the document is {refused}", severity="warning", timeout=5)
            return
        self.app.copy_to_clipboard(self.text)
        self.notify(f"copied {len(self.text):,} characters (OSC 52; redacted fields stay ***)", timeout=3)

    def action_back(self) -> None:
        self.dismiss(None)
