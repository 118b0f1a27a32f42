"""One document in full: syntax-coloured extended JSON (already redacted by the engine), scrollable, copyable."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from runway_tui.tui.bindings import LIST_BINDINGS


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
        with Vertical(classes="detail"):
            yield Label(Text.assemble(("Document in ", "dim"), (self.collection, "bold"),
                                      ("  · extended JSON · c copies it", "dim")), classes="detail-title")
            with DocumentView(id="document-body", classes="detail-box") as body:
                body.border_title = "document"
                yield Static(Syntax(self.text, "json", theme="monokai", word_wrap=True, line_numbers=True),
                             id="document-json")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#document-body").focus()

    def action_copy(self) -> None:
        """OSC 52: works over SSH and in tmux (with set-clipboard on); a terminal without it ignores it."""
        self.app.copy_to_clipboard(self.text)
        self.notify(f"copied {len(self.text):,} characters (OSC 52; redacted fields stay ***)", timeout=3)

    def action_back(self) -> None:
        self.dismiss(None)
