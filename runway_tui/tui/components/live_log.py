"""Pane 4: engine events as they happen, a progress bar for long steps, follow/pause and a level filter."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.widgets import Input, Label, ProgressBar, RichLog

from runway_tui.engine.messages import visible
from runway_tui.tui.bridge import LogEntry, Progress
from runway_tui.tui.format import plain

LEVELS = ("debug", "info", "warning", "error")
LEVEL_STYLES = {"debug": "dim", "info": "", "success": "green", "warning": "yellow", "error": "bold red"}
LEVEL_TAGS = {"debug": "DBG", "info": "INF", "success": " OK", "warning": "WRN", "error": "ERR"}


def _rank(level: str) -> int:
    level = "info" if level == "success" else level
    return LEVELS.index(level) if level in LEVELS else 1


class LiveLog(Vertical):
    """Keeps its own bounded history so that changing the level filter can re-render what was kept."""

    def __init__(self, max_lines: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.max_lines = max_lines
        self.history: deque[LogEntry] = deque(maxlen=max_lines)
        self.min_level = "info"
        self.following = True
        self.text_filter = ""  # `/` in pane 4: only lines containing it (case-insensitive)
        self._rendered_width = 0

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search the live log · Esc clears", id="log-filter", classes="filter-input")
        with Horizontal(id="progress-row"):
            yield Label("", id="progress-label")
            yield ProgressBar(total=1, show_eta=False, id="progress")
        yield RichLog(max_lines=self.max_lines, wrap=True, markup=False, highlight=False, auto_scroll=True,
                      min_width=20, id="log")

    def on_mount(self) -> None:
        self._update_subtitle()

    @property
    def log_widget(self) -> RichLog:
        return self.query_one("#log", RichLog)

    def add(self, entries: list[LogEntry]) -> None:
        log = self.log_widget
        for entry in entries:
            self.history.append(entry)
            if self._shown(entry):
                log.write(self._line(entry), scroll_end=self.following)

    def _shown(self, entry: LogEntry) -> bool:
        return _rank(entry.level) >= _rank(self.min_level) and (
            not self.text_filter or self.text_filter in entry.text.lower())

    def set_text_filter(self, text: str) -> None:
        self.text_filter = text.strip().lower()
        self._rerender()
        self._update_subtitle()

    def _line(self, entry: LogEntry) -> Text:
        style = LEVEL_STYLES.get(entry.level, "")
        line = Text()
        line.append(f"{entry.time} ", style="dim")
        line.append(LEVEL_TAGS.get(entry.level, entry.level[:3].upper()), style=style or "bold")
        line.append(" ")
        line.append(visible(entry.text, keep_newlines=True, keep_tabs=True), style=style)  # a migration's output
        return line

    def on_resize(self) -> None:
        """RichLog wraps at write time: re-wrap what we kept when the pane changes width."""
        if self.size.width != self._rendered_width:
            self._rendered_width = self.size.width
            self._rerender()

    def cycle_level(self) -> str:
        self.min_level = LEVELS[(LEVELS.index(self.min_level) + 1) % len(LEVELS)]
        self._rerender()
        self._update_subtitle()
        return self.min_level

    def _rerender(self) -> None:
        log = self.log_widget
        log.clear()
        for entry in self.history:
            if self._shown(entry):
                log.write(self._line(entry), scroll_end=self.following)

    def toggle_follow(self) -> bool:
        self.following = not self.following
        self.log_widget.auto_scroll = self.following
        if self.following:
            self.log_widget.scroll_end(animate=False)
        self._update_subtitle()
        return self.following

    def show_progress(self, progress: Progress | None) -> None:
        row = self.query_one("#progress-row")
        if progress is None:
            row.display = False
            return
        row.display = True
        bar = self.query_one("#progress", ProgressBar)
        if progress.total > 0:
            bar.update(total=progress.total, progress=progress.done)
            label = f"{progress.label}  {progress.done:,}/{progress.total:,}"
        else:
            bar.update(total=1, progress=0)
            label = progress.label
        self.query_one("#progress-label", Label).update(plain(label))

    def _update_subtitle(self) -> None:
        mode = "following" if self.following else "paused"
        search = f"“{visible(self.text_filter)}” · " if self.text_filter else ""
        self.border_subtitle = escape(f"{search}{mode} · {self.min_level}+ · f follow · l level")
