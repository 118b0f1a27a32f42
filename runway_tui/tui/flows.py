"""What happens when the user asks for something: guard, ask (dialog or prompt), then start a worker.

Functions over the app (`Host`), called by the screens' actions. Every refusal says why in a toast (read-only,
busy, disconnected), and every write goes through a confirmation whose run is bound to what it showed
(`Expected`).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import SuspendNotSupported

from runway_tui.engine.models import Direction, Plan, Problem, StatusRow
from runway_tui.engine.planner import Expected
from runway_tui.engine.scripts import name_note
from runway_tui.tui.dialogs import Downgrade, plan_confirmation, plan_preview, refresh_summary, run_summary
from runway_tui.tui.format import short_name, summary, version_text
from runway_tui.tui.guard import read_only_refusal
from runway_tui.tui.screens.confirm import ConfirmRequest, ConfirmScreen
from runway_tui.tui.screens.error import ErrorScreen
from runway_tui.tui.screens.prompt import PromptScreen
from runway_tui.tui.state import Activity, OperationName, Override, PlanRequest, Reason

if TYPE_CHECKING:
    from runway_tui.engine.app import MigrationApp
    from runway_tui.tui.host import Host


# ------------------------------------------------------------------ guards
def refuse_write(host: Host) -> bool:
    """True (and a toast saying why) when a write cannot start now; the same rule as check_action."""
    reason = host.state.write_refusal(host.engine is not None)
    if reason and host.read_only:
        reason = read_only_refusal(host)  # which rule, and how to lift it
    if reason:
        host.notify(reason, severity="warning", timeout=6 if host.read_only else 3, markup=False)
    return reason is not None

def request_step(host: Host, direction: str) -> None:
    if refuse_write(host):
        return
    # planned on the status shown (read after the last step or poll): no second read before the dialog;
    # the engine plans again under its lock and runs only what the dialog showed (see `Expected`)
    _plan(host, PlanRequest(Direction(direction), steps=1))

def request_step_to(host: Host, direction: str) -> None:
    if refuse_write(host):
        return
    row = host.main.migrations.selected_row
    default = str(row.version) if row and row.version is not None else ""

    def validate(text: str) -> str | None:
        return None if text.isdigit() else "a version number (0 or more)"

    def chosen(value: str | None) -> None:
        if value is None or refuse_write(host):
            return
        _plan(host, PlanRequest(Direction(direction), to=int(value)))

    hint = ("Apply pending migrations up to and including this version." if direction == "up"
            else "Revert applied migrations above this version (0 reverts everything).")
    host.push_screen(PromptScreen(f"{direction.capitalize()} to version", hint, value=default,
                                  validate=validate), chosen)

def request_step_through(host: Host, direction: str, row: StatusRow) -> None:
    """From a migration's detail: up to and including it, or down through it (it and every applied one
    above it are reverted). The dialog lists every step; the run is bound to it as always."""
    if refuse_write(host) or row.version is None:
        return
    version = row.version
    if direction == "up" and row.is_applied:
        host.notify(f"{version_text(version)} is applied already; d reverts it", severity="warning", timeout=3)
        return
    if direction == "down" and not row.is_applied:
        host.notify(f"{version_text(version)} is not applied: nothing to revert", severity="warning", timeout=3)
        return
    if direction == "up":
        _plan(host, PlanRequest(Direction.UP, to=version))
        return
    known = [r.version for r in (host.snapshot.status.rows if host.snapshot else []) if r.version is not None]
    below = max((v for v in known if v < version), default=0)
    _plan(host, PlanRequest(Direction.DOWN, to=below))

def request_plan(host: Host) -> None:
    reason = host.state.read_refusal(host.engine is not None)
    if reason:
        host.notify(reason, severity="warning", timeout=2, markup=False)
        return
    _plan(host, PlanRequest(Direction.UP, all_=True, preview=True))

def plan_ready(host: Host, plan: Plan, request: PlanRequest, override: Override | None = None) -> None:
    host.set_state(host.state.finish())
    if request.preview:
        if plan.steps and not plan.blockers and not host.read_only:  # the plan shown can run, exactly
            _confirm_run(host, plan, run_all=True)
            return
        head, lines = plan_preview(plan)
        host.push_screen(ErrorScreen("Plan (nothing was run)", head, lines, kind="info"))
        return
    if plan.blockers:
        host.log_line("error", f"refusing to run {plan.direction.value}: " + "; ".join(plan.blockers))
        if override is not None:
            _offer_override(host, plan, override)
            return
        host.push_screen(ErrorScreen(f"Refusing to run {plan.direction.value}", "Fix these first:",
                                     plan.blockers))
        return
    if not plan.steps:
        what = "nothing to apply: every migration is applied" if plan.direction is Direction.UP \
            else "nothing to revert: no migration is applied"
        host.notify(what, timeout=3)
        host.log_line("info", what)
        return
    _confirm_run(host, plan)

def request_refresh(host: Host) -> None:
    if host.state.busy is not None:
        host.notify(f"busy: {host.state.busy.label}", severity="warning", timeout=2, markup=False)
        return
    if host.engine is None or not host.state.connected:
        host.retry_connection()
        return
    if host.read_only:
        host.log_line("info", "reloading (read-only: files are compared, nothing is written)")
        host.reload(Reason.USER)
        return
    host.set_state(host.state.begin(Activity.WRITING, "refreshing"))
    host.run_operation(OperationName.REFRESH, lambda engine: refresh_summary(engine.refresh()))

def request_new_migration(host: Host) -> None:
    if refuse_write(host):
        return

    def validate(text: str) -> str | None:
        return None if any(c.isalnum() for c in text) else "a name with letters or digits, e.g. add_email_index"

    def chosen(name: str | None) -> None:
        if name is None or refuse_write(host):
            return
        host.set_state(host.state.begin(Activity.WRITING, "creating a migration file"))

        def create(engine: MigrationApp) -> str:
            created = f"created {_shown_path(host, engine.create_migration_file_template(name))} (e edits it)"
            note = name_note(name)
            return f"{created}; {note}" if note else created

        host.run_operation(OperationName.NEW, create)

    host.push_screen(PromptScreen("New migration", "What does it do? This becomes the file name and the "
                                  "description.", placeholder="add_user_email_index", validate=validate), chosen)

def editor_command(path: Path) -> list[str]:
    """$VISUAL or $EDITOR (with its arguments) followed by the file; vi when neither is set."""
    return shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi") + [str(path)]

def edit_selected(host: Host) -> None:
    if host.read_only:  # editing an applied file is how drift is made: read-only means hands off
        host.notify(read_only_refusal(host, files=True), severity="warning", timeout=6, markup=False)
        return
    row = host.main.migrations.selected_row
    if row is None or row.script is None:
        host.notify("select a migration that has a file", severity="warning", timeout=3)
        return
    command = editor_command(row.script.path)
    # Checked before the terminal is handed over: a failure inside `suspend()` leaves a blank screen.
    if not command[0] or shutil.which(command[0]) is None:
        host.notify(f"cannot open the editor: {command[0]!r} not found (set $EDITOR or $VISUAL)",
                    severity="error", markup=False)
        return
    failure: OSError | None = None
    try:
        with host.suspend():
            try:
                subprocess.run(command, check=False)
            except OSError as exc:  # e.g. not executable: caught inside, so the terminal comes back
                failure = exc
    except SuspendNotSupported:  # headless or web: no terminal to hand over
        host.notify(f"cannot hand the terminal to an editor here; run: {shlex.join(command)}",
                    severity="warning", timeout=6, markup=False)
        return
    if failure is not None:
        host.notify(f"cannot open the editor: {failure}", severity="error", markup=False)
        return
    host.log_line("info", f"edited {_shown_path(host, row.script.path)}")
    host.reload(Reason.USER)

# ------------------------------------------------------------------ repairs (mark, accept, unlock)
def request_mark(host: Host, applied: bool, row: StatusRow | None = None) -> None:
    if refuse_write(host):
        return
    version = _selected_version(host, row)
    if version is None:
        return
    state = "applied" if applied else "pending"
    request = ConfirmRequest(f"Mark {version_text(version)} as {state}?",
                             [*_facts(host), ("Migration", _migration_name(host, row)), ("New state", state)],
                             warnings=["Nothing runs: only the record changes (audited)."],
                             confirm_label="Mark", typed=_typed(host))
    _confirm_then(host, request, f"marking {version_text(version)}", OperationName.MARK,
                       lambda engine: f"marked {engine.mark(version, applied=applied).name} as {state}")

def request_accept(host: Host, row: StatusRow | None = None) -> None:
    if refuse_write(host):
        return
    version = _selected_with(host, Problem.DRIFT, "has no drift: its file matches the stored checksum", row)
    if version is None:
        return
    request = ConfirmRequest(f"Accept the edited file of {version_text(version)}?",
                             [*_facts(host), ("Migration", _migration_name(host, row))],
                             warnings=["The stored checksum becomes the file's; the edit is NOT run."],
                             confirm_label="Accept", typed=_typed(host))
    _confirm_then(host, request, f"accepting {version_text(version)}", OperationName.ACCEPT,
                       lambda engine: f"accepted the edited file of {engine.accept(version).name}")

def request_forget(host: Host, row: StatusRow | None = None) -> None:
    """Only an orphan's record (its file is gone): what `forget VERSION` does, confirmed and audited."""
    if refuse_write(host):
        return
    version = _selected_with(host, Problem.ORPHAN, "has its file; forget only removes the record of a deleted file",
                                  row)
    if version is None:
        return
    request = ConfirmRequest(f"Forget the record of {version_text(version)}?",
                             [*_facts(host), ("Migration", _migration_name(host, row))],
                             warnings=["Nothing runs: the record is removed (audited); its history stays."],
                             confirm_label="Forget", typed=_typed(host))
    _confirm_then(host, request, f"forgetting {version_text(version)}", OperationName.FORGET,
                       lambda engine: f"forgot the record of {engine.forget(version).name}")

def toggle_backfill_pause(host: Host) -> None:
    """`b`: pause the backfill this session runs after its current batch (the lock held, others see who paused
    it), or resume it. A flag on the engine: no database call here, the step's worker does the writes."""
    engine, figures = host.engine, host.main.live_log.backfill
    if engine is None or figures is None or not host.state.running_step:
        host.notify("no backfill is running in this session (b pauses one while it runs)", timeout=3)
        return
    if engine.backfill_pause_asked:
        engine.resume_backfill()
        host.log_line("info", f"resuming the backfill of {figures.collection}…")
    else:
        engine.pause_backfill()
        host.log_line("info", f"pausing the backfill of {figures.collection} after its current batch (the lock "
                              "stays held; b resumes it)…")


def cancel_backfill(host: Host) -> None:
    """`B`: stop the backfill after its current batch; it is left `paused` at its checkpoint and the lock released,
    so nothing is lost and `u` resumes it (no confirmation: nothing is undone)."""
    engine, figures = host.engine, host.main.live_log.backfill
    if engine is None or figures is None or not host.state.running_step:
        host.notify("no backfill is running in this session (B cancels one while it runs)", timeout=3)
        return
    engine.cancel_backfill()
    host.log_line("warning", f"cancelling the backfill of {figures.collection} after its current batch: it is "
                             "left paused and the lock released; u resumes it")


def request_unlock(host: Host) -> None:
    """An expired lease is removed after a confirmation; a live one only by force, said plainly (what
    `unlock --force` does), typed on production. Both are audited by the engine."""
    if refuse_write(host):
        return
    lock = host.snapshot.lock if host.snapshot else None
    if lock is None:
        host.notify("there is no migration lock to remove", timeout=3)
        return
    if host.engine is not None and host.engine.holds(lock):
        host.notify("this session holds the lock (its step is running); it is released when the step ends",
                    severity="warning", timeout=4)
        return
    force = not lock.expired
    holder = f"{lock.user}@{lock.host} ({lock.operation}{', expired' if lock.expired else ''})"
    until = f", renewed until {lock.expires_at:%H:%M:%S} UTC" if lock.expires_at else ""
    warnings = ([f"The lease is LIVE{until}. If that runner is still migrating, removing its lock lets a "
                 "second runner start beside it. Remove it only if you know the runner is dead."]
                if force else ["The lease has expired: its runner stopped renewing it."])
    request = ConfirmRequest("Force-remove a LIVE migration lock?" if force else "Remove the migration lock?",
                             [*_facts(host), ("Held by", holder)], warnings=warnings,
                             confirm_label="Force unlock" if force else "Unlock", typed=_typed(host))

    def unlock(engine: MigrationApp) -> str:
        removed = engine.unlock(force=force)
        return f"removed the lock held by {removed.holder}" if removed else "there was no lock"

    _confirm_then(host, request, "force-unlocking" if force else "unlocking", OperationName.UNLOCK, unlock)

# ------------------------------------------------------------------ quitting
def request_quit(host: Host) -> None:
    if not host.state.running_step:
        host.exit(0)
        return
    assert host.state.busy is not None
    request = ConfirmRequest("A step is running", [*_facts(host), ("Running", host.state.busy.label)],
                             warnings=["Quitting now would interrupt it. Quit as soon as it ends "
                                       "(the lock is released first)?"], confirm_label="Quit after it")

    def decided(ok: bool | None) -> None:
        if not ok:
            return
        if not host.state.busy:  # the step ended while the question was open
            host.exit(0)
            return
        host.set_state(host.state.quit_after_step())
        host.log_line("warning", "will quit when the running step ends")

    host.push_screen(ConfirmScreen(request), decided)


# ------------------------------------------------------------------ helpers of the flows above
def _facts(host: Host) -> list[tuple[str, str]]:
    name = host.app_config.name + (" (PRODUCTION)" if host.production else "")
    return [("Application", name), ("Server", host.header_state.address), ("Database", host.app_config.database)]


def _typed(host: Host) -> str | None:
    return host.app_config.database if host.production else None


def _plan(host: Host, request: PlanRequest) -> None:
    host.set_state(host.state.begin(Activity.PLANNING, request.label))
    report = host.snapshot.status if host.snapshot is not None and not request.preview else None
    host.compute_plan(request, report)


def _offer_override(host: Host, blocked: Plan, override: Override) -> None:
    """What the CLI offers as --ignore-drift / --allow-out-of-order: asked first, then the run's own
    (typed on production) confirmation names every step with the blocker marked [ignored] / [allowed]."""
    request = ConfirmRequest(f"Refusing to run {blocked.direction.value}", _facts(host),
                             warnings=[*blocked.blockers,
                                       f"{override.label} for this run only? Nothing is accepted or recorded "
                                       "as fixed; the next run is refused again."],
                             confirm_label=override.label)

    def decided(ok: bool | None) -> None:
        if ok:
            _confirm_run(host, override.plan, override)
        else:
            host.log_line("info", f"{blocked.direction.value} cancelled; nothing was run")

    host.push_screen(ConfirmScreen(request), decided)


def _confirm_run(host: Host, plan: Plan, override: Override | None = None, run_all: bool = False) -> None:
    """`run_all`: the plan `p` showed ('up all'); it runs as it was shown (same steps from the same version)
    or nothing, like every confirmed run."""
    expected = Expected.of(plan)
    target, direction = plan.target_version or 0, plan.direction
    flags: dict[str, bool] = {"ignore_drift": override.ignore_drift} if override else {}
    if override and direction is Direction.UP:
        flags["allow_out_of_order"] = override.allow_out_of_order

    def decided(ok: bool | None) -> None:
        if not ok:
            host.log_line("info", f"{direction.value} cancelled; nothing was run")
            return
        if refuse_write(host):
            return

        def run(engine: MigrationApp) -> str:
            # exactly the confirmed steps from the confirmed version, checked by the engine under its lock
            if run_all:
                return run_summary(engine.upgrade(all_=True, expect=expected))
            result = (engine.upgrade(to=target, expect=expected, **flags) if direction is Direction.UP
                      else engine.downgrade(to=target, expect=expected, **flags))
            return run_summary(result)

        host.set_state(host.state.begin(Activity.RUNNING, f"running {direction.value} to {version_text(target)}"))
        host.run_operation(OperationName(direction.value), run)

    shown = plan_confirmation(plan, _facts(host), host.app_config.database, host.production,
                              downgrades=_downgrades(host, plan))
    if run_all:
        shown.title = f"Plan: 'up all' would apply {len(plan.steps)} migration(s) to {host.app_config.database}"
        shown.warnings.append("Nothing has run yet. Apply runs exactly these steps from this version, or "
                              "nothing if the database moved meanwhile.")
        shown.confirm_label = "Apply this plan"
    host.push_screen(ConfirmScreen(shown), decided)


def _downgrades(host: Host, plan: Plan) -> dict[int, Downgrade]:
    """For a revert: each step's downgrade source and the collections it names, read from its file."""
    if plan.direction is not Direction.DOWN or host.snapshot is None:
        return {}
    paths = {r.version: r.script.path for r in host.snapshot.status.rows if r.version is not None and r.script}
    return {s.version: Downgrade.of(paths.get(s.version)) for s in plan.steps}


def _shown_path(host: Host, path: Path) -> str:
    try:
        return str(path.relative_to(host.app_config.config_path.parent))
    except ValueError:
        return str(path)


def _row(host: Host, row: StatusRow | None) -> StatusRow | None:
    """The migration a repair is about: `row` (a detail screen's), else the one selected in pane 1."""
    return row if row is not None else host.main.migrations.selected_row


def _selected_version(host: Host, row: StatusRow | None = None) -> int | None:
    row = _row(host, row)
    if row is None or row.version is None:
        host.notify("select a migration first (pane 1)", severity="warning", timeout=3)
        return None
    return row.version


def _selected_with(host: Host, problem: Problem, otherwise: str, row: StatusRow | None = None) -> int | None:
    """The version if its row has `problem` (what the repair is for); else a toast saying why (the engine
    refuses it too)."""
    row = _row(host, row)
    version = _selected_version(host, row)
    if version is not None and row is not None and problem not in row.problems:
        host.notify(f"{version_text(version)} {otherwise}", severity="warning", timeout=3)
        return None
    return version


def _migration_name(host: Host, row: StatusRow | None = None) -> str:
    """The migration as the other dialogs show it: version, name and description."""
    row = _row(host, row)
    if row is None or row.version is None:
        return ""
    text = f"{version_text(row.version)} {short_name(row.name, row.version)}"
    return text + (f": {summary(row.description)}" if summary(row.description) else "")


def _confirm_then(host: Host, request: ConfirmRequest, label: str, operation: OperationName,
                  call: Callable[[MigrationApp], str]) -> None:
    def decided(ok: bool | None) -> None:
        if not ok:
            host.log_line("info", f"{operation} cancelled; nothing was written")
        elif not refuse_write(host):
            host.set_state(host.state.begin(Activity.WRITING, label))
            host.run_operation(operation, call)

    host.push_screen(ConfirmScreen(request), decided)
