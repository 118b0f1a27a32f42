"""`OperationGate`: the ritual of every writing operation, once: refused when read-only, one at a time per app
(refused, not queued, when busy), under the migration lock, with driver errors translated."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from runway_tui.engine.errors import ReadOnlyError, UsageError

if TYPE_CHECKING:
    from runway_tui.engine.policy import Access


class OperationGate:
    """One per `MigrationApp`. `lease` and `connection` are called per operation (they exist once connected)."""

    def __init__(self, application: str, access: Access, *, forget_status: Callable[[], None],
                 lease: Callable[[str], contextlib.AbstractContextManager[None]],
                 connection: Callable[[], contextlib.AbstractContextManager[None]]) -> None:
        self._application, self._access = application, access
        self._forget_status, self._lease, self._connection = forget_status, lease, connection
        self._busy = threading.Lock()

    def writable(self, action: str) -> None:
        if self._access.read_only:
            raise ReadOnlyError(f"application {self._application!r} is read-only: refusing to {action} "
                                f"({self._access.reason})")

    @contextlib.contextmanager
    def exclusive(self, action: str) -> Iterator[None]:
        """One engine operation at a time per app, refused (not queued) when busy."""
        if not self._busy.acquire(blocking=False):
            raise UsageError(f"cannot {action}: another operation is running")
        self._forget_status()  # whatever this operation changes, the kept status no longer says it
        try:
            yield
        finally:
            self._busy.release()

    @contextlib.contextmanager
    def writing(self, action: str, name: str, *, lease: bool = True, exclusive: bool = True,
                connection: bool = True, exclusive_as: str | None = None) -> Iterator[None]:
        """Refused when read-only, one at a time (`exclusive`), under the migration lock (`lease`), driver errors
        translated (`connection`)."""
        self.writable(action)
        with contextlib.ExitStack() as stack:
            if exclusive:
                stack.enter_context(self.exclusive(exclusive_as or name))
            if lease:
                stack.enter_context(self._lease(name))
            if connection:
                stack.enter_context(self._connection())
            yield
