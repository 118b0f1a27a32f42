"""What the audit pane's filter line means: free text, and the filters of an incident review as `key:value`
words (`since:2h until:2026-03-14T09:30 user:alice action:up,down`; quote a value with spaces).

Parsed on the UI thread when Enter is pressed, so a bad value is said at once; the times stay as typed and
the engine resolves a time ago against the server's clock when it reads (a relative window stays relative).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from runway_tui.engine.audit_filter import ActionError, transaction_names
from runway_tui.engine.timespec import TimeSpec, TimeSpecError

KEYS = ("since", "until", "user", "action")
HINT = "text, or since:2h until:2026-03-14T09:30 user:alice action:up,mark · Enter"


class AuditSearchError(ValueError):
    """A `key:value` word that does not parse (the message names the key and what it accepts)."""


@dataclass(frozen=True)
class AuditSearch:
    text: str = ""
    since: str | None = None
    until: str | None = None
    user: str | None = None
    action: str | None = None

    @classmethod
    def parse(cls, line: str) -> AuditSearch:
        try:
            words = shlex.split(line)
        except ValueError as exc:  # an unclosed quote
            raise AuditSearchError(f"{exc}: close the quote") from None
        found: dict[str, str] = {}
        text: list[str] = []
        for word in words:
            key, sep, value = word.partition(":")
            if not sep or key.lower() not in KEYS:
                text.append(word)
                continue
            key = key.lower()
            if not value.strip():
                raise AuditSearchError(f"{key}: give a value, e.g. {key}:{_EXAMPLE[key]}")
            if key in found:
                raise AuditSearchError(f"{key} is given twice")
            found[key] = value.strip()
        for key in ("since", "until"):
            if key in found:
                try:
                    TimeSpec.parse(found[key])
                except TimeSpecError as exc:
                    raise AuditSearchError(f"{key}: {exc}") from None
        if "action" in found:
            try:
                transaction_names(found["action"])
            except ActionError as exc:
                raise AuditSearchError(f"action: {exc}") from None
        return cls(" ".join(text), found.get("since"), found.get("until"), found.get("user"), found.get("action"))

    @property
    def filters(self) -> dict[str, str]:
        """The engine's `history` arguments beyond the text."""
        return {k: v for k, v in (("since", self.since), ("until", self.until), ("user", self.user),
                                  ("action", self.action)) if v is not None}


_EXAMPLE = {"since": "2h", "until": "2026-03-14T09:30", "user": "alice", "action": "up"}


def parse_or_none(line: str) -> AuditSearch:
    """For the worker: the line was checked when it was entered (an old line that no longer parses: text)."""
    try:
        return AuditSearch.parse(line)
    except AuditSearchError:
        return AuditSearch(line)
