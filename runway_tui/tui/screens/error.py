"""Errors (and plain reports such as a plan) as a dialog: the one-line engine message, never a traceback."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from runway_tui.tui.words import app_words


class ErrorScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", show=False),
        Binding("enter", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
        Binding("question_mark", "app.show_keys", "Keys", show=False),  # a dialog: the app's ? does not reach it
    ]

    def __init__(self, title: str, message: str, details: list[str] | None = None, *, kind: str = "error",
                 connection_lost: bool = False) -> None:
        super().__init__(classes=f"-{kind}")
        self.connection_lost = connection_lost  # the app shows at most one of these at a time
        self.title_text = title
        self.message = message
        self.details = details or []
        self.shown_text = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Label(Text(self.title_text), id="dialog-title")
            with VerticalScroll(id="error-body"):
                body = Text(app_words(self.app, self.message), style="bold")  # remedies as this UI's keys
                for line in self.details:
                    body.append("\n• ", style="red" if self.has_class("-error") else "cyan")
                    body.append(app_words(self.app, line))
                self.shown_text = body.plain  # what the user reads (tests check it)
                yield Static(body)
            with Horizontal(id="dialog-buttons"):
                yield Button("Close \\[esc]", variant="error" if self.has_class("-error") else "primary", id="close")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss(None)
