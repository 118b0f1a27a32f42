"""Remedies read well in both front ends (issue 18): an engine message introduces each remedy after a colon, never
inside parentheses or after "with"/"use", so the TUI's words ("select 004 and press A (accept drift)") never
make "accept it with select 004 and press A" or doubled parentheses."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from runway_tui.engine.vocabulary import REMEDIES, remedy
from runway_tui.tui.words import tui_words

ENGINE = Path(__file__).resolve().parents[2] / "runway_tui" / "engine"
# Engine texts that name what to do, as the planner, the runner and the lock say them.
BAD_TUI = re.compile(r"\bwith select\b|\buse select\b|\bwith press\b|\(\(|\)\)|\) \(|\bwith [A-Z] \(|\buse [A-Z] \(")


def remedy_calls(path: Path) -> list[tuple[int, str]]:
    """(line, the literal text just before it) for every `remedy(...)` placed in an f-string."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.JoinedStr):
            continue
        for index, value in enumerate(node.values):
            if isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Call) \
                    and getattr(value.value.func, "id", None) == "remedy":
                before = node.values[index - 1] if index else None
                text = before.value if isinstance(before, ast.Constant) else ""
                found.append((node.lineno, str(text)))
    return found


def test_every_remedy_in_an_engine_message_follows_a_colon():
    calls = [(path.name, line, before) for path in sorted(ENGINE.glob("*.py")) if path.name != "vocabulary.py"
             for line, before in remedy_calls(path)]
    assert calls, "the scan found no remedy at all"
    badly = [f"{name}:{line}: ...{before[-30:]!r}{{remedy}}" for name, line, before in calls
             if not before.endswith(": ")]
    assert badly == []


def test_no_remedy_in_tui_words_makes_doubled_parentheses():
    for item in REMEDIES:
        text = tui_words(f"the engine says: {remedy(item.id, 9, 'applied', 'pending')}.")
        assert not BAD_TUI.search(text), (item.id, text)


def test_planner_and_runner_advice_reads_well_in_the_tui():
    samples = [
        f"001_x (version 1) was changed after it was applied; restore the file, or accept the edit: "
        f"{remedy('accept', 1)}",
        f"002_x is failed; check the database, then resolve it: {remedy('mark-either', 2)}",
        f"it is not run again: check the data, then settle it: {remedy('mark-or-rerun', 9, 'applied', 'pending')}",
    ]
    for text in samples:
        words = tui_words(text)
        assert not BAD_TUI.search(words), words
    assert tui_words(remedy("mark-or-rerun", 9, "applied", "pending")) == \
        "select 009 and press M (mark applied), or P (mark pending) to run it again"
