"""Every failure the engine reports, each mapped to one documented exit code.

Front ends catch `RunwayError` and print `str(error)` as a single line (a `ConfigErrors` holds several config
errors: its `problems` are printed one line each); anything else is a bug.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Exit codes of the headless CLI (documented in README)."""

    OK = 0
    STEP_FAILED = 1
    BAD_INPUT = 2
    LOCK_TIMEOUT = 3
    VALIDATION_FAILED = 4
    UNREACHABLE = 5
    OUTPUT_LOST = 6  # the command did its work, but stdout or stderr could not be written (a full disk)
    INTERRUPTED = 130  # Ctrl-C or SIGTERM (128 + SIGINT, as shells report it)


class RunwayError(Exception):
    """Base of all expected failures; `exit_code` tells the CLI how to exit."""

    exit_code: ExitCode = ExitCode.BAD_INPUT


class ConfigError(RunwayError):
    """The configuration file is missing, malformed or invalid."""

    line: int = 0  # the line of the file it is about (0: the whole file); orders several errors

    @property
    def problems(self) -> list[str]:
        """One line per problem (a `ConfigErrors` has several): front ends print each as its own line."""
        return [str(self)]


class ConfigErrors(ConfigError):
    """Several configuration errors found in one read, in file order, so one edit can fix them all."""

    def __init__(self, errors: list[ConfigError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors
        self.line = errors[0].line if errors else 0

    @property
    def problems(self) -> list[str]:
        return [str(error) for error in self.errors]


class UsageError(RunwayError):
    """A command was asked for something that cannot be done (unknown version, bad step count...)."""


class ReadOnlyError(RunwayError):
    """A mutating operation was refused because the application is read-only."""


class EmbeddedServerError(RunwayError):
    """The embedded SecantusDB daemon could not be started or reached."""

    exit_code = ExitCode.UNREACHABLE


class EmbeddedNotInstalledError(RunwayError):
    """`uri: embedded` was asked for but the `embedded` extra (the daemon) is not installed."""


class ServerUnreachableError(RunwayError):
    """The MongoDB server cannot be reached (or stopped answering)."""

    exit_code = ExitCode.UNREACHABLE


class AuthenticationError(RunwayError):
    """The server refused our credentials."""

    exit_code = ExitCode.BAD_INPUT


class LockTimeoutError(RunwayError):
    """Another runner holds the migration lock and did not release it in time."""

    exit_code = ExitCode.LOCK_TIMEOUT


class LockWaitCancelledError(RunwayError):
    """The user cancelled the wait for another runner's lock (nothing was run)."""

    exit_code = ExitCode.LOCK_TIMEOUT


class LockLostError(RunwayError):
    """Our lease expired or was taken over while steps were running."""

    exit_code = ExitCode.STEP_FAILED


class BlockedError(RunwayError):
    """Steps refuse to run: a failed migration, checksum drift, a broken file, an orphan..."""

    exit_code = ExitCode.VALIDATION_FAILED


class DatabaseMovedError(RunwayError):
    """A run was refused because the database moved under it (nothing ran): no longer where the confirmation
    said, or, while it waited for the lock, past what it asked for. It carries the facts: the version now, who
    moved it (`user@host (pid N, client)` each) and the fresh plan (a `Plan`: the same request from here), so a
    front end offers that plan and never advice to undo another operator's work."""

    exit_code = ExitCode.VALIDATION_FAILED

    def __init__(self, message: str, *, current_version: int | None = None, moved_by: list[str] | None = None,
                 fresh: Any = None) -> None:
        super().__init__(message)
        self.current_version = current_version
        self.moved_by = moved_by or []
        self.fresh = fresh


class StepFailedError(RunwayError):
    """A migration raised; the run stopped after the steps listed in `completed`."""

    exit_code = ExitCode.STEP_FAILED

    def __init__(self, message: str, completed: list[str] | None = None) -> None:
        super().__init__(message)
        self.completed = completed or []


class RunwayCollectionsChangedError(StepFailedError):
    """A migration changed runway's own collections (engine/guard.py): the step fails. `undone`: every such
    change was in the step's own transaction, so aborting it took them away too."""

    def __init__(self, message: str, undone: bool) -> None:
        super().__init__(message)
        self.undone = undone


class StepInterruptedError(StepFailedError, KeyboardInterrupt):
    """Ctrl-C or SIGTERM landed inside a migration: the attempt was recorded, the run stopped.

    It is a KeyboardInterrupt too, so API callers that catch Ctrl-C still see one.
    """

    exit_code = ExitCode.INTERRUPTED


class StepPausedError(StepFailedError):
    """A backfill stopped at its checkpoint (a signal, a cancel, a failed batch, the lease lost): the migration is
    `paused`, nothing done is lost, and the next `up` resumes it. `interrupted`: by a signal (exit 130)."""

    def __init__(self, message: str, completed: list[str] | None = None, *, interrupted: bool = False,
                 reason: str = "") -> None:
        super().__init__(message, completed)
        self.interrupted = interrupted
        self.reason = reason  # a PauseReason's value: "cancel" was asked by a person, "error" is a fault
        if interrupted:
            self.exit_code = ExitCode.INTERRUPTED


class BackfillUsageError(StepFailedError):
    """A backfill asked for something it cannot do (a collection that does not exist, `batch_size` out of range,
    inside a transaction or a `--group` run, a filter or update the server refuses): named by file and line."""

    exit_code = ExitCode.BAD_INPUT


class BackfillCancelled(Exception):  # noqa: N818 - a request, not an error: the step ends paused
    """A front end asked the running backfill to stop and release the lock (`MigrationApp.cancel_backfill`)."""

    def __init__(self, by: str) -> None:
        super().__init__(f"cancelled by {by}")
        self.by = by


class ChangeStreamError(RunwayError):
    """The server offers no change stream on runway's collections (standalone, no privilege) or it failed:
    a front end falls back to polling."""

    exit_code = ExitCode.UNREACHABLE
