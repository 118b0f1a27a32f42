"""What one `up`/`down` did, for machines: the same JSON for success and failure, a stream of events
(`--json-lines`) and a JUnit XML report (`--junit FILE`), all built from the engine's events of the run.

The schema (README, "JSON contract"): `completed` is always a list of `{version, name, duration_ms, logs, ...}`;
a failed step adds `failed: {version, name, error, in_transaction, rolled_back, logs}`; `warnings` are the plan's
(drift elsewhere, a broken file past the run's end...). `logs` are the lines the
step printed or sent with `ctx.log`, in order.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runway_tui.engine.events import (
    LockWaitingEvent,
    MigrationEvent,
    PlanComputedEvent,
    StepAppliedEvent,
    StepFailedEvent,
    StepLogEvent,
    StepProgressEvent,
    StepStartedEvent,
)
from runway_tui.engine.models import Plan, RunResult, Step

EVENTS = (PlanComputedEvent, StepStartedEvent, StepLogEvent, StepProgressEvent, StepAppliedEvent, StepFailedEvent,
          LockWaitingEvent)
Key = tuple[str, int]


def _key(step: Step) -> Key:
    return step.direction.value, step.version


class RunReport:
    """Listens to one run's events; `stream` (`--json-lines`) receives each as a JSON-ready dict."""

    def __init__(self, stream: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.stream = stream
        self.plan: Plan | None = None
        self.started: dict[Key, tuple[Step, bool, dt.datetime]] = {}  # step, in transaction, when
        self.logs: dict[Key, list[str]] = {}
        self.applied: list[tuple[Step, int, bool]] = []
        self.failed: dict[str, Any] | None = None
        self.began = dt.datetime.now(dt.UTC)

    def __call__(self, event: MigrationEvent) -> None:
        if isinstance(event, PlanComputedEvent) and event.plan is not None:
            self.plan = event.plan
            return
        step = getattr(event, "step", None)
        if isinstance(event, StepStartedEvent) and step is not None:
            self.started[_key(step)] = (step, event.in_transaction, dt.datetime.now(dt.UTC))
            self.logs[_key(step)] = []
            self._emit("step_started", step, index=event.index, total=event.total,
                       in_transaction=event.in_transaction)
        elif isinstance(event, StepLogEvent) and step is not None:
            self.logs.setdefault(_key(step), []).append(event.message)
            self._emit("step_log", step, message=event.message)
        elif isinstance(event, StepProgressEvent) and step is not None:
            figures = event.figures
            extra = {} if figures is None else {"backfill": {
                "collection": figures.collection, "state": figures.state.value, "matched": figures.matched,
                "modified": figures.modified, "rate_per_s": figures.rate_per_s, "eta_s": figures.eta_s,
                "batch_size": figures.batch_size, "lag_s": figures.lag_s, "waiting": figures.waiting,
                "paused_by": figures.paused_by}}
            self._emit("step_progress", step, done=event.done, total=event.total, **extra)
        elif isinstance(event, StepAppliedEvent) and step is not None:
            self.applied.append((step, event.duration_ms, event.in_transaction))
            self._emit("step_applied", step, duration_ms=event.duration_ms, in_transaction=event.in_transaction)
        elif isinstance(event, StepFailedEvent) and step is not None:
            in_transaction = self.started.get(_key(step), (step, False, None))[1]
            self.failed = {"version": step.version, "name": step.name, "direction": step.direction.value,
                           "error": event.error, "in_transaction": in_transaction, "rolled_back": event.rolled_back,
                           "logs": list(self.logs.get(_key(step), []))}
            self._emit("step_failed", step, error=event.error, in_transaction=in_transaction,
                       rolled_back=event.rolled_back)
        elif isinstance(event, LockWaitingEvent) and event.holder is not None and self.stream is not None:
            self.stream({"event": "lock_waiting", "holder": event.holder.to_json(), "waited_s": round(event.waited_s)})

    def _emit(self, kind: str, step: Step, **fields: Any) -> None:
        if self.stream is not None:
            self.stream({"event": kind, "direction": step.direction.value, "version": step.version,
                         "name": step.name, **fields})

    # ------------------------------------------------------------------ JSON
    def completed_json(self) -> list[dict[str, Any]]:
        return [{**step.to_json(), "duration_ms": duration, "in_transaction": in_transaction,
                 "logs": list(self.logs.get(_key(step), []))} for step, duration, in_transaction in self.applied]

    def success_json(self, result: RunResult) -> dict[str, Any]:
        completed = [{**r.step.to_json(), "duration_ms": r.duration_ms, "in_transaction": r.in_transaction,
                      "logs": list(self.logs.get(_key(r.step), []))} for r in result.completed]
        return {"ok": True, "direction": result.plan.direction.value, "current_version": result.current_version,
                "completed": completed, "warnings": list(result.plan.warnings)}

    def failure_json(self, direction: str) -> dict[str, Any]:
        """The run's part of a failure's JSON (`ok`, `error` and `exit_code` are added by the caller)."""
        current = self.applied[-1][0].to_version if self.applied else \
            self.plan.current_version if self.plan is not None else None
        return {"direction": direction, "current_version": current, "completed": self.completed_json(),
                "warnings": list(self.plan.warnings) if self.plan is not None else [],
                **({"failed": self.failed} if self.failed is not None else {})}

    # ------------------------------------------------------------------ JUnit
    def write_junit(self, path: Path, *, suite: str, classname: str, error: str | None) -> None:
        """A JUnit XML report: one test case per planned step (passed, failed, or skipped after a failure), or one
        for the run itself when it stopped before any step (blocked, lock not acquired)."""
        cases: list[ET.Element] = []
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        done = {_key(s): d for s, d, _t in self.applied}
        planned = list(self.plan.steps) if self.plan is not None else []
        seen = set()
        for step in planned + [s for s, _d, _t in self.applied if _key(s) not in {_key(p) for p in planned}]:
            key = _key(step)
            if key in seen:
                continue
            seen.add(key)
            case = ET.Element("testcase", classname=classname, name=f"{step.direction.value} {step.name}")
            if key in done:
                case.set("time", f"{done[key] / 1000:.3f}")
            elif self.failed is not None and (self.failed["direction"], self.failed["version"]) == key:
                started = self.started.get(key)
                if started is not None:
                    case.set("time", f"{(dt.datetime.now(dt.UTC) - started[2]).total_seconds():.3f}")
                failure = ET.SubElement(case, "failure", message=self.failed["error"],
                                        type="rolled back" if self.failed["rolled_back"] else "not rolled back")
                failure.text = self.failed["error"]
                counts["failures"] += 1
            else:
                ET.SubElement(case, "skipped", message="not run: the run stopped before this step")
                counts["skipped"] += 1
            logs = self.logs.get(key)
            if logs:
                ET.SubElement(case, "system-out").text = "\n".join(logs) + "\n"
            cases.append(case)
        if error is not None and self.failed is None:  # stopped before any step: the run is the failing case
            case = ET.Element("testcase", classname=classname, name=f"{suite} (run)")
            ET.SubElement(case, "error", message=error).text = error
            counts["errors"] += 1
            cases.append(case)
        counts["tests"] = len(cases)
        took = f"{(dt.datetime.now(dt.UTC) - self.began).total_seconds():.3f}"
        attributes = {k: str(v) for k, v in counts.items()}
        root = ET.Element("testsuites", name="runway-tui", time=took, **attributes)
        node = ET.SubElement(root, "testsuite", name=suite, time=took,
                             timestamp=self.began.replace(tzinfo=None).isoformat(timespec="seconds"), **attributes)
        node.extend(cases)
        ET.indent(root)
        ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
