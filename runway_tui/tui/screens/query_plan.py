"""The server's plan for the Documents view's filter and sort, as a tree of its stages (engine/query_plan.py).

`s` asks again with `executionStats`: the server then runs the query (bounded by maxTimeMS) and counts the
index keys and documents it examined; `c` copies the server's reply (masked) as JSON.
"""

from __future__ import annotations

from rich.text import Text
from rich.tree import Tree
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Label, Static
from textual.worker import get_current_worker

from runway_tui.engine.inspect import DocumentQuery
from runway_tui.engine.messages import visible
from runway_tui.engine.query_plan import PlanStage, QueryPlan
from runway_tui.tui.explorer import explain, inspector_for
from runway_tui.tui.format import plain, shown

SCANS = {"COLLSCAN": "bold red", "IXSCAN": "bold green", "FETCH": "bold cyan", "SORT": "bold yellow"}


def stage_label(stage: PlanStage) -> Text:
    text = plain(stage.stage, style=SCANS.get(stage.stage, "bold"))
    for label, value in stage.details:
        text.append(f"  {label} ", style="dim")
        text.append(visible(value), style="green" if label == "index" else "")
    for label, count in stage.counts:
        text.append(f"  {label} {count:,}", style="cyan")
    return text


def plan_tree(plan: QueryPlan) -> Tree:
    def grow(branch: Tree, stage: PlanStage) -> None:
        for child in stage.children:
            grow(branch.add(stage_label(child)), child)

    tree = Tree(stage_label(plan.winning), guide_style="dim")
    grow(tree, plan.winning)
    return tree


def plan_facts(plan: QueryPlan) -> Text:
    text = Text()
    if plan.indexes:
        text.append("uses ", style="dim")
        text.append(visible(", ".join(plan.indexes)), style="bold green")
    else:
        text.append("no index: the server reads the whole collection (COLLSCAN)", style="bold red")
    if plan.rejected:
        text.append(f" · {plan.rejected} other plan{'s' if plan.rejected > 1 else ''} rejected", style="dim")
    if plan.totals:
        text.append("\n" + " · ".join(f"{label} {value}" for label, value in plan.totals), style="cyan")
    else:
        text.append("\nplanned, not run: s runs it and counts the keys and documents examined", style="dim")
    return text


class QueryPlanScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="plan-back"),
        Binding("q", "back", "Back", show=False),
        Binding("s", "stats", "Execution stats", id="plan-stats",
                tooltip="Run the query on the server (bounded by maxTimeMS) and count what it examined"),
        Binding("c", "copy", "Copy", id="plan-copy", tooltip="Copy the server's reply (masked) as JSON"),
    ]

    def __init__(self, collection: str, query: DocumentQuery, plan: QueryPlan) -> None:
        super().__init__()
        self.collection, self.plan_query, self.plan = collection, query, plan

    def compose(self) -> ComposeResult:
        with Vertical(classes="detail"):
            what = self.plan_query.filter.strip() or "{}"
            sort = f" · sort {self.plan_query.sort.strip()}" if self.plan_query.sort.strip() else ""
            yield Label(Text.assemble(("Query plan of ", "dim"), (self.collection, "bold"),
                                      (f" · {what}{sort}", "dim")), classes="detail-title", id="plan-title")
            with VerticalScroll(id="plan-body", classes="detail-box"):
                yield Static("", id="plan-facts")
                yield Static("", id="plan-tree")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.show(self.plan)
        self.query_one("#plan-body").focus()

    def show(self, plan: QueryPlan) -> None:
        self.plan = plan
        self.query_one("#plan-body").border_title = f"winning plan ({plan.verbosity})"
        self.query_one("#plan-facts", Static).update(shown(plan_facts(plan), lines=True))
        self.query_one("#plan-tree", Static).update(plan_tree(plan))

    def action_stats(self) -> None:
        self.query_one("#plan-facts", Static).update(Text("running the query on the server…", style="italic dim"))
        self._stats()

    @work(thread=True, name="inspect-plan", group="inspect-plan", exclusive=True, exit_on_error=False)
    def _stats(self) -> None:
        inspector = inspector_for(self.app)
        try:
            plan = inspector.explain(self.collection, self.plan_query, "executionStats") if inspector else None
            error = None if plan else "not connected"
        except Exception as exc:  # noqa: BLE001 - shown in place, never a crash
            plan, error = None, explain(exc)
        if not get_current_worker().is_cancelled:
            self.post_message(self.Read(plan, error))

    class Read(Message):
        """The plan with execution stats, or one line of error."""

        def __init__(self, plan: QueryPlan | None, error: str | None) -> None:
            super().__init__()
            self.plan, self.error = plan, error

    @on(Read)
    def _shown(self, message: Read) -> None:
        if message.plan is not None:
            self.show(message.plan)
        else:
            self.query_one("#plan-facts", Static).update(plain(message.error or "", style="red"))

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.plan.text)
        self.notify(f"copied the plan, {len(self.plan.text):,} characters (OSC 52)", timeout=3)

    def action_back(self) -> None:
        running = [w for w in self.workers if w.is_running and w.group == "inspect-plan"]
        for worker in running:
            worker.cancel()
        self.dismiss(None)
