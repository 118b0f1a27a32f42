"""Strict TUI settings: an unknown keymap id or theme is a one-line config error naming the key and line;
several are reported together, in file order, before anything starts."""

from __future__ import annotations

import re

from runway_tui.cli.main import main


def edit(project, old: str, new: str) -> None:
    text = project.config_path.read_text()
    assert old in text
    project.config_path.write_text(text.replace(old, new))


def test_unknown_keymap_ids_and_theme_are_reported_together_in_file_order(project, capsys):
    edit(project, "  theme: textual-dark\n", "  theme: nrod\n")
    edit(project, "  keymap: {}\n", "  keymap:\n    migrate-upp: ctrl+u\n    refresh: ctrl+r\n    nope: x\n")
    assert main(["--config", str(project.config_path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and "Traceback" not in "\n".join(lines)
    assert "tui.theme: unknown theme 'nrod' (did you mean 'nord'?)" in lines[0]
    assert "tui.keymap.migrate-upp: unknown binding id (did you mean 'migrate-up'?)" in lines[1]
    assert "tui.keymap.nope: unknown binding id" in lines[2]
    numbers = [int(re.search(r"runway\.yaml:(\d+): ", line).group(1)) for line in lines]
    assert numbers == sorted(numbers) and all(n > 0 for n in numbers)


def test_unknown_theme_flag_is_an_error(project, capsys):
    assert main(["--config", str(project.config_path), "--theme", "nope"]) == 2
    assert "--theme: unknown theme 'nope'" in capsys.readouterr().err
