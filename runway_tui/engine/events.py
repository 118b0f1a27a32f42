"""Typed engine events and the bus that delivers them.

Handlers attach with `@app.listen()` (the event type comes from the parameter's annotation, a
`Union` subscribes to several) or `app.subscribe(handler, EventType)`. A failing handler is
logged and reported with `HandlerFailedEvent`; it never breaks a migration.
"""

from __future__ import annotations

import inspect
import logging
import threading
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from runway_tui.engine.messages import safe_str, visible

if TYPE_CHECKING:
    from runway_tui.engine.backfill.progress import BackfillFigures
    from runway_tui.engine.models import LockInfo, Plan, RefreshReport, Step

logger = logging.getLogger("runway_tui.events")


@dataclass(frozen=True)
class MigrationEvent:
    """Base of every event."""


@dataclass(frozen=True)
class ApplicationEvent(MigrationEvent):
    application: Any  # the MigrationApp that sent it (has .name)


@dataclass(frozen=True)
class StartingEvent(ApplicationEvent):
    """The application connected and is ready."""


@dataclass(frozen=True)
class ClosingEvent(ApplicationEvent):
    """The application is closing (sent exactly once)."""


@dataclass(frozen=True)
class LogEvent(ApplicationEvent):
    """A line for the live log."""

    level: str = "info"
    message: str = ""


@dataclass(frozen=True)
class RefreshDoneEvent(ApplicationEvent):
    report: RefreshReport | None = None


@dataclass(frozen=True)
class PlanComputedEvent(ApplicationEvent):
    plan: Plan | None = None


@dataclass(frozen=True)
class LockWaitingEvent(ApplicationEvent):
    holder: LockInfo | None = None
    waited_s: float = 0.0


@dataclass(frozen=True)
class LockAcquiredEvent(ApplicationEvent):
    operation: str = ""


@dataclass(frozen=True)
class LockReleasedEvent(ApplicationEvent):
    operation: str = ""


@dataclass(frozen=True)
class StepStartedEvent(ApplicationEvent):
    step: Step | None = None
    index: int = 1
    total: int = 1
    in_transaction: bool = False


@dataclass(frozen=True)
class StepProgressEvent(ApplicationEvent):
    step: Step | None = None
    done: int = 0
    total: int = 0
    figures: BackfillFigures | None = None  # a backfill's rate, ETA, batch size, lag and state; None for ctx.progress


@dataclass(frozen=True)
class StepLogEvent(ApplicationEvent):
    """A message a migration wrote with `ctx.log()`."""

    step: Step | None = None
    message: str = ""


@dataclass(frozen=True)
class StepAppliedEvent(ApplicationEvent):
    step: Step | None = None
    duration_ms: int = 0
    in_transaction: bool = False


@dataclass(frozen=True)
class StepFailedEvent(ApplicationEvent):
    step: Step | None = None
    error: str = ""
    exc_name: str = ""
    rolled_back: bool = False
    state: str = ""  # the record's state after the failure was recorded ("" when unknown)


@dataclass(frozen=True)
class StateChangedEvent(ApplicationEvent):
    """Records changed (mark, accept, unlock, refresh, a step): views should reload."""

    reason: str = ""


@dataclass(frozen=True)
class HandlerFailedEvent(ApplicationEvent):
    handler: str = ""
    error: str = ""
    original: MigrationEvent | None = field(default=None, repr=False)


E = TypeVar("E", bound=MigrationEvent)
Handler = Callable[[Any], Any]


class EventBus:
    """Synchronous, thread-safe dispatch in subscription order."""

    def __init__(self) -> None:
        self._handlers: list[tuple[type[MigrationEvent], Handler]] = []
        self._lock = threading.Lock()

    def subscribe(self, handler: Handler, *event_types: type[MigrationEvent]) -> Handler:
        types_ = event_types or _annotated_event_types(handler)
        with self._lock:
            for event_type in types_:
                self._handlers.append((event_type, handler))
        return handler

    def unsubscribe(self, handler: Handler) -> None:
        with self._lock:
            self._handlers = [(t, h) for t, h in self._handlers if h is not handler]

    def listen(self, *event_types: type[MigrationEvent]) -> Callable[[Handler], Handler]:
        """Decorator form of `subscribe`."""

        def decorate(handler: Handler) -> Handler:
            return self.subscribe(handler, *event_types)

        return decorate

    def dispatch(self, event: MigrationEvent) -> None:
        with self._lock:
            handlers = [h for t, h in self._handlers if isinstance(event, t)]
        seen: set[int] = set()
        for handler in handlers:
            if id(handler) in seen:  # subscribed to two matching types: call once
                continue
            seen.add(id(handler))
            try:
                handler(event)
            except Exception as exc:  # a handler must never break a migration
                name = getattr(handler, "__qualname__", repr(handler))
                logger.warning("event handler %s failed on %s: %s: %s", visible(name), type(event).__name__,
                               type(exc).__name__, visible(safe_str(exc)))
                if not isinstance(event, HandlerFailedEvent):
                    self.dispatch(HandlerFailedEvent(getattr(event, "application", None), name,
                                                     f"{type(exc).__name__}: {exc}", event))


def _annotated_event_types(handler: Handler) -> tuple[type[MigrationEvent], ...]:
    """Event types named by the annotation of the handler's first parameter."""
    try:
        hints = typing.get_type_hints(handler)
    except Exception:
        hints = {}
    params = [p for p in inspect.signature(handler).parameters.values() if p.name != "self"]
    if not params:
        raise TypeError(f"{handler!r}: an event handler takes the event as its first parameter")
    annotation = hints.get(params[0].name, params[0].annotation)
    if annotation is inspect.Parameter.empty:
        raise TypeError(f"{handler!r}: annotate the event parameter or pass event types to listen()")
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        candidates = typing.get_args(annotation)
    else:
        candidates = (annotation,)
    result = tuple(c for c in candidates if isinstance(c, type) and issubclass(c, MigrationEvent))
    if not result:
        raise TypeError(f"{handler!r}: {annotation!r} is not an event type")
    return result
