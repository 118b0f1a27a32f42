"""`${VAR}` and `${VAR:-default}` in configuration values (defaults may nest; `$$` is a literal `$`)."""

from __future__ import annotations

import os
import re


class MissingVariable(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name



_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def interpolate(text: str) -> str:
    """Expand `${VAR}` and `${VAR:-default}` (defaults may nest); `$$` is a literal `$`."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            value, i = _expand_one(text, i + 2)
            out.append(value)
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _expand_one(text: str, start: int) -> tuple[str, int]:
    match = _VAR_NAME.match(text, start)
    if not match:
        snippet = text[start - 2:start + 10]
        raise ValueError(f"bad variable reference at '{snippet}': expected ${{NAME}} or ${{NAME:-default}}")
    name, i = match.group(), match.end()
    if text.startswith("}", i):
        if name not in os.environ:
            raise MissingVariable(name)
        return os.environ[name], i + 1
    if not text.startswith(":-", i):
        raise ValueError(f"bad variable reference ${{{name}...: expected '}}' or ':-default}}'")
    # Find the matching closing brace, allowing nested ${...} inside the default.
    depth, j = 1, i + 2
    while j < len(text):
        if text.startswith("${", j):
            depth += 1
            j += 2
            continue
        if text[j] == "}":
            depth -= 1
            if depth == 0:
                break
        j += 1
    else:
        raise ValueError(f"unclosed ${{{name}:-...: missing '}}'")
    value = os.environ.get(name)
    if value:
        return value, j + 1
    return interpolate(text[i + 2:j]), j + 1

