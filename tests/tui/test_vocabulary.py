"""One vocabulary: no TUI text tells the user to type a CLI command (every remedy names the TUI key that does
it, the key in effect after `tui.keymap`); versions and audit actions are named the same in CLI and TUI."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from runway_tui.cli.commands import _v
from runway_tui.engine.config import load_config
from runway_tui.engine.errors import StepFailedError
from runway_tui.engine.vocabulary import ACTION_LABELS, REMEDIES, remedy
from runway_tui.tui.format import action_name, version_text
from runway_tui.tui.screens.confirm import ConfirmScreen
from runway_tui.tui.screens.error import ErrorScreen
from runway_tui.tui.words import tui_words
from tests.support.waiting import wait_until_async
from tests.tui.conftest import FAILING, engine_for, settle, write_standard
from tests.tui.helpers import notifications
from tests.tui.test_app import SIZE, log_text

PACKAGE = Path(__file__).resolve().parents[2] / "runway_tui"
# A CLI command or one of its flags (the launch flags --write, --read-only, --theme, --config are the TUI's own).
CLI_NAME = re.compile(r"runway-tui\s+(up|down|mark|accept|unlock|new|status|plan|check|audit|refresh|forget|baseline)\b"
                      r"|--(allow-out-of-order|ignore-drift|force|to|steps|all|applied|pending)\b"
                      r"|'(up|down|mark|accept|unlock)\s+(--|\d)")


def strings_of(path: Path) -> list[tuple[int, str]]:
    """Every string literal of a module (f-string parts too), docstrings and comments left out."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_no_tui_text_names_a_cli_command():
    found = [f"{path.relative_to(PACKAGE)}:{line}: {text!r}" for path in sorted((PACKAGE / "tui").rglob("*.py"))
             for line, text in strings_of(path) if CLI_NAME.search(text)]
    assert found == []


def test_engine_messages_name_cli_remedies_only_through_the_vocabulary():
    """So the TUI can say each in its own words: a CLI phrase typed anywhere else in the engine would reach
    the TUI as is. Allowed: the request-argument checks of the planner (the TUI never sends those)."""
    allowed = {"give only one of --steps, --to and --all", "--steps must be 1 or more, got "}
    found = [f"{path.relative_to(PACKAGE)}:{line}: {text!r}" for path in sorted((PACKAGE / "engine").glob("*.py"))
             if path.name != "vocabulary.py"
             for line, text in strings_of(path) if CLI_NAME.search(text) and text not in allowed]
    assert found == []


def test_every_remedy_becomes_the_tui_key_in_effect():
    for item in REMEDIES:
        text = tui_words(f"do this: {remedy(item.id, 9, 'applied', 'pending')}.")
        assert not CLI_NAME.search(text) and "runway-tui" not in text, (item.id, text)
    assert tui_words(remedy("accept", 2)) == "select 002 and press A (accept drift)"
    assert tui_words(remedy("mark-either", 9)) == "select 009 and press M (mark applied) or P (mark pending)"
    remapped = tui_words(remedy("accept", 2), {"accept-drift": "ctrl+a,f2"})
    assert remapped == "select 002 and press ctrl+a (accept drift)"


def test_versions_and_audit_actions_are_named_the_same_in_cli_and_tui():
    for version in (0, 9, 42, 1796172596):
        assert _v(version) == version_text(version)
    assert _v(None) == "none"

    class Entry:
        def __init__(self, name: str) -> None:
            self.transaction_name = name

    from runway_tui.cli import commands

    source = Path(commands.__file__).read_text()
    assert "action_label(e.transaction_name)" in source  # the CLI's audit table uses the same labels
    for stored, label in ACTION_LABELS.items():
        assert action_name(Entry(stored)) == label


async def test_a_refused_run_names_the_tui_keys_in_its_dialog_log_and_toasts(project, tui_app):
    """Drift and a failed step block `d` (which reverts the edited 001): the dialog, the live log and the toasts
    say which key fixes each."""
    write_standard(project, 1)
    project.write_migration(2, "always_fails", FAILING.format(v=2))
    with engine_for(load_config(project.config_path).app(project.app)) as engine:
        engine.upgrade(steps=1)
        with pytest.raises(StepFailedError):
            engine.upgrade(steps=1)
    path = project.scripts_dir / "001_create_things.py"
    path.write_text(path.read_text() + "# edited after it was applied\n")
    app = tui_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await wait_until_async(lambda: isinstance(app.screen, ErrorScreen | ConfirmScreen), what="the refusal")
        screen = app.screen
        shown = screen.body_text() if isinstance(screen, ConfirmScreen) else screen.shown_text
        everything = "\n".join([shown, log_text(app), notifications(app)])
        assert "select 001 and press A (accept drift)" in shown, shown
        assert "select 002 and press M (mark applied) or P (mark pending)" in shown, shown
        assert not CLI_NAME.search(everything) and "runway-tui" not in everything, everything

