"""The connection's course: connected, lost (said once per outage), retried by the poll or by `r`; and the
poll itself, which shows other operators' changes where there is no change stream. Functions over `Host`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runway_tui.tui.screens.error import ErrorScreen
from runway_tui.tui.state import Connection, Reason

if TYPE_CHECKING:
    from runway_tui.engine.connection import ServerInfo
    from runway_tui.tui.host import Host


def poll(host: Host) -> None:
    """Show other operators' changes; while disconnected, this is the retry."""
    if host.state.busy is not None or not host.screen_stack:  # a timer may fire while the app exits
        return
    if host.engine is None or (host.app_config.is_embedded and not host.state.connected):
        if host.connection is Connection.DISCONNECTED:
            host.retry_connection(quiet=True)  # an embedded daemon that died is started again
        return
    if host.live and host.state.connected:
        return  # the change stream shows other operators' changes as they happen
    host.watch_retry()
    if host.worker_running("load-state"):
        return
    host.polls += 1
    host.load_state(Reason.POLL)  # the audit page follows when the state changed (or every AUDIT_EVERY polls)


def retry(host: Host, quiet: bool = False) -> None:
    """`r` while disconnected, and the poll's retry. An embedded engine whose daemon died is closed
    first (reaping the dead daemon) and a new one starts a fresh daemon; a remote one reconnects."""
    if host.worker_running("connect"):
        if not quiet:
            host.notify("already connecting…", timeout=2)
        return
    stale = None
    if host.engine is not None and host.app_config.is_embedded and not host.state.connected:
        stale, host.engine = host.engine, None
    if host.engine is not None:  # a remote server: the same client reconnects by itself on the next read
        if not quiet:
            host.log_line("info", "retrying the connection")
        host.set_state(host.state.connecting())
        host.reload(Reason.RETRY)
        return
    if not quiet:
        host.log_line("info", "restarting the embedded database" if stale else "retrying the connection")
    host.set_state(host.state.connecting())
    host.connect_engine(stale)


def connected(host: Host, server: ServerInfo, address: str) -> None:
    """The engine connected: the header and pane 2 say where, then the state is read and the stream opened."""
    host.header_state.server = server
    if host.address_override is None:
        host.header_state.address = address
    host.main.database_pane.show_server(server, host.header_state.address, host.app_config.database)
    tx = "with transactions" if server.supports_transactions else "without transactions"
    host.log_line("info", f"connected: MongoDB {server.version}, {server.topology}, {tx}")
    host.set_state(host.state.reached())
    host.reload(Reason.CONNECT, full=False)  # the overview starts once the state is shown (it is the slow one)
    host.start_watch()


def lost(host: Host, error: str, initial: bool = False, dialog: bool = True) -> None:
    """Once per outage: a log line and one message (a dialog only when a working session lost it;
    at start a toast, so the files on disk, esc and q stay at hand). Retries say nothing more."""
    told = host.state.told_unreachable
    host.set_state(host.state.lost().told())
    host.main.database_pane.show_disconnected(error)
    if host.snapshot is None and not host.files_shown:
        host.load_files()
    if told:
        return
    host.log_line("error", error)
    host.log_line("warning", f"disconnected; retrying every {host.poll_interval:g} s (r retries now)")
    if not dialog:
        return  # the operation that found out shows its own
    if initial and host.snapshot is None:
        host.notify(f"Cannot connect: {error}. The files on disk are shown; r retries.",
                    severity="error", timeout=10, markup=False)
    else:
        host.push_screen(ErrorScreen("Connection lost", error, ["The app stays usable; it retries by itself.",
                                                                "Press r to retry now."]))
