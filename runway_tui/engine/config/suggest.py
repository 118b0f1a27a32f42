"""'did you mean' for a misspelt key or name: one close match, or the names there are."""

from __future__ import annotations

import difflib


def closest(word: str, choices: list[str]) -> str:
    """'did you mean X?' or, with nothing close, the names there are."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else f"known: {', '.join(choices)}"


def did_you_mean(word: str, choices: list[str]) -> str:
    """' (did you mean X?)' when one choice is close, else nothing."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
