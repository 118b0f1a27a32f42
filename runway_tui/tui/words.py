"""The TUI's words for what to do next: every remedy an engine message names in CLI terms ('runway-tui mark 9
--applied') becomes the key that does it here (the key in effect, after `tui.keymap`), with the same safety.

Applied where text reaches the screen: toasts, error and confirmation dialogs, the live log, the detail screen.
"""

from __future__ import annotations

from collections.abc import Mapping

from runway_tui.engine.vocabulary import rephrase, version_label
from runway_tui.tui.bindings import ACTIONS

DEFAULT_KEYS = {spec.id: spec.key_display or spec.key for spec in ACTIONS}


def key_of(binding_id: str, keymap: Mapping[str, str] | None = None) -> str:
    """The key that runs `binding_id` now: the remapped one (the first of several) or the default."""
    remapped = (keymap or {}).get(binding_id)
    return remapped.split(",")[0].strip() if remapped else DEFAULT_KEYS[binding_id]


def tui_words(text: str, keymap: Mapping[str, str] | None = None) -> str:
    """`text` with each CLI remedy replaced by the TUI key that does the same (confirmed and audited)."""

    def key(binding_id: str) -> str:
        return key_of(binding_id, keymap)

    def render(remedy_id: str, args: dict[str, str]) -> str:
        version = version_label(int(args["version"])) if args.get("version") else ""
        state = args.get("state") or ""
        mark = {"applied": f"{key('mark-applied')} (mark applied)", "pending": f"{key('mark-pending')} (mark pending)"}
        if remedy_id == "mark-either":
            return f"select {version} and press {mark['applied']} or {mark['pending']}"
        if remedy_id == "mark-or-rerun":
            return f"select {version} and press {mark[state]}, or {mark[args['other']]} to run it again"
        if remedy_id == "mark":
            return f"select {version} and press {mark[state]}"
        if remedy_id == "accept":
            return f"select {version} and press {key('accept-drift')} (accept drift)"
        if remedy_id == "allow-out-of-order":
            return "choose 'Apply out of order', which u and U offer once nothing else blocks"
        if remedy_id == "unlock-force":
            return f"press {key('unlock')} (unlock) and force the lock"
        if remedy_id == "lock-wait":
            return "set a longer timeouts.lock_wait_s for this application in the config"
        if remedy_id == "unlock":
            return f"press {key('unlock')} (unlock)"
        if remedy_id == "down-to":
            return f"{key('migrate-down-to')} (down to version) with {args['version']}"
        if remedy_id == "up-to":
            return f"{key('migrate-up-to')} (up to version) with {args['version']}"
        if remedy_id == "new":
            return f"{key('new-migration')} (new migration)"
        if remedy_id == "forget":
            return f"select {version} and press {key('forget-orphan')} (forget record)"
        raise AssertionError(remedy_id)

    return rephrase(text, render)


def app_words(app: object, text: str) -> str:
    """`tui_words` with the keymap of `app` (any object with a `tui_config`; none: the default keys)."""
    config = getattr(app, "tui_config", None)
    return tui_words(text, getattr(config, "keymap", None))
