"""`c` copies the selected row's name and `v` shows the row in full (a cell cut with … included), in panes
1 to 3. In the live log, or with nothing selected, a toast says why: a key never does nothing silently."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runway_tui.tui.components.audit_pane import AuditTable
from runway_tui.tui.components.database_pane import CollectionsTable
from runway_tui.tui.components.migrations_table import MigrationsTable
from runway_tui.tui.format import action_name, duration, row_status, size, summary, version_text, when

if TYPE_CHECKING:
    from runway_tui.tui.host import MainView

Fields = list[tuple[str, str]]
NO_ROWS = {"migrations": "pane 1 has no migration selected", "database": "pane 2 has no collection selected",
           "audit": "pane 3 has no audit entry selected"}


def selected_row(screen: MainView) -> tuple[str, str, Fields] | str:
    """(title, name, every cell in full) of the focused pane's selected row, or why there is none."""
    pane = screen.focused_pane() or "migrations"
    if pane == "log":
        return "the live log has no rows: c and v work in panes 1 to 3 (/ searches the log)"
    if pane == "migrations":
        row = screen.query_one(MigrationsTable).selected_row
        if row is None:
            return NO_ROWS[pane]
        record = row.record
        fields = [("Version", version_text(row.version)), ("Name", row.name), ("Status", row_status(row)),
                  ("Description", summary(row.description)),
                  ("Error", record.error or "" if record else ""),
                  ("Applied at (UTC)", when(record.applied_at, True) if record else ""),
                  ("Applied by", (record.applied_by or "") if record else ""),
                  ("File", str(row.script.path) if row.script else ""),
                  ("Checksum (file)", row.current_checksum or ""), ("Checksum (stored)", row.stored_checksum or "")]
        return f"Migration {version_text(row.version)}", row.name, fields
    if pane == "database":
        table = screen.query_one(CollectionsTable)
        data = table.selected_data
        if data is None:
            return NO_ROWS[pane]
        count = data.get("count")
        fields = [("Collection", str(data["name"])), ("Type", str(data.get("type", "collection"))),
                  ("Documents (estimated)", "" if count is None else f"{count:,}"), ("Size", size(data.get("size"))),
                  ("Indexes", "" if data.get("indexes") is None else str(data["indexes"])),
                  ("Validator", "yes" if data.get("validator") else "no"),
                  ("Runway's own", "yes" if data.get("ours") else "no")]
        return f"Collection {data['name']}", str(data["name"]), fields
    entry = screen.query_one(AuditTable).selected_entry
    if entry is None:
        return NO_ROWS[pane]
    model = entry.migration_read_model
    name = model.name if model else ""
    fields = [("Date (UTC)", when(entry.date, True)), ("Action", action_name(entry)), ("Migration", name),
              ("Result", "ok" if entry.succeeded else (entry.exc_name or "error")),
              ("Error", entry.exc_message or "" if not entry.succeeded else ""),
              ("Took", duration(entry.duration_ms)), ("User@host", f"{entry.user or '?'}@{entry.host or '?'}")]
    return f"Audit entry: {action_name(entry)} {name}".rstrip(), name or action_name(entry), fields


def copy_name(screen: MainView) -> None:
    """The selected row's name to the clipboard (OSC 52: over SSH and in tmux with set-clipboard on)."""
    found = selected_row(screen)
    if isinstance(found, str):
        screen.notify(f"nothing to copy: {found}", severity="warning", timeout=3, markup=False)
        return
    _, name, _ = found
    screen.app.copy_to_clipboard(name)
    screen.notify(f"copied {name} (OSC 52)", timeout=3, markup=False)


def show_row(screen: MainView) -> None:
    from runway_tui.tui.screens.row import RowScreen

    found = selected_row(screen)
    if isinstance(found, str):
        screen.notify(f"nothing to show: {found}", severity="warning", timeout=3, markup=False)
        return
    title, _, fields = found
    screen.app.push_screen(RowScreen(title, fields))
