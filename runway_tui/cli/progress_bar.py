"""A backfill's progress in the CLI: one line redrawn in place on a terminal, a line per change of state
elsewhere (a CI log keeps a few lines, never thousands)."""

from __future__ import annotations

import contextlib

from runway_tui.cli.output import Printer
from runway_tui.engine.backfill.progress import BackfillFigures, BackfillState, bar, describe
from runway_tui.engine.messages import visible


class BackfillBar:
    """Fed with each `StepProgressEvent.figures`; `end` closes the line before anything else is printed."""

    def __init__(self, printer: Printer) -> None:
        self.printer = printer
        self.live = not printer.json_mode and _is_tty(printer)
        self._open = False
        self._said: tuple[str, BackfillState] | None = None

    def show(self, figures: BackfillFigures) -> None:
        text = visible(describe(figures))
        if self.live:
            self._write(f"\r\x1b[K      {bar(figures)} {text}")
            self._open = True
            if figures.state is BackfillState.DONE:
                self.end()
            return
        key = (figures.collection, figures.state)
        if key != self._said:  # a change of state (started, waiting, paused, done): one line
            self._said = key
            self.printer.note(f"      {text}")

    def end(self) -> None:
        if self._open:
            self._open = False
            self._write("\n")

    def _write(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # a closed or full stderr never fails the step
            self.printer.err.write(text)
            self.printer.err.flush()


def _is_tty(printer: Printer) -> bool:
    try:
        return printer.err.isatty()
    except (AttributeError, ValueError):
        return False
