"""Shared helpers of the reliability suite: counter migrations, racing CLI processes, invariant checks.

Every check reads the database directly with pymongo (never through the engine), so what is asserted is
what a user would see when inspecting the database by hand.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pymongo import MongoClient

from tests.support.cli import REPO_ROOT
from tests.support.project import Project

# One migration: a marker document (not unique, so a double-apply shows as two markers), an optional
# pause (so a kill -9 can land inside it), then a counter update that also lists the version.
COUNTER_MIGRATION = '''"""Counter step {v}"""
import time

version = {v}


def upgrade(ctx):
    ctx.db.markers.insert_one({{"v": {v}}}, session=ctx.session)
    time.sleep({sleep})
    ctx.db.counter.update_one({{"_id": "c"}}, {{"$inc": {{"n": 1}}, "$push": {{"seen": {v}}}}},
                              upsert=True, session=ctx.session)


def downgrade(ctx):
    ctx.db.markers.delete_one({{"v": {v}}}, session=ctx.session)
    time.sleep({sleep})
    ctx.db.counter.update_one({{"_id": "c"}}, {{"$inc": {{"n": -1}}, "$pull": {{"seen": {v}}}}},
                              upsert=True, session=ctx.session)
'''


# A migration that writes one marker {v}: a double apply shows as two markers.
GOOD = '''"""Good step {v}"""
version = {v}


def upgrade(ctx):
    ctx.db.markers.insert_one({{"v": {v}}}, session=ctx.session)


def downgrade(ctx):
    ctx.db.markers.delete_one({{"v": {v}}}, session=ctx.session)
'''


def write_counter_migrations(project: Project, count: int, sleep: float = 0.0) -> None:
    for v in range(1, count + 1):
        project.write_migration(v, f"counter_{v}", COUNTER_MIGRATION.format(v=v, sleep=sleep))


def set_config(project: Project, **values: Any) -> None:
    """Rewrite `key: value` lines of the project's runway.yaml (timeouts, uri, database...)."""
    text = project.config_path.read_text()
    for key, value in values.items():
        shown = f'"{value}"' if key == "uri" else str(value)
        text, n = re.subn(rf"(?m)^(\s*{key}:) .*$", lambda m, s=shown: f"{m.group(1)} {s}", text)
        assert n == 1, f"{key} not found in the config"
    project.config_path.write_text(text)


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("NO_COLOR", "1")
    env.update(extra or {})
    return env


def spawn_cli(project: Project, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start `runway-tui --config <project> ARGS` without waiting (racers, kill -9 victims)."""
    return subprocess.Popen(
        [sys.executable, "-m", "runway_tui", "--config", str(project.config_path), *args],
        cwd=project.root, env=cli_env(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


@dataclass
class Finished:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def race(project: Project, commands: list[tuple[str, ...]], timeout: float = 120) -> list[Finished]:
    """Start every command at once (as separate processes) and collect them all."""
    started = time.monotonic()
    procs = [(args, spawn_cli(project, *args)) for args in commands]
    results = []
    for args, proc in procs:
        try:
            out, err = proc.communicate(timeout=max(1.0, timeout - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"runway-tui {' '.join(args)} hung past {timeout}s:\n{err[-2000:]}") from None
        results.append(Finished(args, proc.returncode, out, err, time.monotonic() - started))
    return results


@dataclass
class DbState:
    """What is in the database, read directly."""

    counter: int
    seen: list[int]
    markers: Counter[int]
    states: dict[int, str]
    records: dict[int, dict[str, Any]]
    audit: list[dict[str, Any]] = field(default_factory=list)
    lock: dict[str, Any] | None = None

    @property
    def applied(self) -> set[int]:
        return {v for v, s in self.states.items() if s == "applied"}

    @property
    def unsettled(self) -> dict[int, str]:
        return {v: s for v, s in self.states.items() if s in ("applying", "reverting", "failed")}

    def successes(self, transaction_name: str) -> Counter[int]:
        return Counter(e["migration_read_model"]["version"] for e in self.audit
                       if e["transaction_name"] == transaction_name and not e.get("exc_name"))


STATE_CHANGES = {"UpgradeTransaction": "applied", "MarkAppliedTransaction": "applied",
                 "DowngradeTransaction": "pending", "MarkPendingTransaction": "pending"}


def read_state(client: MongoClient, db_name: str) -> DbState:
    db = client[db_name]
    counter = db.counter.find_one({"_id": "c"}) or {}
    markers: Counter[int] = Counter(d["v"] for d in db.markers.find({}, {"v": 1}))
    records = {d["_id"]: d for d in db.migrations.find({})}
    return DbState(counter=int(counter.get("n", 0)), seen=list(counter.get("seen", [])), markers=markers,
                   states={v: d.get("state", "") for v, d in records.items()}, records=records,
                   audit=list(db.auditlog.find({}).sort("date", 1)), lock=db.migrations_lock.find_one({}))


def assert_consistent(state: DbState, *, settled_only: bool = True, counted: bool = True) -> None:
    """Every applied migration has its effects exactly once, every pending one has none, and the audit
    log's successful upgrades minus downgrades equal what is applied."""
    applied = state.applied
    problems = []
    if settled_only and state.unsettled:
        problems.append(f"unsettled states: {state.unsettled}")
    for v, n in state.markers.items():
        if n > 1:
            problems.append(f"version {v} has {n} markers (applied twice)")
    seen = Counter(state.seen)
    for v, n in seen.items():
        if n > 1:
            problems.append(f"version {v} counted {n} times")
    for v in applied:
        if state.markers[v] != 1 or (counted and seen[v] != 1):
            problems.append(f"version {v} is applied but has {state.markers[v]} marker(s), counted {seen[v]}")
    for v, s in state.states.items():
        if s == "pending" and (state.markers[v] or seen[v]):
            problems.append(f"version {v} is pending but has effects")
    if state.counter != len(state.seen):
        problems.append(f"counter {state.counter} != {len(state.seen)} versions counted")
    # The audit log tells the same story: the last successful state change of each version matches it.
    last: dict[int, str] = {}
    for entry in sorted(state.audit, key=lambda e: (e["date"], e["_id"])):
        model = entry.get("migration_read_model") or {}
        if entry["transaction_name"] in STATE_CHANGES and not entry.get("exc_name") and "version" in model:
            last[model["version"]] = STATE_CHANGES[entry["transaction_name"]]
    for v, s in state.states.items():
        if s in ("applied", "pending") and last.get(v, "pending") != s:
            problems.append(f"version {v} is {s} but its last audit entry says {last.get(v, 'nothing')}")
    assert not problems, "; ".join(problems)


def no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback (most recent call last)" not in text, text


def one_line_error(stderr: str) -> str:
    """The `runway-tui: error: ...` line (exactly one) of a failed command."""
    lines = [line for line in stderr.splitlines() if line.startswith("runway-tui: error:")]
    assert len(lines) == 1, f"expected one error line, got:\n{stderr}"
    return lines[0]


def record_figures(area: str, **figures: Any) -> None:
    """Append measured figures to $RUNWAY_RELIABILITY_REPORT (JSON lines) when set; used for the doc."""
    import json

    target = os.environ.get("RUNWAY_RELIABILITY_REPORT")
    print(f"[figures] {area}: {figures}")
    if target:
        with open(target, "a") as fh:
            fh.write(json.dumps({"area": area, **figures}, default=str) + "\n")


@dataclass
class InProc:
    code: int
    out: str
    err: str


def run_inproc(project: Project | None, *args: str, env: dict[str, str] | None = None) -> InProc:
    """Run the CLI's `main()` in this process (same code path as the console script, ~10x faster than a
    subprocess): stdout/stderr captured, SIGTERM handler restored, environment overrides undone."""
    import contextlib
    import io
    import signal

    from runway_tui.cli.main import main

    argv = (["--config", str(project.config_path)] if project else []) + list(args)
    out, err = io.StringIO(), io.StringIO()
    saved_env = {k: os.environ.get(k) for k in (env or {})}
    saved_term = signal.getsignal(signal.SIGTERM)
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse errors and --help
                code = int(exc.code or 0)
    finally:
        signal.signal(signal.SIGTERM, saved_term)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return InProc(int(code), out.getvalue(), err.getvalue())


# ------------------------------------------------------------------ faults at a proven point of a run
STEP_STARTED = re.compile(r"^\[\d+/\d+\] up (\d+)_")


class ReportedSteps:
    """Reads a running CLI's stderr as it comes: which versions it has reported applied ("done in")."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.done: list[int] = []
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name="stderr-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        current = None
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._lock:
                self.lines.append(line)
                started = STEP_STARTED.match(line)
                if started:
                    current = int(started.group(1))
                elif "done in" in line and current is not None:
                    self.done.append(current)

    def count(self) -> int:
        with self._lock:
            return len(self.done)

    def finish(self, timeout: float = 60) -> tuple[str, str]:
        """Wait for the process to end; returns (stdout, stderr) with every line it wrote."""
        out = self.proc.stdout.read() if self.proc.stdout else ""
        self.proc.wait(timeout)
        self._reader.join(timeout)
        return out, "".join(self.lines)


def assert_survivors_match(applied: set[int], reported: list[int], total: int) -> None:
    """What the runner reported applied is applied; beyond it at most the next step (committed, unreported)."""
    assert reported == sorted(reported) and len(set(reported)) == len(reported), reported
    assert set(reported) <= applied, f"reported applied but lost: {sorted(set(reported) - applied)}"
    extra = applied - set(reported)
    assert extra <= {len(reported) + 1}, f"applied but never reported: {sorted(extra)}"
    assert len(applied) < total, "the kill did not land mid-run"


# ------------------------------------------------------------------ a run held step by step (no test depends on speed)
# A counter migration whose step waits at its own gate (a file the test creates) once its first write is done,
# so a kill, a signal or an unlock always lands mid-run, at a moment the test has seen, however slow the machine.
GATED_COUNTER_MIGRATION = '''"""Counter step {v}, held at its gate"""
import pathlib
import time

version = {v}
GATES = pathlib.Path({gates!r})


def upgrade(ctx):
    ctx.db.markers.insert_one({{"v": {v}}}, session=ctx.session)
    (GATES / "entered-{v}").touch()
    deadline = time.monotonic() + 120
    while not (GATES / "released-{v}").exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the test never released step {v}")
        time.sleep(0.005)
    ctx.db.counter.update_one({{"_id": "c"}}, {{"$inc": {{"n": 1}}, "$push": {{"seen": {v}}}}},
                              upsert=True, session=ctx.session)


def downgrade(ctx):
    ctx.db.markers.delete_one({{"v": {v}}}, session=ctx.session)
    ctx.db.counter.update_one({{"_id": "c"}}, {{"$inc": {{"n": -1}}, "$pull": {{"seen": {v}}}}},
                              upsert=True, session=ctx.session)
'''

#: The moments of a step the test can see: at its gate (its transaction open, its first write done), let go
#: but not yet reported (the rest of its code, its commit, its record), reported applied (the runner is
#: between it and the next step, which is still held).
MOMENTS = ("in its step", "released", "reported applied")


class Stepper:
    """Drives an `up --all` of gated counter migrations to a chosen moment of a chosen step.

    "At a random moment" is then a random choice among observed moments (`random_moment`), never a random
    delay: the run cannot end before the test acts, since the steps after the chosen one are still held.
    """

    def __init__(self, project: Project, count: int) -> None:
        self.count = count
        self.gates = project.root / "gates"
        self.gates.mkdir(exist_ok=True)
        for v in range(1, count + 1):
            project.write_migration(v, f"counter_{v}", GATED_COUNTER_MIGRATION.format(v=v, gates=str(self.gates)))

    def reset(self) -> None:
        """Every step held again (before another run over the same files)."""
        for path in self.gates.iterdir():
            path.unlink()

    def random_moment(self, rng: Any, first: int = 1) -> tuple[int, str]:
        """A step (never the last: after it the run could end) and one of its MOMENTS."""
        return rng.randint(first, self.count - 1), rng.choice(MOMENTS)

    def reach(self, proc: subprocess.Popen[str], reported: ReportedSteps, step: int, moment: str,
              timeout: float = 60) -> None:
        """Release steps 1..step-1 one at a time, then hold the run at `moment` of `step`."""
        from tests.support.waiting import wait_until

        assert moment in MOMENTS and 1 <= step < self.count, (step, moment)
        for v in range(1, step + 1):
            entered = self.gates / f"entered-{v}"
            wait_until(lambda e=entered: e.exists() or proc.poll() is not None, f"step {v} at its gate", timeout)
            assert proc.poll() is None, f"the run ended before step {v}: {''.join(reported.lines)[-2000:]}"
            if v == step and moment == "in its step":
                return
            (self.gates / f"released-{v}").touch()
        if moment == "reported applied":
            wait_until(lambda: step in reported.done or proc.poll() is not None, f"step {step} reported applied",
                       timeout)
        assert proc.poll() is None, "the run ended before the moment was reached"

    def release_all(self) -> None:
        for v in range(1, self.count + 1):
            (self.gates / f"released-{v}").touch()
