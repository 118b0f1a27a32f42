"""Matching the printed shape of values whose content is random (session ids), whatever it contains."""

from __future__ import annotations

import ast
import re

# Python prints bytes with single quotes unless they contain a single quote and no double quote.
BYTES_LITERAL = r"""b(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
SESSION_ID = re.compile(rf"session_id=Binary\(({BYTES_LITERAL}), 4\)")


def printed_session_ids(text: str) -> list[bytes]:
    """Every `session_id=Binary(b'...', 4)` printed in `text`, parsed back into its 16 bytes."""
    return [ast.literal_eval(match.group(1)) for match in SESSION_ID.finditer(text)]
