"""`OwnCollections`: the one answer to "which collections are runway's own", for one application.

The change stream watches them (engine/watch.py), pane 2 and the explorer mark them (engine/overview.py,
engine/inspect.py), and the guard refuses a migration's writes to them (engine/guard.py). Each store
shape says which collections it writes (`own_collections()`), so a shape that adds one (Mongorunway's
`<collection>_runway` side collections) is seen by every reader at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

RECORDS, AUDIT, LOCK = "records", "audit", "lock"  # what a change there means: the state, the audit log, the lock


@dataclass(frozen=True)
class OwnCollection:
    """One collection runway writes: its name, what pane 2 calls it, and what a change there means."""

    name: str
    label: str
    meaning: str  # RECORDS, AUDIT or LOCK


@dataclass(frozen=True)
class OwnCollections:
    """Runway's collections in one database, by name (the first one named wins a duplicate)."""

    collections: tuple[OwnCollection, ...] = ()

    @classmethod
    def of(cls, *parts: Iterable[OwnCollection]) -> OwnCollections:
        seen: dict[str, OwnCollection] = {}
        for part in parts:
            for collection in part:
                seen.setdefault(collection.name, collection)
        return cls(tuple(seen.values()))

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.collections)

    def __iter__(self) -> Iterator[OwnCollection]:
        return iter(self.collections)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(c.name for c in self.collections)

    def label(self, name: str) -> str | None:
        """What pane 2 shows for `name`, or None when it is not runway's."""
        return next((c.label for c in self.collections if c.name == name), None)

    def meanings(self) -> dict[str, str]:
        """Name -> RECORDS / AUDIT / LOCK: what the change stream reports for a change there."""
        return {c.name: c.meaning for c in self.collections}
