"""runway-tui with the recommended engine changes applied as monkeypatches, to measure their gain.

    python bench/prototype.py [--patch exit,scan-cache,one-write] RUNWAY-TUI-ARGS...

This file never edits runway_tui/: it patches the imported modules in this process only, so the
benchmark can show what each recommendation in docs/PERFORMANCE.md buys before anyone implements it.

- exit        after the command (lock released, client closed, output flushed) leave with os._exit:
              skips pymongo's atexit join of its monitor threads, which sleep in 0.5 s slices.
- scan-cache  inspect (ast-parse) a migration file only when its (name, mtime, size) is new: kept in
              memory (a long-lived app rescans on every step; `_run` scans twice) and in
              `.runway/scan-cache.json` next to the scripts folder across processes.
- reuse-status  `_run` reuses the status `_sync` just computed when the sync wrote nothing, instead
              of reading every record and scanning every file a second time.
- one-write   the state update and the audit insert of a step go to the server as ONE command
              (`MongoClient.bulk_write`, the MongoDB 8.0 cross-collection bulkWrite), still inside
              the step's transaction.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import Any

ALL = ("exit", "scan-cache", "one-write", "reuse-status")


def patch_scan_cache() -> None:
    """Inspect a file only when its (name, mtime, size) is new: in memory for a long-lived app, and in
    `.runway/scan-cache.json` next to the scripts folder across processes (like git's index)."""
    import json

    from runway_tui.engine import scripts

    original_inspect = scripts.inspect_file
    original_scan = scripts.ScriptDirectory.scan
    cache: dict[str, list[Any]] = {}
    state = {"loaded": None, "dirty": False}

    def cache_file(directory: Any) -> Any:
        return directory.parent / ".runway" / "scan-cache.json"

    def cached(path: Any) -> Any:
        try:
            st = os.stat(path)
        except OSError:
            return original_inspect(path)
        key = f"{path.name}:{st.st_mtime_ns}:{st.st_size}"
        hit = cache.get(key)
        if hit is None:
            found = original_inspect(path)
            cache[key] = [found.name, found.version, found.description, found.checksum, found.transactional,
                          found.problem]
            state["dirty"] = True
            return found
        name, version, description, checksum, transactional, problem = hit
        return scripts.ScriptFile(path=path, name=name, version=version, description=description,
                                  checksum=checksum, transactional=transactional, problem=problem)

    def scan(self: Any) -> Any:
        target = cache_file(self.path)
        if state["loaded"] != target:
            state["loaded"] = target
            with contextlib.suppress(OSError, ValueError):
                cache.update(json.loads(target.read_text()))
        result = original_scan(self)
        if state["dirty"]:
            state["dirty"] = False
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_suffix(".tmp")
                tmp.write_text(json.dumps(cache))
                os.replace(tmp, target)
            except OSError:
                pass
        return result

    scripts.inspect_file = cached
    scripts.ScriptDirectory.scan = scan


def patch_one_write() -> None:
    from pymongo import InsertOne, UpdateOne

    from runway_tui.engine import repository, runner
    from runway_tui.engine.errors import StepFailedError

    deferred = threading.local()
    original_write_success = runner.StepRunner._write_success
    original_update = repository.MigrationRepository.update
    original_append = repository.AuditJournal.append

    def write_success(self: Any, step: Any, record: Any, checksum: str, duration: int, session: Any) -> None:
        if session is None:
            return original_write_success(self, step, record, checksum, duration, session)
        deferred.on = True
        try:
            return original_write_success(self, step, record, checksum, duration, session)
        finally:
            deferred.on = False

    def update(self: Any, version: int, fields: dict[str, Any], session: Any = None,
               expect: dict[str, Any] | None = None) -> bool:
        if session is not None and getattr(deferred, "on", False):
            deferred.pending = (self.collection, {"_id": version, **(expect or {})}, {"$set": fields})
            return True  # checked when the combined write runs
        return original_update(self, version, fields, session=session, expect=expect)

    def append(self: Any, entry: Any, session: Any = None) -> None:
        pending = getattr(deferred, "pending", None)
        if session is None or pending is None:
            return original_append(self, entry, session=session)
        deferred.pending = None
        collection, query, change = pending
        client = self.collection.database.client
        result = client.bulk_write([UpdateOne(query, change, namespace=collection.full_name),
                                    InsertOne(entry.to_document(), namespace=self.collection.full_name)],
                                   session=session, ordered=True)
        if result.matched_count != 1:
            raise StepFailedError("the migration record changed under us (another runner?); nothing was recorded")
        return None

    runner.StepRunner._write_success = write_success
    repository.MigrationRepository.update = update
    repository.AuditJournal.append = append


def patch_reuse_status() -> None:
    from runway_tui.engine import app as engine_app

    original_sync = engine_app.MigrationApp._sync
    original_status = engine_app.MigrationApp.status

    def status(self: Any) -> Any:
        stash = self.__dict__.pop("_bench_stash", None)
        if stash is not None:
            return stash
        report = original_status(self)
        if self.__dict__.get("_bench_capture"):
            self._bench_last = report
        return report

    def sync(self: Any) -> Any:
        self._bench_capture = True
        try:
            report = original_sync(self)
        finally:
            self._bench_capture = False
        if not report.changed_anything:
            self._bench_stash = self.__dict__.pop("_bench_last", None)
        return report

    engine_app.MigrationApp.status = status
    engine_app.MigrationApp._sync = sync


def apply(patches: list[str]) -> None:
    for name in patches:
        if name == "scan-cache":
            patch_scan_cache()
        elif name == "one-write":
            patch_one_write()
        elif name == "reuse-status":
            patch_reuse_status()
        elif name != "exit":
            raise SystemExit(f"unknown patch {name!r}; choose from {', '.join(ALL)}")


def main() -> None:
    argv = sys.argv[1:]
    patches = list(ALL)
    if argv[:1] == ["--patch"]:
        patches = [p for p in argv[1].split(",") if p]
        argv = argv[2:]
    apply(patches)
    from runway_tui.cli.main import main as cli_main

    code = cli_main(argv)
    if "exit" in patches:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)


if __name__ == "__main__":
    main()
