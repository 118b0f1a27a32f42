"""The confirmation dialog every write goes through; production applications demand the typed database name."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from runway_tui.engine.sources import masked_source
from runway_tui.tui.format import plain
from runway_tui.tui.long_text import RenderedOnce, code_view, cut_long
from runway_tui.tui.words import app_words


@dataclass
class ConfirmRequest:
    """What the user is asked to approve, stated completely (no hidden defaults)."""

    title: str
    facts: list[tuple[str, str]]
    steps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    confirm_label: str = "Run"
    typed: str | None = None  # production: the text (database name) to type
    sources: list[tuple[str, str]] = field(default_factory=list)  # (title, Python source) shown after the rest
    rehearse_to: int | None = None  # an up: R rehearses the same migrations first (engine/rehearse)


def render_request(request: ConfirmRequest, max_steps: int | None = None) -> Group:
    """Facts as a two-column grid so long values wrap under themselves, then steps and warnings.

    With `max_steps`, a longer list shows its first steps and "… N more" (every step still runs)."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(justify="right", style="dim", no_wrap=True)
    grid.add_column(style="bold")
    for label, value in request.facts:  # names, addresses, descriptions: from the config, the files, the db
        grid.add_row(plain(label), plain(value))
    parts: list[Table | Text | RenderedOnce] = [grid]
    if request.steps:
        steps = Text(no_wrap=True, overflow="ellipsis")
        shown = request.steps if max_steps is None or len(request.steps) <= max_steps else \
            request.steps[:max(max_steps - 1, 1)]
        for step in shown:
            steps.append("\n  • ", style="cyan")
            steps.append_text(plain(step))
        if len(shown) < len(request.steps):
            steps.append(f"\n  … {len(request.steps) - len(shown)} more (all {len(request.steps)} run)",
                         style="bold cyan")
        parts.append(steps)
    for warning in request.warnings:
        parts.append(Text.assemble(("\n! ", "bold yellow"), plain(warning, "yellow")))
    for title, code in request.sources:  # e.g. what a revert runs: the downgrade, read from the file (not run)
        parts.append(Text.assemble(("\n", ""), plain(title, "bold cyan")))
        parts.append(code_view(cut_long(code, "the source"), "python", word_wrap=True, line_numbers=False))
    return Group(*parts)


class ConfirmScreen(ModalScreen[bool]):
    """`y` confirms, `n`/`esc` cancel; with `typed`, only the exact text followed by Enter confirms."""

    BINDINGS = [
        Binding("y", "confirm", "Confirm", show=False, id="confirm-yes"),
        Binding("n", "cancel", "Cancel", show=False, id="confirm-no"),
        Binding("escape", "cancel", "Cancel", show=False),
        Binding("j", "scroll_body(1)", "Scroll down", show=False),
        Binding("k", "scroll_body(-1)", "Scroll up", show=False),
        Binding("question_mark", "app.show_keys", "Keys", show=False),  # a dialog: the app's ? does not reach it
        Binding("R", "rehearse_first", "Rehearse first", show=False, id="confirm-rehearse"),
    ]

    # lines around the body: the screen's margin, border, padding, title, buttons (typed: hint, input, error)
    CHROME_LINES = 12
    TYPED_LINES = 7

    def __init__(self, request: ConfirmRequest) -> None:
        super().__init__(classes="-typed" if request.typed else "")
        self.request = request
        self.hidden_steps = 0

    def _body_lines(self) -> int:
        return max(self.app.size.height - self.CHROME_LINES - (self.TYPED_LINES if self.request.typed else 0), 3)

    def _max_steps(self) -> int | None:
        """As many steps as fit beside the facts and warnings, so the buttons never leave the screen."""
        request = self.request
        if not request.steps:
            return None
        room = self._body_lines() - len(request.facts) - 2 * len(request.warnings) - 1
        return len(request.steps) if room >= len(request.steps) else max(room, 2)

    def body_text(self) -> str:
        return self._rendered_text

    def compose(self) -> ComposeResult:
        self.request.warnings = [app_words(self.app, warning) for warning in self.request.warnings]  # TUI keys
        secrets = list(getattr(getattr(self.app, "app_config", None), "secrets", []) or [])
        self.request.sources = [(title, masked_source(code, secrets))  # a file's text: no password on screen
                                for title, code in self.request.sources]
        max_steps = self._max_steps()
        if max_steps is not None and max_steps < len(self.request.steps):
            self.hidden_steps = len(self.request.steps) - max(max_steps - 1, 1)
        body = render_request(self.request, max_steps)
        self._rendered_text = "\n".join(r.plain if isinstance(r, Text) else r.renderable.code
                                        for r in body.renderables if isinstance(r, Text | RenderedOnce))
        with Vertical(id="dialog", classes="dialog"):
            yield Label(plain(self.request.title), id="dialog-title")
            with VerticalScroll(id="dialog-scroll") as scroll:
                scroll.styles.max_height = self._body_lines()
                yield Static(body, id="dialog-body")
            if self.request.typed:
                yield Label(Text.assemble("Production: type the database name ", plain(self.request.typed, "bold"),
                                          " and press Enter to confirm, Esc to cancel."), id="typed-hint")
                yield Input(placeholder="type the name shown above", id="typed", select_on_focus=False)
                yield Label("", id="typed-error")
                if self.request.rehearse_to is not None:  # Tab to it: the input takes every letter
                    yield Button("Rehearse first", variant="primary", id="rehearse")
            else:
                with Horizontal(id="dialog-buttons"):
                    yield Button(f"{self.request.confirm_label} \\[y]", variant="warning", id="yes")
                    yield Button("Cancel \\[n]", variant="default", id="no")
                    if self.request.rehearse_to is not None:
                        yield Button("Rehearse first \\[R]", variant="primary", id="rehearse")

    def on_mount(self) -> None:
        for box in self.query(Input):
            box.cursor_blink = getattr(self.app, "cursor_blink", True)
        if self.request.typed:
            self.query_one("#typed", Input).focus()
        else:
            self.query_one("#no", Button).focus()  # Enter alone never runs anything

    def action_scroll_body(self, lines: int) -> None:
        """j/k scroll a long body (a revert's source) while the focus stays on Cancel."""
        self.query_one("#dialog-scroll", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_rehearse_first(self) -> None:
        """Nothing runs: the dialog closes as cancelled and the Rehearsal screen opens on the same migrations."""
        if self.request.rehearse_to is None:
            return
        from runway_tui.engine.rehearse import RehearsalRequest
        from runway_tui.tui.screens.rehearsal import RehearsalScreen

        app = self.app
        self.dismiss(False)
        app.push_screen(RehearsalScreen(RehearsalRequest(to=self.request.rehearse_to)))

    def action_confirm(self) -> None:
        if not self.request.typed:
            self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def _no(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#rehearse")
    def _rehearse(self) -> None:
        self.action_rehearse_first()

    @on(Input.Submitted, "#typed")
    def _typed(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.request.typed:
            self.dismiss(True)
        else:
            self.query_one("#typed-error", Label).update(
                plain(f"That is not {self.request.typed!r}; nothing was run.", style="bold red"))
