"""The explorer's config keys (`tui.redact_fields`, `inspect_*`, `schema_sample_size`, `slow_op_threshold_s`)
go through the strict parser: typed, checked, one line naming file, line and key."""

from __future__ import annotations

import pytest

from runway_tui.engine.config import TuiConfig, load_config
from runway_tui.engine.inspect import InspectSettings
from tests.engine.test_config import BASE, error_of, write


def test_defaults() -> None:
    settings = InspectSettings.from_tui(TuiConfig())
    assert settings == InspectSettings(max_time_ms=5000, read_preference="primaryPreferred", sample_size=1000,
                                       slow_op_s=1.0, redact_fields=())


def test_values_are_read(tmp_path) -> None:
    path = write(tmp_path, BASE + """\
tui:
  redact_fields: [password, "*.ssn", email]
  inspect_read_preference: secondaryPreferred
  inspect_max_time_ms: 800
  schema_sample_size: 200
  slow_op_threshold_s: 0.5
""")
    settings = InspectSettings.from_tui(load_config(path).tui)
    assert settings.redact_fields == ("password", "*.ssn", "email")
    assert (settings.read_preference, settings.max_time_ms, settings.sample_size, settings.slow_op_s) == (
        "secondaryPreferred", 800, 200, 0.5)


@pytest.mark.parametrize("line, expected", [
    ("  inspect_read_preference: secondary_preferred",
     ":4: tui.inspect_read_preference: 'secondary_preferred' is not a read preference (did you mean "),
    ("  redact_fields: password", ":4: tui.redact_fields: expected a list of strings"),
    ("  redact_fields: [password, ['nested']]", ":4: tui.redact_fields[1]: expected a string"),
    ('  redact_fields: ["  "]', ":4: tui.redact_fields: patterns must not be empty"),
    ("  inspect_max_time_ms: 0", ":4: tui.inspect_max_time_ms: must be a positive number"),
    ("  inspect_max_time_ms: soon", ":4: tui.inspect_max_time_ms: expected a whole number"),
    ("  schema_sample_size: -5", ":4: tui.schema_sample_size: must be a positive number"),
    ("  slow_op_threshold_s: 0", ":4: tui.slow_op_threshold_s: must be a positive number"),
])
def test_bad_values_are_one_line(tmp_path, line: str, expected: str) -> None:
    text = BASE.replace("applications:", "tui:\n" + line + "\napplications:", 1)
    message = error_of(write(tmp_path, text))
    assert expected in message, message
