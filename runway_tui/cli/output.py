"""Rendering for humans (aligned tables, colour only on a terminal) and for machines (JSON).

Every text printed for humans goes through `visible` here: names, descriptions, errors and a migration's
own output may come from a file, the server or another tool, and none of it may drive the terminal (a
description holding OSC 52 would otherwise set the operator's clipboard). JSON keeps the exact text: the
encoder escapes every control character, the 8-bit C1 ones included.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from typing import Any, TextIO

from runway_tui.cli.streams import StreamWriter
from runway_tui.engine.errors import ExitCode
from runway_tui.engine.messages import visible

# What json.dumps(ensure_ascii=False) leaves as it is but a terminal acts on (or cannot encode): escaped.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")



def use_colour(stream: TextIO | None) -> bool:
    try:
        tty = stream is not None and stream.isatty()
    except (OSError, ValueError):
        tty = False
    return tty and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


class Painted(str):
    """Text `Printer.paint` made visible and coloured: printed as it is."""


def _dumps(data: Any, indent: int | None = None) -> str:
    """JSON with the exact text; every control character escaped (C1 too, which `ensure_ascii=False` keeps)."""
    text = json.dumps(data, indent=indent, default=_default, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class Printer:
    """Writes results to stdout and progress/errors to stderr; a write that fails never raises (see `outcome`)."""

    COLOURS = {"green": "32", "yellow": "33", "red": "31", "dim": "2", "bold": "1", "cyan": "36"}

    def __init__(self, json_mode: bool, out: TextIO | None = None, err: TextIO | None = None,
                 json_lines: bool = False) -> None:
        self.json_mode = json_mode or json_lines
        self.json_lines = json_lines  # `--json-lines`: one JSON object per line, events then the result
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.colour = use_colour(self.out)
        self.err_colour = use_colour(self.err)
        self.writer = StreamWriter(self.out, self.err)

    def paint(self, text: str, colour: str, stream: TextIO | None = None) -> str:
        """`text` made visible, then coloured (the only escape sequences runway itself writes); the result
        may be handed to `line`/`note`, which print it as it is."""
        if isinstance(text, Painted):
            return text
        text = visible(text, keep_tabs=True)
        enabled = self.err_colour if stream is self.err else self.colour
        return Painted(f"\x1b[{self.COLOURS[colour]}m{text}\x1b[0m" if enabled and colour else text)

    def line(self, text: str = "", colour: str = "") -> None:
        self.writer.write("stdout", self.paint(text, colour))

    def note(self, text: str, colour: str = "") -> None:
        """Progress for humans on stderr; silent in JSON mode so stdout stays machine-readable."""
        if not self.json_mode:
            self.writer.write("stderr", self.paint(text, colour, self.err))

    def step_note(self, text: str, colour: str = "") -> None:
        """A step's header or outcome on stderr, in JSON mode too: a CI log says which step printed what."""
        self.writer.write("stderr", self.paint(text, colour, self.err))

    def log(self, text: str) -> None:
        """A migration's own output (print, ctx.log): always stderr, never stdout (JSON stays clean)."""
        self.writer.write("stderr", visible(text, keep_newlines=True, keep_tabs=True))

    def error(self, text: str) -> None:
        self.writer.write("stderr", f"runway-tui: error: {visible(text, keep_tabs=True)}")

    def json(self, data: Any) -> None:
        """The command's result: one indented document, or with `--json-lines` the stream's last line."""
        if self.json_lines:
            self.event({"event": "result", **data})
            return
        self.writer.write("stdout", _dumps(data, indent=2))

    def event(self, data: dict[str, Any]) -> None:
        """One line of the `--json-lines` stream."""
        self.writer.write("stdout", _dumps(data))

    def outcome(self, code: int) -> int:
        """The exit code once the output is accounted for: after a success, output that could not be written
        is its own exit code (6) and one line on stderr, if stderr still works; a failure keeps its code."""
        lost = self.writer.lost
        if code != ExitCode.OK or not lost:
            return code
        if "stdout" in lost:
            said = self.writer.first_lost_line if not self.json_mode else ""
            self.error(f"stdout could not be written ({lost['stdout']}); the command itself succeeded"
                       + (f"; stdout would have said: {said[:200]}" if said.strip() else
                          " (see 'runway-tui history' for what ran)"))
        return int(ExitCode.OUTPUT_LOST)

    def table(self, headers: list[str], rows: list[list[str]], colours: list[str] | None = None) -> None:
        rows = [[visible(cell) for cell in row] for row in rows]  # before measuring: escapes are wider
        widths = [len(h) for h in headers]
        for row in rows:
            widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
        self.line("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(), "bold")
        for index, row in enumerate(rows):
            text = "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            self.line(text, colours[index] if colours else "")


def clip(text: str, width: int) -> str:
    """`text` cut to `width` characters, the cut shown with `…` (never a silent truncation)."""
    return text if len(text) <= width else text[: max(width - 1, 0)].rstrip() + "…"


def first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def fmt_time(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat() + ("Z" if value.tzinfo is None else "")
    if hasattr(value, "to_json"):
        return value.to_json()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
