"""Small text helpers shared by the panes and screens (plain strings: no markup is ever parsed)."""

from __future__ import annotations

import datetime as dt

from rich.text import Text

from runway_tui.engine.models import MigrationAuditlogEntry, Problem, StatusRow
from runway_tui.engine.vocabulary import action_label, duration_label, version_label

# (mark, word, style): the word keeps the state readable without colour.
STATUS_STYLES: dict[str, tuple[str, str, str]] = {
    "failed": ("×", "failed", "bold red"),
    "broken": ("!", "broken", "bold red"),
    "orphan": ("?", "orphan", "magenta"),
    "drift": ("≠", "drift", "bold yellow"),
    "out_of_order": ("↕", "out of order", "yellow"),
    "unrecorded": ("+", "new", "cyan"),
    "applied": ("✓", "applied", "green"),
    "pending": ("○", "pending", ""),
    "running": ("▶", "running", "bold yellow"),  # its runner holds the lease: nothing to resolve
    "interrupted": ("↯", "interrupted", "bold red"),  # its runner is gone before it finished: mark resolves it
}

PROBLEM_ORDER = (Problem.FAILED, Problem.BROKEN, Problem.ORPHAN, Problem.DRIFT, Problem.OUT_OF_ORDER,
                 Problem.UNRECORDED)


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


def clip(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def summary(description: str | None) -> str:
    """The first paragraph of a docstring description, on one line."""
    first = (description or "").strip().split("\n\n")[0]
    return " ".join(first.split())


def short_name(name: str, version: int | None) -> str:
    """A file stem without its version prefix (shown next to the version already)."""
    prefix = f"{version:03d}_" if version is not None else ""
    return name[len(prefix):] if prefix and name.startswith(prefix) else name
