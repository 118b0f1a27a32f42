"""Every key of the main screen as data: one place for the footer, the `?` panel, the palette and the keymap.

Each action has a stable binding id (what `tui.keymap` in the config remaps) and says whether it
writes. Writing actions are hidden in read-only mode and greyed while an operation runs; the engine
refuses them anyway, the UI only reflects that.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class ActionSpec:
    """One user action: its default key, what it does, and how the UI must guard it."""

    id: str
    key: str
    action: str
    description: str
    help: str
    group: str
    mutating: bool = False
    edits_files: bool = False  # no database write, but hidden in read-only too (an edited file is drift)
    footer: bool = False
    key_display: str | None = None

    def binding(self) -> Binding:
        return Binding(self.key, self.action, self.description, show=self.footer, id=self.id,
                       key_display=self.key_display, tooltip=self.help)


ACTIONS: tuple[ActionSpec, ...] = (
    # Migrations
    ActionSpec("migrate-up", "u", "migrate_up", "Up", "Apply the next pending migration (asks first)",
               "Migrate", mutating=True, footer=True),
    ActionSpec("migrate-down", "d", "migrate_down", "Down", "Revert the newest applied migration (asks first)",
               "Migrate", mutating=True, footer=True),
    ActionSpec("migrate-up-to", "U", "migrate_to('up')", "Up to version…",
               "Apply every pending migration up to a version you give", "Migrate", mutating=True),
    ActionSpec("migrate-down-to", "D", "migrate_to('down')", "Down to version…",
               "Revert applied migrations down to a version you give (0 = all)", "Migrate", mutating=True),
    ActionSpec("plan", "p", "plan", "Plan", "Show what 'up all' would run, without running it", "Migrate",
               footer=True),
    ActionSpec("rehearse", "R", "rehearse", "Rehearse",
               "Run the pending migrations on a sample of production in a scratch database first (reads only)",
               "Migrate"),
    ActionSpec("refresh", "r", "refresh", "Refresh",
               "Sync files with the database and reload every pane (retries a lost connection)", "Migrate",
               footer=True),
    ActionSpec("backfill-pause", "b", "backfill_pause", "Pause/resume backfill",
               "Pause the running backfill after its current batch (the lock held), or resume it", "Migrate"),
    ActionSpec("backfill-cancel", "B", "backfill_cancel", "Cancel backfill",
               "Stop the running backfill after its current batch: left paused, the lock released; u resumes it",
               "Migrate"),
    ActionSpec("new-migration", "n", "new_migration", "New", "Create a migration file from the template",
               "Files", mutating=True, footer=True),
    ActionSpec("edit-migration", "e", "edit_migration", "Edit", "Open the selected migration in $EDITOR", "Files",
               edits_files=True),
    ActionSpec("mark-applied", "M", "mark(True)", "Mark applied",
               "Record the selected migration as applied without running it (audited)", "Repair", mutating=True),
    ActionSpec("mark-pending", "P", "mark(False)", "Mark pending",
               "Record the selected migration as pending without running it (audited)", "Repair", mutating=True),
    ActionSpec("accept-drift", "A", "accept_drift", "Accept drift",
               "Store the edited file's checksum for the selected applied migration (audited)", "Repair",
               mutating=True),
    ActionSpec("forget-orphan", "F", "forget", "Forget record",
               "Remove the record of the selected migration whose file is gone (an orphan; audited)", "Repair",
               mutating=True),
    ActionSpec("unlock", "X", "unlock", "Unlock", "Remove the migration lock (a live one only by force; audited)",
               "Repair",
               mutating=True),
    # Navigation
    ActionSpec("focus-migrations", "1", "focus_pane('migrations')", "Migrations pane", "Focus pane 1", "Navigate"),
    ActionSpec("focus-database", "2", "focus_pane('database')", "Database pane", "Focus pane 2", "Navigate"),
    ActionSpec("focus-audit", "3", "focus_pane('audit')", "Audit pane", "Focus pane 3", "Navigate"),
    ActionSpec("focus-log", "4", "focus_pane('log')", "Live log pane", "Focus pane 4", "Navigate"),
    ActionSpec("filter", "slash", "filter", "Filter",
               "Filter the migrations, the collections (pane 2), the audit log or the live log by text",
               "Navigate", footer=True, key_display="/"),
    ActionSpec("status-filter", "s", "status_filter", "Status filter",
               "Show all migrations, only pending, only problems or only applied (cycles)", "Navigate"),
    ActionSpec("next-problem", "exclamation_mark", "next_problem", "Next problem",
               "Move to the next migration with a problem (failed, broken, drift, orphan, out of order)",
               "Navigate", key_display="!"),
    ActionSpec("wide-view", "ctrl+w,w", "wide_view", "Wide view",
               "Pane 1 across the screen with applied at and by (toggles; names are never cut first)", "Navigate",
               key_display="ctrl+w"),
    ActionSpec("copy-name", "c", "copy_name", "Copy name",
               "Copy the selected row's name (migration, collection, audit entry) to the clipboard (OSC 52)",
               "Navigate"),
    ActionSpec("show-row", "v", "show_row", "Row in full",
               "Show every cell of the selected row in full (a cut one too); c there copies one", "Navigate"),
    ActionSpec("log-follow", "f", "log_follow", "Follow log", "Follow or pause the live log", "Live log"),
    ActionSpec("log-level", "l", "log_level", "Log level", "Cycle the live log's level filter", "Live log"),
    ActionSpec("audit-next-page", "right_square_bracket", "audit_page(1)", "Older audit page",
               "Show the next (older) page of the audit log", "Audit log", key_display="]"),
    ActionSpec("audit-prev-page", "left_square_bracket", "audit_page(-1)", "Newer audit page",
               "Show the previous (newer) page of the audit log", "Audit log", key_display="["),
    ActionSpec("audit-export", "x", "audit_export", "Export audit log…",
               "Save the audit entries pane 3 shows (its filter, every page) to a JSON or CSV file", "Audit log"),
    ActionSpec("state-at", "t", "state_at", "State at a time…",
               "Which versions were applied at a moment, from the audit log (the selected entry's by default)",
               "Audit log"),
    ActionSpec("switch-app", "a", "switch_app", "Applications",
               "Switch to another application of the config (each probed read-only first)", "App"),
    ActionSpec("server-info", "i", "server_info", "Server",
               "Server: version, replica set members and lag, slow operations, connections (read only)",
               "Navigate"),
    ActionSpec("show-keys", "question_mark", "show_keys", "Keys", "List every key", "App", footer=True,
               key_display="?"),
    ActionSpec("quit", "q", "quit_app", "Quit", "Quit (asks first while a step is running)", "App", footer=True),
)

BY_ACTION: dict[str, ActionSpec] = {spec.action.split("(")[0]: spec for spec in ACTIONS}
MUTATING_ACTIONS: frozenset[str] = frozenset(spec.action.split("(")[0] for spec in ACTIONS if spec.mutating)
FILE_ACTIONS: frozenset[str] = frozenset(spec.action.split("(")[0] for spec in ACTIONS if spec.edits_files)


def main_bindings() -> list[Binding]:
    return [spec.binding() for spec in ACTIONS]


# Vim-style movement inside the lists (DataTable already binds the arrows, home/end and page keys).
LIST_BINDINGS: list[Binding] = [
    Binding("j", "cursor_down", "Down", show=False),
    Binding("k", "cursor_up", "Up", show=False),
    Binding("g", "scroll_top", "Top", show=False),
    Binding("G", "scroll_bottom", "Bottom", show=False),
]
