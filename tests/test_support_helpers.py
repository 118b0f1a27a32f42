"""The suite's own helpers: shapes of random values, waiting with a deadline, gates."""

from __future__ import annotations

import subprocess
import sys

import pytest
from bson import Binary

from tests.support import waiting
from tests.support.shapes import printed_session_ids
from tests.support.waiting import Gate, wait_until

QUOTED = [b"plain-sixteen-by", b"it's got a quote", b"both ' and \" !!!", b"\x00\xff'\\\n\t" * 2 + b"abcd"]


@pytest.mark.parametrize("raw", QUOTED)
def test_printed_session_ids_parse_back_whatever_the_bytes(raw: bytes) -> None:
    assert len(raw) == 16
    text = f"MigrationAuditlogEntry(session_id={Binary(raw, 4)!r}, transaction_name='UpgradeTransaction')"
    assert printed_session_ids(text) == [raw]


def test_wait_until_returns_the_value_and_fails_naming_what_it_waited_for() -> None:
    seen = iter([0, 0, 5])
    assert wait_until(lambda: next(seen), "the third value") == 5
    with pytest.raises(AssertionError, match=r"waiting for an applied record; last seen: \{'state': 'pending'\}"):
        wait_until(_pending, "an applied record",
                   timeout=0.05)
    assert waiting.WAITING == []
    assert waiting.INTERRUPTED[-1] == "an applied record (last seen: {'state': 'pending'})"
    waiting.INTERRUPTED.clear()


class _Pending(dict):
    """A falsy value that still shows what it holds (a record that is not there yet)."""

    def __bool__(self) -> bool:
        return False


def _pending() -> _Pending:
    return _Pending(state="pending")


def test_gate_holds_a_step_until_opened(tmp_path) -> None:
    gate = Gate(tmp_path)
    code = "def upgrade():\n" + gate.wait_code() + "    print('done')\nupgrade()\n"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        gate.wait_entered()
        assert proc.poll() is None  # held at the gate
        gate.open()
        out, _ = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert out == "done\n"
