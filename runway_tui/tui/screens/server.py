"""The server, read only: version, topology, replica set members with lag, this database's operations
running longer than `tui.slow_op_threshold_s`, and connections. A section the user may not read says
"not permitted" in place; nothing here opens an error dialog."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static
from textual.worker import get_current_worker

from runway_tui.engine.inspect import CurrentOp, Member, Section, ServerReport
from runway_tui.tui.explorer import explain, inspector_for


def _note(section: Section) -> Text:
    return Text(section.note or "", style="yellow" if section.note == "not permitted" else "dim")


def fill(table: DataTable, labels: tuple[str, ...], rows: list[tuple[Text, ...]], right: set[str]) -> None:
    """Columns as wide as their longest cell, set explicitly (an auto width settles only on idle: a real
    terminal could keep the header's widths and shift the cells), figures right-aligned under their header."""
    table.clear(columns=True)
    widths = [min(max([len(label)] + [r[i].cell_len for r in rows]), 60) for i, label in enumerate(labels)]
    for label, width in zip(labels, widths, strict=True):
        table.add_column(Text(label, justify="right" if label in right else "left"), width=width, key=label)
    for row in rows:
        table.add_row(*row)
    table.refresh()


class ServerScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="server-back"),
        Binding("q", "back", "Back", show=False),
        Binding("r", "reload", "Reload", id="server-reload"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="detail"):
            yield Label(Text.assemble(("Server", "bold"), ("  · read only", "dim")), classes="detail-title")
            with VerticalScroll(id="server-body"):
                yield Static(Text("loading…", style="italic dim"), id="server-facts")
                yield Label(Text("Replica set members", style="bold"), classes="section-title")
                yield Static("", id="members-note")
                yield DataTable(id="members-table", cursor_type="row", classes="server-table")
                yield Label(Text("Operations on this database", style="bold"), classes="section-title")
                yield Static("", id="ops-note")
                yield DataTable(id="ops-table", cursor_type="row", classes="server-table")
                yield Label(Text("Connections", style="bold"), classes="section-title")
                yield Static("", id="connections")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#members-table").focus()
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self.load()

    @work(thread=True, name="inspect-server", group="inspect-server", exclusive=True, exit_on_error=False)
    def load(self) -> None:
        app = self.app
        inspector = inspector_for(app)
        engine = getattr(app, "engine", None)
        if inspector is None or engine is None:
            self.app.call_from_thread(self._failed, "not connected")
            return
        info = engine.server_info
        try:
            report = inspector.server(info.version, info.topology, info.set_name)
        except Exception as exc:  # noqa: BLE001 - shown in place, never a crash
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._failed, explain(exc))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, report)

    def _failed(self, message: str) -> None:
        self.query_one("#server-facts", Static).update(Text(message, style="red"))

    def _show(self, report: ServerReport) -> None:
        facts = Text()
        facts.append("MongoDB ", style="dim")
        facts.append(report.version, style="bold")
        facts.append(f" · {report.topology}" + (f" ({report.set_name})" if report.set_name else ""))
        facts.append(f" · database {report.database}", style="dim")
        self.query_one("#server-facts", Static).update(facts)
        members = self.query_one("#members-table", DataTable)
        self.query_one("#members-note", Static).update(_note(report.members))
        members.display = report.members.rows is not None
        rows = []
        for member in report.members.rows or []:
            assert isinstance(member, Member)
            lag = "—" if member.lag_s is None else f"{member.lag_s:.1f} s"
            rows.append((Text(member.name + (" (this one)" if member.is_self else "")), Text(member.state),
                         Text("ok", style="green") if member.healthy else Text("down", style="red"),
                         Text(lag, style="yellow" if (member.lag_s or 0) > 10 else "", justify="right")))
        fill(members, ("Member", "State", "Health", "Lag"), rows, right={"Lag"})
        ops = self.query_one("#ops-table", DataTable)
        section = report.operations
        if section.rows is None:
            self.query_one("#ops-note", Static).update(_note(section))
        else:
            self.query_one("#ops-note", Static).update(Text(
                f"{len(section.rows)} running longer than {report.threshold_s:g} s", style="dim"))
        ops.display = bool(section.rows)
        op_rows = []
        for op in section.rows or []:
            assert isinstance(op, CurrentOp)
            op_rows.append((Text(str(op.opid), justify="right"), Text(f"{op.secs:.1f} s", justify="right"),
                            Text(op.op), Text(op.ns), Text(op.client), Text(op.summary)))
        fill(ops, ("Op id", "Running", "Op", "Namespace", "Client", "Command"), op_rows, right={"Op id", "Running"})
        connections = report.connections
        text = _note(connections) if connections.rows is None else Text(
            " · ".join(f"{label} {value}" for label, value in connections.rows))
        self.query_one("#connections", Static).update(text)
