"""Long texts shown in full-screen views (a document, a validator, a source, a traceback), cut to what a
terminal shows fast, with a note saying what was left out.

Rendering is linear in the text: a 15 MB document as syntax-coloured, wrapped JSON kept the screen empty
for minutes and took over a gigabyte. The view shows at most `MAX_SHOWN_LINES` lines and `MAX_SHOWN_CHARS`
characters, and any line longer than `MAX_LINE_CHARS` (one huge value: a base64 blob, a long string) is
cut in place; the note says so, and `c` still copies the whole text where a screen offers it (within
`MAX_COPY_CHARS`).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.syntax import Syntax

from runway_tui.engine.messages import visible
from runway_tui.tui.format import size

MAX_SHOWN_LINES = 1_000  # rendering costs per line (colours, numbers, wrapping): bench/large_document_bench.py
MAX_SHOWN_CHARS = 100_000
MAX_LINE_CHARS = 2_000  # a value longer than this is cut within its line
MAX_COPY_CHARS = 1_000_000  # OSC 52 carries the text base64-encoded in one write: terminals cap it far below


@dataclass(frozen=True)
class Shown:
    """What a view shows of a text: the (cut, control characters escaped) text and what was left out."""

    text: str
    note: str = ""  # empty when the text is shown whole


def cut_long(text: str, what: str = "the text", max_chars: int = MAX_SHOWN_CHARS,
             max_line: int = MAX_LINE_CHARS, max_lines: int = MAX_SHOWN_LINES) -> Shown:
    """`text` bounded for the screen: each line over `max_line` cut in place (the lines after a huge value
    are still shown), everything after `max_lines` lines or `max_chars` characters left out; control
    characters shown as escapes (line breaks and tabs kept). Lines are found with `str.find`: the text is
    never split whole."""
    lines: list[str] = []
    cut_lines = used = position = 0
    truncated = False
    while position <= len(text):
        if len(lines) == max_lines:
            truncated = True
            break
        end = text.find("\n", position)
        end = len(text) if end < 0 else end
        line = text[position:min(end, position + max_line)]
        if end - position > max_line:
            line, cut_lines = f"{line} … [cut]", cut_lines + 1
        if used + len(line) > max_chars:
            lines.append(line[: max_chars - used])
            truncated = True
            break
        lines.append(line)
        used += len(line) + 1
        position = end + 1
    notes = [f"{what} is {_amount(len(text))}: only its beginning is shown"] if truncated else []
    if cut_lines:
        notes.append(f"{cut_lines:,} line{'s' if cut_lines > 1 else ''} over {max_line:,} characters cut (… [cut])")
    return Shown(visible("\n".join(lines), keep_newlines=True, keep_tabs=True), " · ".join(notes))


def _amount(chars: int) -> str:
    return f"{chars:,} characters" if chars < 1024 * 1024 else f"{size(chars)} ({chars:,} characters)"


class RenderedOnce:
    """A renderable drawn once per width: Textual renders a widget's Rich renderable again for its height,
    each refresh and each layout (eight times for one document), and colouring a long text is the cost."""

    def __init__(self, renderable: Syntax) -> None:
        self.renderable = renderable
        self._lines: dict[int, list[list[Segment]]] = {}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        if width not in self._lines:
            self._lines[width] = console.render_lines(self.renderable, options.update(height=None), pad=False)
        new_line = Segment.line()
        for line in self._lines[width]:
            yield from line
            yield new_line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.renderable)


def code_view(shown: Shown, lexer: str, **options: object) -> RenderedOnce:
    """A `Shown` text syntax-coloured (its control characters are escapes already), rendered once."""
    return RenderedOnce(Syntax(shown.text, lexer, theme="monokai", **options))  # type: ignore[arg-type]


def too_large_to_copy(text: str) -> str | None:
    """Why `text` is not copied through the terminal (None: it may be)."""
    if len(text) <= MAX_COPY_CHARS:
        return None
    return (f"too large to copy through the terminal: {len(text):,} characters, where OSC 52 carries at most "
            f"{MAX_COPY_CHARS:,}; nothing was copied")
