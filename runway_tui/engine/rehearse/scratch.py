"""The scratch database a rehearsal runs in: where it is, and building it from what production holds.

By default it is a new database on the embedded SecantusDB daemon (`uri: embedded` starts it), or on the
server of `rehearsal: {uri: ...}` in the application's config (a staging server). Its name is new each time
(`rehearse_<database>_<8 hex>`) unless `rehearsal.database` names one; a scratch that would be the production
database itself is refused, and so is a named one that already holds collections (it is dropped afterwards).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from typing import Any

from pymongo.errors import PyMongoError

from runway_tui.engine.config import EMBEDDED, AppConfig
from runway_tui.engine.errors import UsageError
from runway_tui.engine.rehearse.production import CollectionShape

# listCollections options that `create` takes back as they are (a validator among them)
_CREATE_OPTIONS = ("capped", "size", "max", "collation", "timeseries", "expireAfterSeconds", "clusteredIndex",
                   "validator", "validationLevel", "validationAction", "changeStreamPreAndPostImages",
                   "storageEngine", "indexOptionDefaults")
_INDEX_META = ("v", "ns", "key", "name")


def scratch_config(production: AppConfig) -> AppConfig:
    """The application as it is run in the scratch: same files, names and settings, another database; never
    read-only (it is ours), no production flag, none of the project's event handlers (a notification sent
    from a rehearsal would lie)."""
    uri = getattr(production, "rehearsal_uri", None) or EMBEDDED
    named = getattr(production, "rehearsal_database", None)
    database = named or _fresh_name(production.database)
    if database == production.database and _same_server(production, uri):
        where = "the embedded daemon" if uri == EMBEDDED else "the same server"
        raise UsageError(f"refusing to rehearse: the scratch database would be the production database itself "
                         f"({production.database!r} on {where}); set applications.{production.name}.rehearsal."
                         f"database to another name")
    return replace(production, uri=uri, database=database, read_only=False, production=False, event_handlers=())


def _fresh_name(database: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", database)[:40]
    return f"rehearse_{stem}_{uuid.uuid4().hex[:8]}"


def _hosts(uri: str) -> set[str]:
    """The host:port pairs a URI names (no DNS lookup: a `mongodb+srv` name is compared as written)."""
    body = re.sub(r"^[a-z+]+://", "", uri, flags=re.I).split("/", 1)[0].split("?", 1)[0]
    body = body.rsplit("@", 1)[-1]
    hosts = set()
    for host in body.split(","):
        host = host.strip().lower()
        if host and ":" not in host.rsplit("]", 1)[-1]:
            host += ":27017"
        hosts.add(host.replace("localhost", "127.0.0.1"))
    return hosts


def _same_server(production: AppConfig, scratch_uri: str) -> bool:
    if scratch_uri == EMBEDDED or production.is_embedded:
        return scratch_uri == production.uri
    return bool(_hosts(scratch_uri) & _hosts(production.uri))


def check_empty(database: Any, named: bool) -> None:
    """A scratch database named in the config must be empty: it is dropped after the rehearsal."""
    if not named:
        return
    existing = [n for n in database.list_collection_names() if not n.startswith("system.")]
    if existing:
        raise UsageError(f"refusing to rehearse: the scratch database {database.name!r} already holds "
                         f"{len(existing)} collection(s) ({', '.join(sorted(existing)[:3])}); it would be dropped "
                         f"afterwards: name an empty one in rehearsal.database")


def create_like(database: Any, shape: CollectionShape) -> list[str]:
    """Create `shape`'s collection in the scratch with the same options, validator and indexes; the notes say
    what could not be copied (the rehearsal goes on without it, and says so)."""
    notes: list[str] = []
    if shape.kind == "view":
        options = {k: v for k, v in shape.options.items() if k in ("viewOn", "pipeline", "collation")}
        try:
            database.command({"create": shape.name, **options})
        except PyMongoError as exc:
            notes.append(f"{shape.name}: the view could not be created in the scratch ({_short(exc)})")
        return notes
    options = {k: v for k, v in shape.options.items() if k in _CREATE_OPTIONS}
    if isinstance(options.get("clusteredIndex"), dict):  # as listed it carries `v`, which `create` refuses
        clustered_spec = options["clusteredIndex"]
        options["clusteredIndex"] = {k: v for k, v in clustered_spec.items() if k in ("key", "unique", "name")}
    try:
        database.command({"create": shape.name, **options})
    except PyMongoError as exc:
        notes.append(f"{shape.name}: created without its options ({_short(exc)})")
        database.command({"create": shape.name})
    clustered = options.get("clusteredIndex") is not None
    specs = []
    for index in shape.indexes:
        if index.get("name") == "_id_" or (clustered and index.get("clustered")):
            continue
        spec = {"key": index["key"], "name": index["name"],
                **{k: v for k, v in index.items() if k not in _INDEX_META and k != "clustered"}}
        specs.append(spec)
    for spec in specs:  # one at a time: an index the scratch server does not take is a note, not the end
        try:
            database.command({"createIndexes": shape.name, "indexes": [spec]})
        except PyMongoError as exc:
            notes.append(f"{shape.name}: index {spec['name']} could not be created in the scratch ({_short(exc)})")
    return notes


def copy_documents(database: Any, name: str, documents: list[dict[str, Any]], notes: list[str]) -> None:
    if not documents:
        return
    try:
        database[name].insert_many(documents, ordered=False)
    except PyMongoError as exc:
        notes.append(f"{name}: some sampled documents could not be copied ({_short(exc)})")


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
