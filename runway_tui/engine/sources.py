"""The source of each applied file, kept beside its record in a collection of runway's own
(`<migrations collection>_sources`, one document per version and checksum), so that drift can be shown as
a diff of what ran against the file on disk now. Written by the step's own success write (in its transaction
when it has one); a database applied before this existed simply has no stored source.

The text is kept masked (`masked_source`): a file may hold a password in a URI, or the configuration's own
secret, and the database is no place for it. A front end showing the file now masks it the same way, so a
diff compares like with like; the checksums (drift itself) are the file's own, never the masked text's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.collection import Collection
from pymongo.database import Database

from runway_tui.engine.store.collections import RECORDS, OwnCollection
from runway_tui.engine.uri import mask_passwords, scrub

SUFFIX = "_sources"
MAX_SOURCE_BYTES = 1024 * 1024  # a larger file is not kept (a diff of it would not be read anyway)


def sources_collection(migrations_collection: str) -> str:
    return migrations_collection + SUFFIX


def masked_source(text: str, secrets: list[str]) -> str:
    """A migration file's text as runway keeps and shows it: every URI password (any scheme) and every
    known secret (`AppConfig.secrets`) as `***`."""
    return scrub(mask_passwords(text), secrets)


@dataclass(frozen=True)
class SourceWrite:
    """An upsert of one stored source: `update_one(filter, update, upsert=True)`."""

    filter: dict[str, Any]
    update: dict[str, Any]


class SourceStore:
    """Sources by (version, checksum): the same text applied twice is stored once."""

    def __init__(self, database: Database[dict[str, Any]], migrations_collection: str,
                 secrets: list[str] | None = None) -> None:
        self.collection: Collection[dict[str, Any]] = database[sources_collection(migrations_collection)]
        self.secrets = list(secrets or [])

    def own_collections(self) -> list[OwnCollection]:
        return [OwnCollection(self.collection.name, "sources", RECORDS)]

    def ensure_indexes(self) -> None:
        """Also creates the collection, so the first step's write inside a transaction only inserts."""
        self.collection.create_indexes([IndexModel([("version", ASCENDING)], name="version_1")])

    def write(self, version: int, checksum: str, name: str, text: str, when: dt.datetime) -> SourceWrite | None:
        """The one upsert that keeps `text`, masked (None when it is too large to keep); the step's write
        carries it (engine/repository.py StepStore), so it commits with the record. `checksum` is the file's."""
        if len(text.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
            return None
        text = masked_source(text, self.secrets)
        return SourceWrite({"_id": f"{version}:{checksum}"},
                           {"$setOnInsert": {"version": version, "checksum": checksum, "name": name, "source": text,
                                             "stored_at": when}})

    def find(self, version: int, checksum: str) -> str | None:
        doc = self.collection.find_one({"_id": f"{version}:{checksum}"}, {"source": 1})
        return str(doc["source"]) if doc and isinstance(doc.get("source"), str) else None
