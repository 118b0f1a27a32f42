"""A configuration error never shows a secret the configuration holds: not in the URI's userinfo (masked
since round one), nor where the same string is an option value of the URI, nor in another key's value,
nor in another application's errors; in the CLI (human and --json), the TUI's start and the Python API."""

from __future__ import annotations

import pytest

from runway_tui.engine.config import load_config
from runway_tui.engine.errors import ConfigError
from tests.reliability.helpers import run_inproc
from tests.support.cli import run_cli
from tests.support.project import Project

SECRET = "Sup3r-Secret-Pw-77"
CASES = {
    "option value of the URI": ('uri: "mongodb://app:{s}@127.0.0.1:1/?appName={s}&journal=maybe"', ""),
    "another key's value": ('uri: "mongodb://app:{s}@127.0.0.1:1/"',
                            ("      lock_wait_s: 5", "      lock_wait_s: {s}")),
    "a collection name": ('uri: "mongodb://app:{s}@127.0.0.1:1/"',
                          ("    migrations_collection: migrations", '    migrations_collection: "{s}."')),
    "through ${VAR}": ('uri: "mongodb://app:${{RUNWAY_TEST_SECRET}}@127.0.0.1:1/?appName={s}&w=-5"', ""),
    "another application's error": ('uri: "mongodb://app:{s}@127.0.0.1:1/"',
                                    '  other:\n    uri: "mongodb://x@127.0.0.1:1/?authSource={s}&journal=no"\n'
                                    "    database: other\n"),
}


def _configure(project: Project, case: str) -> None:
    uri_line, extra = CASES[case]
    text = project.config_path.read_text()
    lines = [line if not line.strip().startswith("uri:") else f"    {uri_line.format(s=SECRET)}"
             for line in text.splitlines()]
    text = "\n".join(lines) + "\n"
    if isinstance(extra, tuple):  # another key of the application takes the secret as its value
        assert extra[0] in text
        text = text.replace(extra[0], extra[1].format(s=SECRET))
    elif extra:  # another application
        text = text.replace("tui:\n", extra.format(s=SECRET) + "tui:\n")
    project.config_path.write_text(text)


@pytest.mark.parametrize("case", list(CASES))
def test_a_config_error_never_shows_a_known_secret(case: str, project: Project,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWAY_TEST_SECRET", SECRET)
    _configure(project, case)
    with pytest.raises(ConfigError) as raised:
        load_config(project.config_path)
    problems = raised.value.problems
    assert problems and all(SECRET not in p for p in problems), problems
    assert any("***" in p for p in problems) or case in ("another key's value", "a collection name"), problems
    for args in (("status",), ("status", "--json"), ("plan",)):
        result = run_inproc(project, *args)
        assert result.code == 2, (args, result.out, result.err)
        assert SECRET not in result.out + result.err, (args, result.out, result.err)
    tui = run_cli("--config", str(project.config_path), env={"RUNWAY_TEST_SECRET": SECRET})  # the TUI's start
    assert tui.returncode == 2 and "runway-tui:" in tui.stderr, tui.stderr
    assert SECRET not in tui.stdout + tui.stderr, tui.stderr
