"""Full-screen, read-only detail views: a migration, a collection, an audit entry. Esc goes back."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from runway_tui.engine.errors import RunwayError
from runway_tui.engine.inspect_refs import collections_in_file
from runway_tui.engine.models import MigrationAuditlogEntry, Problem, StatusRow
from runway_tui.engine.overview import document_json
from runway_tui.engine.planner import audit_mismatch
from runway_tui.engine.project_files import MAX_MIGRATION_BYTES, NotReadable, read_text
from runway_tui.engine.sources import masked_source
from runway_tui.tui import flows
from runway_tui.tui.components.plain_table import PlainTable
from runway_tui.tui.format import (
    action_name,
    duration,
    markup_safe,
    plain,
    row_status,
    short_name,
    shown,
    status_text,
    summary,
    version_text,
    when,
)
from runway_tui.tui.guard import WriteGuard
from runway_tui.tui.long_text import code_view, cut_long
from runway_tui.tui.words import app_words

if TYPE_CHECKING:
    from runway_tui.engine.app import MigrationApp

MAX_SOURCE_CHARS = 200_000
# a migration's source (and its diff) is shown as the file is, lines uncut, up to MAX_SOURCE_CHARS
SOURCE_BOUNDS = {"max_chars": MAX_SOURCE_CHARS, "max_line": MAX_SOURCE_CHARS, "max_lines": MAX_SOURCE_CHARS}
NO_STORED_SOURCE = ("No stored source exists for this version: it was applied before runway kept each applied file's "
                    "source (or by another tool), so only the checksums tell that it changed. The file as it is now:")


def facts_text(facts: list[tuple[str, Text | str]]) -> Text:
    width = max(len(label) for label, _ in facts)
    text = Text()
    for index, (label, value) in enumerate(facts):
        if index:
            text.append("\n")
        text.append(f"{label:>{width}}  ", style="dim")
        text.append(shown(value) if isinstance(value, Text) else plain(value))  # values come from files and the db
    return text


class DetailScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="detail-back"),
        Binding("q", "back", "Back", show=False),
        # the keys panel's promise (j k g G move), for whichever box has the focus
        Binding("j", "scroll('down')", "Down", show=False),
        Binding("k", "scroll('up')", "Up", show=False),
        Binding("g", "scroll('home')", "Top", show=False),
        Binding("G", "scroll('end')", "Bottom", show=False),
    ]

    def action_back(self) -> None:
        self.dismiss(None)

    def action_scroll(self, where: str) -> None:
        focused = self.focused
        if isinstance(focused, DataTable):
            action = {"down": "cursor_down", "up": "cursor_up", "home": "scroll_top", "end": "scroll_bottom"}[where]
            focused.run_action(action)
        elif focused is not None:
            getattr(focused, f"scroll_{where}")(animate=False)

    @property
    def engine(self) -> MigrationApp | None:
        return getattr(self.app, "engine", None)


class MigrationDetailScreen(WriteGuard, DetailScreen):
    """Source with syntax highlighting, stored vs current checksum, and this migration's audit entries.
    `o` opens a collection the source names, so the data a pending step will touch can be seen first.

    The repairs act here, on this migration, where its drift diff and its error are read (`A`, `M`, `P`,
    `F`), and so do `u` (up to and including it) and `d` (revert it and what is applied above it); each asks
    first, as on the main screen. The screen follows the migration's state as it changes."""

    MUTATING = frozenset({"mark", "accept_drift", "forget", "step_through"})
    FILES = frozenset()
    BINDINGS = [Binding("o", "open_collection", "Collection", id="detail-open-collection",
                        tooltip="Open a collection this migration's source names (read only)"),
                Binding("c", "copy", "Copy", id="detail-copy",
                        tooltip="Copy the step's error and traceback, or the file's path (OSC 52)"),
                Binding("u", "step_through('up')", "Up to this", id="detail-up-to",
                        tooltip="Apply every pending migration up to and including this one (asks first)"),
                Binding("d", "step_through('down')", "Revert this", id="detail-down-through",
                        tooltip="Revert this migration and every applied one above it (asks first)"),
                Binding("A", "accept_drift", "Accept drift", show=False, id="accept-drift",
                        tooltip="Store the edited file's checksum for this applied migration (audited)"),
                Binding("M", "mark(True)", "Mark applied", show=False, id="mark-applied",
                        tooltip="Record this migration as applied without running it (audited)"),
                Binding("P", "mark(False)", "Mark pending", show=False, id="mark-pending",
                        tooltip="Record this migration as pending without running it (audited)"),
                Binding("F", "forget", "Forget record", show=False, id="forget-orphan",
                        tooltip="Remove the record of this migration whose file is gone (audited)")]

    def action_step_through(self, direction: str) -> None:
        flows.request_step_through(self.runway, direction, self.row)

    def action_accept_drift(self) -> None:
        flows.request_accept(self.runway, self.row)

    def action_mark(self, applied: bool) -> None:
        flows.request_mark(self.runway, applied, self.row)

    def action_forget(self) -> None:
        flows.request_forget(self.runway, self.row)

    def follow(self, rows: list[StatusRow]) -> None:
        """The state read after a step, a repair or another operator's change: shown here too."""
        version, name = self.row.version, self.row.name
        fresh = next((r for r in rows if (r.version == version if version is not None
                                          else r.version is None and r.name == name)), None)
        if fresh is None or fresh == self.row:
            return
        self.row = fresh
        self.collections = collections_in_file(fresh.script.path) if fresh.script is not None else []
        self.diff_text = ""
        self.refresh(recompose=True)
        self.call_after_refresh(self._fill)

    def action_copy(self) -> None:
        """The stored error (scrubbed by the engine) when the step failed, else the file's path (OSC 52)."""
        row = self.row
        record = row.record
        text = ((record.error_traceback or record.error) if record and record.error else
                str(row.script.path) if row.script else row.name)
        self.app.copy_to_clipboard(text)
        self.notify("copied the error" if row.record and row.record.error else f"copied {text}", timeout=2,
                    markup=False)

    def __init__(self, row: StatusRow) -> None:
        super().__init__()
        self.row = row
        self.diff_text = ""  # drift: the unified diff shown (tests read it)
        self.collections = collections_in_file(row.script.path) if row.script is not None else []

    def action_open_collection(self) -> None:
        from runway_tui.tui.screens.collection import CollectionScreen
        from runway_tui.tui.screens.collection_pick import CollectionPickScreen

        if not self.collections:
            self.notify("this migration's source names no collection (ctx.db[\"name\"] or ctx.db.name)",
                        severity="warning", timeout=3, markup=False)
            return
        if len(self.collections) == 1:
            self.app.push_screen(CollectionScreen(self.collections[0]))
            return

        def chosen(name: str | None) -> None:
            if name:
                self.app.push_screen(CollectionScreen(name))

        self.app.push_screen(CollectionPickScreen(f"Collections named by {version_text(self.row.version)}",
                                                  self.collections), chosen)

    def compose(self) -> ComposeResult:
        row = self.row
        with Vertical(classes="detail"):
            yield Label(plain(f"Migration {version_text(row.version)} · {short_name(row.name, row.version)}",
                              style="bold"),
                        classes="detail-title")
            yield Static(self._facts(), id="migration-facts")
            record = row.record
            if record is not None and record.error and record.error_traceback:
                with VerticalScroll(id="traceback", classes="detail-box") as box:
                    box.border_title = "traceback of the failed step (c copies it)"
                    traceback = cut_long(record.error_traceback, "the traceback")
                    yield Static(Text("\n".join(filter(None, (traceback.text, traceback.note))), style="red"),
                                 id="traceback-text")
            with VerticalScroll(id="source", classes="detail-box") as scroll:
                scroll.border_title = markup_safe(row.script.path.name) if row.script else "no file"
                yield Static(self._source(), id="source-text")
            audit = PlainTable(cursor_type="row", id="migration-audit", classes="detail-box")
            audit.border_title = "Audit entries"
            yield audit
        yield Footer()

    def _facts(self) -> Text:
        row, record, script = self.row, self.row.record, self.row.script
        stored, current = row.stored_checksum, row.current_checksum
        if stored and current:
            same = stored == current
            checksum = Text.assemble((f"stored {stored}", ""), ("  ·  ", "dim"), (f"file {current}", ""),
                                     ("  ✓ match" if same else "  ≠ DRIFT: the file changed since it was applied",
                                      "green" if same else "bold yellow"))
        else:
            checksum = Text(f"stored {stored or '—'}  ·  file {current or '—'}")
        facts: list[tuple[str, Text | str]] = [
            ("Status", status_text(row)),
            ("Description", summary(row.description) or "—"),
            ("Problems", ", ".join(p.value.replace("_", " ") for p in row.problems) or "none"),
            ("Checksum", checksum),
            ("Collections", plain(", ".join(self.collections) + "  (o opens one, read only)")
             if self.collections else Text("none named in the source", style="dim")),
            ("Transaction", "—" if script is None else ("runs in a transaction (when the server supports it)"
                                                        if script.transactional else "runs without a transaction")),
        ]
        if script is not None and script.format == "mongorunway":
            facts.append(("Format", "Mongorunway (@mongorunway.migration command lists)"))
        if record is not None:
            facts.append(("Applied", f"{when(record.applied_at, seconds=True) or '—'} by "
                                     f"{record.applied_by or '—'} in {duration(record.duration_ms) or '—'}"))
            if record.error:
                facts.append(("Last error", plain(record.error, style="red")))
        if row.audit is not None:  # the audit log outvotes the record (engine/evidence.py); its user/host are data
            facts.append(("Audit log", plain(app_words(self.app, audit_mismatch(row)), style="red")))
        if script is not None and script.problem:
            facts.append(("File problem", plain(script.problem, style="red")))
        return facts_text(facts)

    def _file_text(self) -> str:
        """The file as it is now, masked as its stored source is (`masked_source`): no password on screen,
        and a drift diff that shows only what was edited."""
        assert self.row.script is not None
        text = read_text(self.row.script.path, MAX_MIGRATION_BYTES, "migration", errors="replace")
        return masked_source(text, self.app_secrets)

    @property
    def app_secrets(self) -> list[str]:
        config = getattr(self.app, "app_config", None)
        return list(getattr(config, "secrets", []) or [])

    def _source(self) -> Group | Text:
        if self.row.script is None:
            return Text("The file is missing (orphan): only the database record remains.", style="italic")
        try:
            source = cut_long(self._file_text(), "the file", **SOURCE_BOUNDS)
        except OSError as exc:  # a FIFO or a huge file is refused, never read on the UI thread
            return plain(f"cannot read the file: it {exc.strerror}" if isinstance(exc, NotReadable) else
                         f"cannot read the file: {exc}", style="red")
        body = code_view(source, "python", line_numbers=True, word_wrap=False)
        return Group(plain(source.note, "yellow"), body) if source.note else Group(body)

    def on_mount(self) -> None:
        self._fill()

    def _fill(self) -> None:
        """What the widgets need once composed (again after `follow`): the audit entries, the drift diff."""
        table = self.query_one("#migration-audit", PlainTable)
        for label in ("Date", "Action", "Result", "Took", "User@host"):
            table.add_column(label)
        self.query_one("#source").focus()
        if self.row.version is not None:
            self.load_audit(self.row.version)
            if Problem.DRIFT in self.row.problems and self.row.stored_checksum:
                self.load_stored_source(self.row.version, self.row.stored_checksum)

    @work(thread=True, name="migration-source", group="detail", exit_on_error=False)
    def load_stored_source(self, version: int, checksum: str) -> None:
        """Drift: the source that was applied (kept by the engine), shown against the file as a diff."""
        engine = self.engine
        if engine is None:
            return
        try:
            stored = engine.stored_source(version, checksum)
        except RunwayError as exc:
            self.app.call_from_thread(self.notify, f"cannot read the applied source: {exc}", severity="error",
                                      markup=False)
            return
        self.app.call_from_thread(self.show_drift, stored)

    def show_drift(self, stored: str | None) -> None:
        box = self.query_one("#source", VerticalScroll)
        body = self.query_one("#source-text", Static)
        if stored is None:
            box.border_title = f"{box.border_title} · no stored source to diff"
            body.update(Group(Text(NO_STORED_SOURCE, style="italic yellow"), self._source()))
            return
        assert self.row.script is not None
        name = self.row.script.path.name
        try:
            current = self._file_text()[:MAX_SOURCE_CHARS]
        except OSError:
            body.update(Group(Text("cannot read the file now", style="italic yellow"), self._source()))
            return
        stored = masked_source(stored, self.app_secrets)[:MAX_SOURCE_CHARS]  # kept masked: idempotent
        lines = difflib.unified_diff(stored.splitlines(keepends=True), current.splitlines(keepends=True),
                                     fromfile=f"{name} as applied ({self.row.stored_checksum})",
                                     tofile=f"{name} now ({self.row.current_checksum})")
        self.diff_text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
        box.border_title = "drift: the applied source against the file now (unified diff)"
        diff = cut_long(self.diff_text or "(no difference in the text as shown: only line endings, the encoding "
                                          "or a masked password changed)", "the diff", **SOURCE_BOUNDS)
        body.update(code_view(diff, "diff", word_wrap=False))

    @work(thread=True, name="migration-audit", group="detail", exit_on_error=False)
    def load_audit(self, version: int) -> None:
        engine = self.engine
        if engine is None:
            return
        try:
            entries = engine.history(limit=50, version=version)
        except RunwayError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            return
        self.app.call_from_thread(self._show_audit, entries)

    def _show_audit(self, entries: list[MigrationAuditlogEntry]) -> None:
        table = self.query_one("#migration-audit", PlainTable)
        for entry in entries:
            result = Text("ok", style="green") if entry.succeeded else plain(
                f"{entry.exc_name}: {entry.exc_message or ''}"[:80], style="red")
            table.add_row(when(entry.date, seconds=True), action_name(entry), result, duration(entry.duration_ms),
                          f"{entry.user}@{entry.host}")
        if not entries:
            table.add_row("", Text("no audit entries for this migration yet", style="dim"), "", "", "")


class AuditDetailScreen(DetailScreen):
    """One audit entry in full."""

    def __init__(self, entry: MigrationAuditlogEntry) -> None:
        super().__init__()
        self.entry = entry

    def compose(self) -> ComposeResult:
        entry = self.entry
        model = entry.migration_read_model
        facts: list[tuple[str, Text | str]] = [
            ("Date", when(entry.date, seconds=True)),
            ("Action", f"{action_name(entry)} ({entry.transaction_name})"),
            ("Migration", f"{version_text(model.version)} {model.name}" if model else "—"),
            ("Result", Text("ok", style="green") if entry.succeeded else plain(
                f"{entry.exc_name}: {entry.exc_message or ''}", style="bold red")),
            ("Took", duration(entry.duration_ms) or "—"),
            ("By", f"{entry.user}@{entry.host} (runway {entry.engine_version or '?'})"),
        ]
        document = cut_long(document_json(entry.to_document()), "the entry")
        with Vertical(classes="detail"):
            yield Label(Text("Audit entry", style="bold"), classes="detail-title")
            yield Static(facts_text(facts), id="audit-facts")
            with VerticalScroll(id="audit-doc", classes="detail-box") as scroll:
                scroll.border_title = "stored document"
                body = code_view(document, "json", word_wrap=True)
                yield Static(Group(plain(document.note, "yellow"), body) if document.note else body)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#audit-doc").focus()


__all__ = ["AuditDetailScreen", "MigrationDetailScreen", "row_status"]
