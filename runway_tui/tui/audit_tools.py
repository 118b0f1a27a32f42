"""Pane 3 for an incident review: `x` saves the entries it shows (its filter, every page) to a JSON or CSV file
and says where; `t` shows which versions were applied at a moment (by default the selected entry's).

Both only read the database (in workers); the export writes one new file, never replacing one, so both
stay available in read-only mode.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from runway_tui.engine.audit_export import FORMATS
from runway_tui.engine.timespec import TimeSpec, TimeSpecError
from runway_tui.tui.audit_search import AuditSearch, parse_or_none
from runway_tui.tui.components.audit_pane import EXPORT_LIMIT, AuditPane, AuditTable
from runway_tui.tui.screens.prompt import PromptScreen
from runway_tui.tui.screens.state_at import StateAtScreen

if TYPE_CHECKING:
    from runway_tui.tui.host import Host, MainView



def export_folder(app: Host) -> Path:
    """Where a relative export path goes: the project's folder (the config's), shown in the prompt."""
    return app.app_config.config_path.parent


def resolve_export_path(app: Host, text: str) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else export_folder(app) / path


def request_export(screen: MainView) -> None:
    app: Host = screen.runway
    if app.engine is None or not app.state.connected:
        screen.notify("not connected (r retries)", severity="warning", timeout=3)
        return
    line = screen.query_one(AuditPane).filter_text
    search = parse_or_none(line)
    stamp = app.clock().strftime("%Y%m%d-%H%M%S")
    default = f"audit-{app.app_config.name}-{stamp}.json"
    what = f"the entries matching “{line}”" if line else "every entry"

    def validate(text: str) -> str | None:
        if not text:
            return "a file name ending in .json or .csv"
        path = resolve_export_path(app, text)
        if path.suffix.lower() not in FORMATS:
            return "end the name with .json or .csv (the format follows it)"
        if path.exists():
            return f"{path} exists; choose another name"
        if not path.parent.is_dir():
            return f"{path.parent} is not a folder"
        return None

    def chosen(text: str | None) -> None:
        if not text:
            return
        pane, path = screen.query_one(AuditPane), resolve_export_path(app, text)
        if app.engine is None:  # lost while the prompt was open
            pane.post_message(AuditPane.Exported(path, error="not connected"))
            return
        pane.export(app.engine, path, search, line)

    screen.app.push_screen(PromptScreen(
        "Export the audit log", f"Saves {what} (every page, newest first, up to {EXPORT_LIMIT:,}) as JSON, or as "
        f"CSV with a .csv name. A relative name is saved in {export_folder(app)}.", value=default,
        validate=validate), chosen)


def request_state_at(screen: MainView) -> None:
    app: Host = screen.runway
    if app.engine is None or not app.state.connected:
        screen.notify("not connected (r retries)", severity="warning", timeout=3)
        return
    entry = screen.query_one(AuditTable).selected_entry if screen.focused_pane() == "audit" else None
    default = entry.date.isoformat(sep="T", timespec="milliseconds") if entry is not None and entry.date else ""

    def validate(text: str) -> str | None:
        try:
            TimeSpec.parse(text)
        except TimeSpecError as exc:
            return str(exc)
        return None

    def chosen(text: str | None) -> None:
        if text:
            now = {r.version: ("applied" if r.is_applied else r.state) for r in app.snapshot.status.rows
                   if r.version is not None and r.record is not None} if app.snapshot is not None else {}
            screen.app.push_screen(StateAtScreen(TimeSpec.parse(text), now))

    screen.app.push_screen(PromptScreen(
        "State at a time", "Which versions were applied at that moment, from the audit log (UTC; an entry's own "
        "moment counts). A time ago such as 2h is before the server's now.",
        placeholder="2026-03-14T09:30, or 2h", value=default, validate=validate), chosen)


__all__ = ["AuditSearch", "request_export", "request_state_at"]
