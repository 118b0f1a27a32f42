"""The keys that write, on every screen that has them (the main screen, a migration's detail): read-only mode
hides them, an operation in progress or a lost server greys them, and pressing one that cannot run says why
in a toast, naming the rule that makes the application read-only and how to lift it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from textual import events
from textual.screen import Screen

from runway_tui.tui.bindings import FILE_ACTIONS, MUTATING_ACTIONS

if TYPE_CHECKING:
    from runway_tui.tui.host import Host
    from runway_tui.tui.state import UiState

READ_ONLY_SAFE = frozenset({"refresh", "plan"})  # reads that stay available (refresh only reloads in read-only)


def read_only_rule(app: Any) -> str:
    """Which rule makes `app` read-only, and how to lift it (from the engine's decision, `engine/policy.py`)."""
    access, config = app.access, app.app_config
    if access.rule == "config":
        return (f"read_only: true is set for {config.name} in {config.config_path.name}; only the config lifts it "
                "(set read_only: false there, then reopen)")
    if access.rule == "flag":
        return "runway-tui was opened with --read-only; reopen it without --read-only to write"
    if access.rule == "production":
        return (f"{config.name} is a production application; reopen runway-tui with --write to write (each "
                "write then asks you to type the database name)")
    return access.reason


def read_only_refusal(app: Any, files: bool = False) -> str:
    what = "files are not edited in this mode" if files else "this would write to the database"
    return f"read-only: {what} — {read_only_rule(app)}"


class WriteGuard(Screen[Any]):
    """The base of a screen with writing keys: `MUTATING`/`FILES` name its writing actions (by action name)."""

    MUTATING: frozenset[str] = MUTATING_ACTIONS
    FILES: frozenset[str] = FILE_ACTIONS

    @property
    def runway(self) -> Host:
        return cast("Host", self.app)  # the one app these screens run in (tui/app.py satisfies Host)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only hides writes and editing (False); busy or disconnected greys writes (None), as the keys
        show the state (`keys_state`: an operation shows as busy once it lasts; its flow refuses before)."""
        if self.refusal(action, self.runway.keys_state) is None:
            return True
        return False if self._hidden(action) else None

    def _hidden(self, action: str) -> bool:
        return self.runway.read_only and (action in self.MUTATING or action in self.FILES)

    def refusal(self, action: str, state: UiState | None = None) -> str | None:
        """Why `action` cannot run now (what the toast says), or None; in `state` (default: the app's)."""
        app = self.runway
        state = state or app.state
        if self._hidden(action):
            return read_only_refusal(app, files=action in self.FILES)
        if action in self.MUTATING:
            return state.write_refusal(app.engine is not None)
        if action in READ_ONLY_SAFE and state.busy is not None:
            return f"busy: {state.busy.label}"
        return None

    def on_key(self, event: events.Key) -> None:
        """A key whose action is hidden or greyed reaches here unhandled: say why instead of nothing."""
        for binding in self._bindings.key_to_bindings.get(event.key, []):
            reason = self.refusal(binding.action.split("(")[0])
            if reason:
                event.stop()
                self.notify(reason, severity="warning", timeout=6, markup=False)
                return
