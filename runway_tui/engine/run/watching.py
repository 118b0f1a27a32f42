"""`StepWatch`: runway's own collections watched while a migration runs (engine/guard.py).

The guard sees, on the wire, what a migration sends to runway's collections; a look at the catalog (each
collection's UUID) after the migration's code tells a drop or a rename by any client. A change found before
the step is kept fails the step (rolled back with its transaction when it can be); one that could not be
undone is said loudly (`tampered`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pymongo
from pymongo.errors import ConnectionFailure, PyMongoError

from runway_tui.engine.errors import RunwayCollectionsChangedError
from runway_tui.engine.guard import Change, catalog, catalog_changes
from runway_tui.engine.interrupts import deferred
from runway_tui.engine.messages import exception_line
from runway_tui.engine.models import Step

if TYPE_CHECKING:
    from runway_tui.engine.run.deps import RunDeps

CATALOG_BUDGET_S = 5.0  # one `listCollections` of runway's collections (engine/guard.py): milliseconds, normally
# The catalog is looked at after a step when this long has passed since the last look, and always after a
# run's last step: every step of real work gets its own look, a run of 1000 no-op steps a few dozen.
LOOK_EVERY_S = 0.1


class StepWatch:
    """The guard and the catalog looks of one runner, step after step."""

    def __init__(self, deps: RunDeps, call: Callable[[Step, Callable[..., Any], Any], None]) -> None:
        self.deps = deps
        self._call = call  # runs the migration's own code (the runner's `_call`)
        # runway's collections (name -> UUID) as the last step left them (engine/guard.py); None: read it first
        self._catalog: dict[str, Any] | None = None
        self._changes: list[Change] = []  # the guard's findings for the current step, across its windows
        self._looking: concurrent.futures.Future[dict[str, Any] | None] | None = None  # the catalog, being read
        self._looked_at = 0.0  # monotonic time of the last look at the catalog
        self._unlooked: list[str] = []  # steps run since the last look (whose catalog changes it would see)
        self._last_of_run = True  # the current step is the run's last: its catalog is always looked at
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self.tampered = False  # a step of this run changed runway's collections in a way that was not undone

    def new_run(self) -> None:
        """A new run: runway's collections are read again before its first step."""
        self._catalog, self._looking, self.tampered, self._unlooked = None, None, False, []

    def begin(self, *, last_of_run: bool) -> None:
        """A new attempt: the collections as they are now (once a run), and the guard armed."""
        self._last_of_run, self._changes = last_of_run, []
        if self._looking is not None:  # a look left behind by a step that failed first: start afresh
            self._looking, self._catalog = None, None
        if self._catalog is None:
            self._catalog = self._read_catalog()
        self._resume(None, None)

    def _resume(self, session: Any, transaction: Any) -> None:
        self.deps.guard.arm(ignore_threads=[self.deps.lease.heartbeat_ident])
        if session is not None:
            self.deps.guard.in_transaction(session.session_id, transaction)

    def pause(self) -> None:
        """The engine writes now (`applying`...): the guard looks away, keeping what it saw."""
        self._changes += self.deps.guard.disarm()

    def call(self, step: Step, function: Callable[..., Any], session: Any, transaction: Any) -> None:
        """The migration's code with the guard on: a change to runway's collections seen on the wire fails the
        step at once; the look at the catalog starts now and is taken by `verdict`, before anything of
        the step is kept (so that its round trip overlaps the step's own next one)."""
        with deferred():
            self._resume(session, transaction)
        try:
            self._call(step, function, session)
        except BaseException as exc:  # noqa: BLE001 - the guard's verdict may replace it
            with deferred():
                verdict = self.end(step, exc)
            if verdict is exc:
                raise
            raise verdict from exc
        with deferred():
            self._changes += self.deps.guard.disarm()
            if self._changes:  # seen on the wire: no need to wait for the catalog
                verdict = self.end(step, None)
                if verdict is not None:
                    raise verdict
            self._unlooked.append(step.name)
            if self._last_of_run or time.monotonic() - self._looked_at >= LOOK_EVERY_S:
                self._looking = self._lookout().submit(self._read_catalog)

    def verdict(self, step: Step) -> None:
        """Before the step's success is committed (or, without a transaction, written): the catalog compared
        with before the step; a drop or rename by any client fails the step."""
        looking, self._looking = self._looking, None
        if looking is None:
            return
        try:
            after = looking.result(timeout=CATALOG_BUDGET_S + 1)
        except Exception:  # noqa: BLE001 - a lost server: the step's own writes say what matters
            after = None
        verdict = self.end(step, None, after=after, looked=True)
        if verdict is not None:
            raise verdict

    def explained(self, step: Step, exc: BaseException) -> BaseException:
        """A failure after the migration's code (its record gone, a write conflict...): the catalog look still
        under way says whether the migration caused it by changing runway's collections."""
        if self._looking is None and not self._unlooked:
            return exc
        with deferred():
            if self._looking is None:  # not looked at yet (a fast step): look now, the step failed anyway
                self._looking = self._lookout().submit(self._read_catalog)
            try:
                self.verdict(step)
            except RunwayCollectionsChangedError as verdict:
                verdict.__cause__ = exc
                return verdict
        return exc

    def _lookout(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="runway-guard")
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)

    def end(self, step: Step, error: BaseException | None, *, after: dict[str, Any] | None = None,
                   looked: bool = False) -> Any:
        """The guard off and the collections compared: `error`, or the step's failure when the migration changed
        runway's collections (then said loudly when it could not be undone)."""
        deps = self.deps
        changes = self._changes + deps.guard.disarm()
        self._changes = []
        if not looked:  # a lost server: no catalog to compare (and no wait for one)
            after = None if isinstance(error, ConnectionFailure) else self._read_catalog()
        since = [name for name in self._unlooked if name != step.name]
        self._looked_at, self._unlooked = time.monotonic(), []
        if self._catalog is not None and after is not None:
            seen = deps.guard.names if any(not c.collection for c in changes) else {c.collection for c in changes}
            found = catalog_changes(self._catalog, after, seen)
            if found and since:  # the look before this one came before these steps, already committed
                found = [dataclasses.replace(c, text=f"{c.text} (during this step or {', '.join(since)}, run since "
                                                      "the last look)") for c in found]
            changes += found
        self._catalog = after
        if not changes:
            return error
        undone = all(c.undoable for c in changes)
        what = "; ".join(dict.fromkeys(c.text for c in changes))
        also = f" (it also raised {exception_line(error, deps.redact)})" if error is not None else ""
        who = "a migration" if since and any("run since the last look" in c.text for c in changes) else "the migration"
        if undone:
            text = (f"{who} changed runway's own collections ({what}) in the step's transaction: rolled back "
                    f"with it; only the engine writes there{also}")
        else:
            text = (f"{who} changed runway's own collections ({what}), which could not be undone: only the "
                    f"engine writes there; check them (status, history) before anything else runs{also}")
            self.tampered = True
            deps.journal.collections_changed()
            deps.events.log("error", f"{step.name} changed runway's own collections ({what}) and this could not be "
                                     "undone: its step is failed; check the records and the audit log before anything "
                                     "else runs")
            if any(c.collection in ("", deps.lease.collection.name) for c in changes):
                with contextlib.suppress(PyMongoError):
                    deps.lease.reclaim()  # our lease was deleted under us: ours again, unless someone took it
        verdict = RunwayCollectionsChangedError(text, undone=undone)
        verdict.__cause__ = error
        return verdict

    def _read_catalog(self) -> dict[str, Any] | None:
        try:
            with pymongo.timeout(CATALOG_BUDGET_S):
                return catalog(self.deps.target.database, self.deps.guard.names)
        except PyMongoError:  # the step's own error (a lost server) says what matters
            return None

