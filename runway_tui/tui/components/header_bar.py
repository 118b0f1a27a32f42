"""The two header lines: where we are connected, what state the database is in, and whether it is safe."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from runway_tui.engine.connection import ServerInfo
from runway_tui.engine.models import LockInfo, StatusReport
from runway_tui.engine.vocabulary import version_label
from runway_tui.tui.format import shown, when

PRODUCTION_BADGE = "bold white on dark_red"


@dataclass
class HeaderState:
    app_name: str
    database: str
    address: str
    read_only: bool
    production: bool
    server: ServerInfo | None = None
    status: StatusReport | None = None
    lock: LockInfo | None = None
    connection: str = "connecting"  # connecting, connected, disconnected
    busy: str | None = None
    lock_is_ours: bool = False  # taken by this session's running step
    refresh: str = ""  # how other operators' changes reach us: "live" (change stream) or "polling 2s"


class HeaderBar(Static):
    """Rendered from `HeaderState` with `rich.text.Text` so names and addresses are never parsed as markup.

    Two lines, always (app.tcss): a new text repaints the header alone, never the screen's layout, and the
    same text again repaints nothing (a step's engine events each ask for the header)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shown: tuple[object, ...] | None = None  # the text and styles shown (Text's == compares text only)

    def show(self, state: HeaderState) -> None:
        self.set_class(state.production, "-production")
        self.set_class(state.connection == "disconnected", "-disconnected")
        text = render_header(state)
        shown = (text.plain, str(text.style), tuple(text.spans))
        if shown == self._shown:
            return
        self._shown = shown
        self.update(text, layout=False)


def elsewhere(status: StatusReport) -> list[str]:
    """`backfill 017: 43%, paused by alice@host` for each backfill another runner is walking now."""
    lines = []
    for row in status.running:
        activity, record = row.activity, row.record
        if activity is None or row.version is None or not activity.total or record is None or not record.backfill:
            continue
        paused = f", paused by {activity.paused_by}" if activity.paused_by else ""
        lines.append(f"backfill {version_label(row.version)}: "
                     f"{min(100, (activity.done or 0) * 100 // activity.total)}%{paused}")
    return lines


def render_header(state: HeaderState) -> Text:
    line1, line2 = _where(state), _status(state)
    for line in (line1, line2):
        line.no_wrap = True
        line.overflow = "ellipsis"
    # names, the address, the server's words and the lock's holder may hold anything: shown as escapes
    return Text("\n", no_wrap=True, overflow="ellipsis").join([shown(line1), shown(line2)])


def _where(state: HeaderState) -> Text:
    """Line 1: the application, its safety badges, the server and the database."""
    line1 = Text()
    line1.append(" runway ", style="bold reverse")
    line1.append(" ")
    line1.append(state.app_name, style="bold")
    line1.append(" ")
    if state.production:
        line1.append("  PRODUCTION ", style=PRODUCTION_BADGE)
    if state.read_only:
        line1.append("  READ-ONLY ", style="bold black on yellow")
    else:
        line1.append("  WRITE ", style="bold black on green")
    line1.append("  ")
    line1.append(state.address, style="")
    line1.append(" / ", style="dim")
    line1.append(state.database, style="bold")
    if state.server is not None:
        line1.append(f"  · MongoDB {state.server.version} {state.server.topology}", style="dim")
        if not state.server.supports_transactions:
            line1.append(" (no transactions)", style="dim yellow")
    return line1


def _status(state: HeaderState) -> Text:
    """Line 2: the connection, the version and its counts, the lock, how changes arrive, what runs."""
    line2 = Text(" ")
    if state.connection == "disconnected":
        line2.append(" DISCONNECTED ", style="bold white on red")
        line2.append(" retrying; press r to retry now", style="red")
    elif state.connection == "connecting":
        line2.append("connecting…", style="italic dim")
    elif state.status is not None:
        counts = state.status.counts()
        current = state.status.current_version
        line2.append("version ", style="dim")
        line2.append(version_label(current), style="bold")
        line2.append("  ")
        pending = counts["pending"]
        line2.append(f"{pending} pending", style="bold cyan" if pending else "dim")
        for key, label, style in (("running", "running", "bold yellow"), ("paused", "paused", "bold cyan"),
                                  ("drift", "drift", "bold yellow"),
                                  ("orphan", "orphan", "magenta"), ("failed", "failed", "bold red"),
                                  ("interrupted", "interrupted", "bold red"), ("broken", "broken", "bold red")):
            if counts.get(key):
                line2.append(f"  {counts[key]} {label}", style=style)
        line2.append("  · lock ", style="dim")
        lock = state.lock
        if lock is None:
            line2.append("free", style="green")
        elif state.lock_is_ours:
            line2.append(f"held by this session ({lock.user}@{lock.host}) for {lock.operation}", style="yellow")
        else:
            since = f" since {when(lock.acquired_at, seconds=True)}" if lock.acquired_at else ""
            expired = " (expired)" if lock.expired else ""
            line2.append(f"held by {lock.user}@{lock.host} for {lock.operation}{since}{expired}",
                         style="yellow" if not lock.expired else "red")
        if state.refresh:
            line2.append(f"  · {state.refresh}", style="green" if state.refresh == "live" else "dim")
        if not state.lock_is_ours:
            for text in elsewhere(state.status):  # another operator's backfill: how far, and who paused it
                line2.append(f"  ▶ {text}", style="bold yellow")
    if state.busy:
        line2.append("  ● ", style="bold yellow")
        line2.append(state.busy, style="bold yellow")
    return line2
