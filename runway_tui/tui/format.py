"""Small text helpers shared by the panes and screens (plain strings: no markup is ever parsed).

Text from a file, the server or a document reaches the screen through `plain` (a `Text` of it, control
characters shown as escapes by the engine's `visible`), `shown` (the same for a `Text` assembled from
several parts, styles kept), `clip` (one cut line) or `markup_safe` (for the borders' titles, which Textual
parses as markup): never as a string a widget would parse, never with a control character in it.
"""

from __future__ import annotations

import datetime as dt

from rich.style import Style
from rich.text import Span, Text
from textual.markup import escape

from runway_tui.engine.messages import unsafe_pattern, visible
from runway_tui.engine.models import MigrationAuditlogEntry, Problem, StatusRow
from runway_tui.engine.vocabulary import action_label, duration_label, version_label

# (mark, word, style): the word keeps the state readable without colour.
STATUS_STYLES: dict[str, tuple[str, str, str]] = {
    "failed": ("×", "failed", "bold red"),
    "audit_mismatch": ("≠", "audit ≠ record", "bold red"),
    "broken": ("!", "broken", "bold red"),
    "orphan": ("?", "orphan", "magenta"),
    "drift": ("≠", "drift", "bold yellow"),
    "out_of_order": ("↕", "out of order", "yellow"),
    "unrecorded": ("+", "new", "cyan"),
    "applied": ("✓", "applied", "green"),
    "pending": ("○", "pending", ""),
    "running": ("▶", "running", "bold yellow"),  # its runner holds the lease: nothing to resolve
    "interrupted": ("↯", "interrupted", "bold red"),  # its runner is gone before it finished: mark resolves it
    "paused": ("‖", "paused", "bold cyan"),  # a backfill at its checkpoint: u resumes it
}

PROBLEM_ORDER = (Problem.FAILED, Problem.AUDIT_MISMATCH, Problem.BROKEN, Problem.ORPHAN, Problem.DRIFT,
                 Problem.OUT_OF_ORDER, Problem.UNRECORDED)


def row_status(row: StatusRow) -> str:
    """The one status that matters most for a row: a step in progress first, then its problems."""
    if row.state == "running":
        return "running"
    for problem in PROBLEM_ORDER:
        if problem in row.problems:
            return row.state if problem is Problem.FAILED else problem.value  # failed, or interrupted
    return row.state


def status_text(row: StatusRow) -> Text:
    mark, word, style = STATUS_STYLES.get(row_status(row), ("·", row_status(row), ""))
    return Text(f"{mark} {word}", style=style)


def when(value: dt.datetime | None, seconds: bool = False) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def version_text(version: int | None) -> str:
    """A version as the CLI shows it too (`version_label`); a row without one shows a dash."""
    return "—" if version is None else version_label(version)


def action_name(entry: MigrationAuditlogEntry) -> str:
    return action_label(entry.transaction_name)


def duration(ms: int | None) -> str:
    """One format everywhere, the CLI's too (`850 ms`, `10.5 s`, `5 min 03 s`)."""
    return duration_label(ms)


def size(value: int | float | None) -> str:
    if value is None:
        return ""
    amount = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return str(value)


def plain(text: object, style: str | Style = "", *, lines: bool = False, **options: object) -> Text:
    """`text` (any value: a server may send a number where a name is expected) as a `Text` that is never
    parsed as markup and shows control characters as escapes; `lines` keeps line breaks and tabs."""
    shown_text = visible("" if text is None else str(text), keep_newlines=lines, keep_tabs=lines)
    return Text(shown_text, style=style, **options)  # type: ignore[arg-type]


def shown(text: Text, *, lines: bool = False) -> Text:
    """A `Text` assembled from data with its control characters shown as escapes, each escape in the style
    of the character it stands for (`Text()` itself drops only a few and lets ESC through to the terminal)."""
    source = text.plain
    pattern = unsafe_pattern(keep_newlines=lines, keep_tabs=lines)
    if pattern.search(source) is None:
        return text
    result = text.blank_copy()
    start = 0
    for match in pattern.finditer(source):
        result.append_text(text[start:match.start()])
        escape_text = visible(match.group())
        styles = [span.style for span in text.spans if span.start <= match.start() < span.end]
        result.append_text(Text(escape_text, spans=[Span(0, len(escape_text), style) for style in styles]))
        start = match.end()
    result.append_text(text[start:])
    return result


def markup_safe(text: object) -> str:
    """For what Textual parses as markup (a border's title or subtitle): escaped, controls made visible."""
    return escape(visible(str(text)))


def flat(text: str | None) -> str:
    """One line: whitespace runs become one space, control characters their escapes."""
    return visible(" ".join((text or "").split()))


def clip(text: str | None, width: int) -> str:
    """`flat` text of at most `width` characters (… when cut)."""
    text = flat(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def summary(description: str | None) -> str:
    """The first paragraph of a docstring description, on one line."""
    first = (description or "").strip().split("\n\n")[0]
    return " ".join(first.split())


def short_name(name: str, version: int | None) -> str:
    """A file stem without its version prefix (shown next to the version already)."""
    prefix = f"{version:03d}_" if version is not None else ""
    return name[len(prefix):] if prefix and name.startswith(prefix) else name
