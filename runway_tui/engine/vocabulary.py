"""One vocabulary for every front end: how a version and an audit action are named, and what to do next.

A remedy ("mark 9 as applied", "accept the edited file") is named here once. Engine messages say it in the
CLI's words, since `str(error)` is what CLI and API users read; a front end with its own means (the TUI's
keys) rewrites each such phrase with `rephrase`, so no message tells a TUI user to go and type a command.
A message introduces a remedy after a colon ("restore the file, or accept the edit: <remedy>"), never after
"with" or inside parentheses, so that it reads well in either front end's words (tests/engine/test_remedy_wording.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


def version_label(version: int | None) -> str:
    """A version as every front end shows it: its file-name prefix (`009`), or `none` before the first."""
    return "none" if version is None else f"{version:03d}"


def duration_label(ms: int | None) -> str:
    """A step's duration as every front end shows it (one format: `850 ms`, `10.5 s`, `5 min 03 s`)."""
    if ms is None:
        return ""
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    minutes, seconds = divmod(round(ms / 1000), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


ACTION_LABELS = {
    "UpgradeTransaction": "up", "DowngradeTransaction": "down", "MarkAppliedTransaction": "mark applied",
    "MarkPendingTransaction": "mark pending", "AcceptChecksumTransaction": "accept drift",
    "UnlockTransaction": "unlock", "ForceUnlockTransaction": "force unlock", "ForgetTransaction": "forget",
    "BaselineTransaction": "baseline", "LeaseTakenOverTransaction": "taken over",
    "AbandonedStepTransaction": "abandoned", "BackfillStartTransaction": "backfill start",
    "BackfillPauseTransaction": "backfill pause", "BackfillResumeTransaction": "backfill resume",
    "BackfillEndTransaction": "backfill end",
}


def action_label(transaction_name: str) -> str:
    """An audit entry's action as every front end names it (the stored name is Mongorunway's)."""
    return ACTION_LABELS.get(transaction_name, transaction_name)


@dataclass(frozen=True)
class Remedy:
    """One thing a user can do, as the CLI spells it; `{version}` and `{state}` are its arguments."""

    id: str
    cli: str

    @property
    def pattern(self) -> re.Pattern[str]:
        text = re.escape(self.cli)
        text = text.replace(re.escape("{version}"), r"(?P<version>\d+)")
        text = text.replace(re.escape("{state}"), r"(?P<state>applied|pending)")
        text = text.replace(re.escape("{other}"), r"(?P<other>applied|pending)")
        return re.compile(text)


# Longest first where one spelling starts another ("mark-either" before "mark", "unlock-force" before "unlock").
REMEDIES: tuple[Remedy, ...] = (
    Remedy("mark-either", "'runway-tui mark {version} --applied' or '--pending'"),
    Remedy("mark-or-rerun", "'runway-tui mark {version} --{state}', or '--{other}' to run it again"),
    Remedy("mark", "'runway-tui mark {version} --{state}'"),
    Remedy("accept", "'runway-tui accept {version}'"),
    Remedy("allow-out-of-order", "--allow-out-of-order"),
    Remedy("unlock-force", "'runway-tui unlock --force'"),
    Remedy("unlock", "run 'runway-tui unlock'"),
    Remedy("down-to", "'down --to {version}'"),
    Remedy("up-to", "'up --to {version}'"),
    Remedy("new", "'runway-tui new NAME'"),
    Remedy("forget", "'runway-tui forget {version}'"),
    Remedy("lock-wait", "--lock-wait SECONDS"),
)
_BY_ID = {remedy.id: remedy for remedy in REMEDIES}


def remedy(remedy_id: str, version: int | None = None, state: str = "", other: str = "") -> str:
    """The CLI's words for one remedy, to put in an engine message."""
    text = _BY_ID[remedy_id].cli
    return text.replace("{version}", str(version)).replace("{state}", state).replace("{other}", other)


def rephrase(text: str, render: Callable[[str, dict[str, str]], str]) -> str:
    """`text` with each remedy phrase replaced by `render(remedy_id, arguments)` (a front end's own words)."""
    for item in REMEDIES:
        text = item.pattern.sub(lambda match, item=item: render(item.id, match.groupdict()), text)  # type: ignore[misc]
    return text
