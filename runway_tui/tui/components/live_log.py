"""Pane 4: engine events as they happen, a progress bar for long steps, follow/pause and a level filter."""

from __future__ import annotations

import time
from collections import deque

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.markup import escape
from textual.timer import Timer
from textual.widgets import Input, Label, ProgressBar, RichLog

from runway_tui.engine.backfill.progress import BackfillFigures, describe
from runway_tui.engine.messages import visible
from runway_tui.engine.vocabulary import duration_label
from runway_tui.tui.bridge import LogEntry, Progress
from runway_tui.tui.format import plain

LEVELS = ("debug", "info", "warning", "error")
LEVEL_STYLES = {"debug": "dim", "info": "", "success": "green", "warning": "yellow", "error": "bold red"}
LEVEL_TAGS = {"debug": "DBG", "info": "INF", "success": " OK", "warning": "WRN", "error": "ERR"}
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
TICK_S = 0.2
HOLD_S = 0.25  # while an operation of ours runs, new lines are written at least this often (see `add`)
PROGRESS_AFTER_S = 0.2  # a step still running after this long shows its progress row (see `show_progress`)


def progress_text(progress: Progress, now: float, frame: str = SPINNER[0]) -> str:
    """`1,234/10,000 · 410/s · ETA 19.1 s · 3.0 s elapsed · up 011_backfill`, or, for a step that reports no
    progress, `⠙ 12.3 s elapsed · up 011_backfill`: what changes first, so a narrow pane keeps it (durations
    in the one format every front end uses)."""
    elapsed_s = max(now - progress.started, 0.0) if progress.started else 0.0
    elapsed = f"{duration_label(int(elapsed_s * 1000))} elapsed"
    if progress.backfill is not None:  # the engine's own figures: rate, ETA, batch size, lag, who paused it
        return f"{describe(progress.backfill)} · {elapsed}"
    if progress.total <= 0:
        return f"{frame} {elapsed} · {progress.label}"
    parts = [f"{progress.done:,}/{progress.total:,}"]
    if progress.done > 0 and elapsed_s > 0:
        rate = progress.done / elapsed_s
        parts.append(f"{rate:,.0f}/s" if rate >= 10 else f"{rate:.1f}/s")
        if progress.done < progress.total:
            parts.append(f"ETA {duration_label(int((progress.total - progress.done) / rate * 1000))}")
    return " · ".join([*parts, elapsed, progress.label])


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
        self._progress: Progress | None = None
        self._ticker: Timer | None = None
        self._reveal: Timer | None = None  # shows the progress row once a step has run PROGRESS_AFTER_S
        self.holding = False  # this session's operation runs: lines are written together (see `add`)
        self._unwritten: list[LogEntry] = []
        self._flush_timer: Timer | None = None
        self._frame = 0
        self.monotonic = time.monotonic  # the clock of elapsed times (a test may fix it)

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search the live log · Esc clears", id="log-filter", classes="filter-input")
        with Vertical(id="progress-row"):  # the step's text on one line, its bar below (rate and ETA fit)
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
        """Kept at once; written to the screen at once, or, while `holding`, within HOLD_S: each line written
        grows the log, which re-arranges the whole screen, so a run's lines land together, not one by one."""
        for entry in entries:
            self.history.append(entry)
            if self._shown(entry):
                self._unwritten.append(entry)
        if not self._unwritten:
            return
        if not self.holding:
            self.flush()
        elif self._flush_timer is None:
            self._flush_timer = self.set_timer(HOLD_S, self.flush, name="log-flush")

    def hold(self, holding: bool) -> None:
        """While this session's own operation runs (the app says so): lines are written together."""
        self.holding = holding
        if not holding and self._unwritten:
            self.flush()

    def flush(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        lines, self._unwritten = self._unwritten, []
        log = self.log_widget
        for entry in lines:
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
        self._unwritten = []  # in the history: written below
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

    @property
    def backfill(self) -> BackfillFigures | None:
        """The figures of the backfill this session runs now, if any (the pause and cancel keys ask)."""
        return self._progress.backfill if self._progress is not None else None

    def show_progress(self, progress: Progress | None) -> None:
        """The step running now: with `ctx.progress`, a bar with rate and ETA; without, an indeterminate bar
        and the elapsed time (never a bar stuck at 0 %). A timer keeps the time current between events."""
        row = self.query_one("#progress-row")
        self._progress = progress
        if progress is None:
            row.display = False
            for timer in (self._ticker, self._reveal):
                if timer is not None:
                    timer.stop()
            self._ticker = self._reveal = None
            return
        bar = self.query_one("#progress", ProgressBar)
        if progress.total > 0:
            bar.update(total=progress.total, progress=progress.done)
        else:
            bar.update(total=None)  # indeterminate: the bar moves, no percentage is claimed
        if not row.display:  # shown once the step lasts: a quick one is not a bar that flashes (and a relayout)
            if self._reveal is None:
                self._reveal = self.set_timer(PROGRESS_AFTER_S, self._show_row, name="reveal-progress")
            return
        if self._ticker is None:
            self._ticker = self.set_interval(TICK_S, self._tick)
        self._tick()

    def _show_row(self) -> None:
        self._reveal = None
        if self._progress is not None:
            self.query_one("#progress-row").display = True
            self.show_progress(self._progress)

    def _tick(self) -> None:
        progress = self._progress
        if progress is None:
            return
        self._frame = (self._frame + 1) % len(SPINNER)
        self.query_one("#progress-label", Label).update(plain(progress_text(progress, self.monotonic(),
                                                                            SPINNER[self._frame])))

    def _update_subtitle(self) -> None:
        mode = "following" if self.following else "paused"
        search = f"“{visible(self.text_filter)}” · " if self.text_filter else ""
        self.border_subtitle = escape(f"{search}{mode} · {self.min_level}+ · f follow · l level")
