"""`ViewLoaded`: a read of one of the Collection screen's views finished (its own module: the screen's parts,
collection_tools.py and collection_aggregate.py, post and read it without importing the screen)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class ViewLoaded(Message):
    """A read of one view finished: `result` is the engine's report, or `error` one line."""

    view: str
    token: int
    result: Any = None
    error: str | None = None
