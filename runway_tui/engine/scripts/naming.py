"""How a file name gives a migration's version, and how a typed name becomes a file name.

The project's `filename_strategy` says what a name must look like: "numerical" (`001_name.py`, the digits
are the version) or "unix_timestamp" (`1796172596_name.py`, the version is the file's `version` variable);
`use_filename_strategy: false` accepts any name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ASCII digits only: `\d` would take "٠٠١_x.py" (Arabic-Indic digits) as version 1.
FILE_NAME = re.compile(r"^(?P<digits>[0-9]{3,})[_-](?P<slug>[A-Za-z0-9_-]+)\.py$")
UNIX_FILE_NAME = re.compile(r"^[0-9]{10,}")  # Mongorunway's UnixFilenameStrategy: a timestamp prefix
# Mongorunway's NumericalFilenameStrategy checks only the leading digits ("001_add users.py" is valid there).
MONGORUNWAY_FILE_NAME = re.compile(r"^(?P<digits>[0-9]{3,})(?![0-9]).*\.py$")


@dataclass(frozen=True)
class Naming:
    """How file names give versions: the project's `filename_strategy` and `use_filename_strategy`."""

    strategy: str = "numerical"  # or "unix_timestamp"
    strict: bool = True
    mongorunway: bool = False  # a Mongorunway project: its looser names ("001_add users.py") are accepted

    @property
    def key(self) -> str:
        return (self.strategy + ("-mongorunway" if self.mongorunway else "")) if self.strict else "any"

    @property
    def versions_from_names(self) -> bool:
        return self.strict and self.strategy == "numerical"

    def check(self, file_name: str) -> tuple[int | None, str | None]:
        """The version the name gives (None: the file's own `version` decides), or why the name is refused."""
        if not self.strict:
            return None, None
        if self.strategy == "unix_timestamp":
            if UNIX_FILE_NAME.match(file_name):
                return None, None
            return None, ("file name must start with a Unix timestamp of at least 10 digits, e.g. "
                          "1796172596_name.py (filename_strategy: unix_timestamp)")
        match = FILE_NAME.match(file_name) or (MONGORUNWAY_FILE_NAME.match(file_name) if self.mongorunway else None)
        if not match:
            return None, ("file name must be NNN_name.py (version of at least 3 digits, then letters, digits, "
                          "_ or -)")
        return int(match.group("digits")), None


def slugify(name: str) -> str:
    """'Add users: email index!' -> 'add_users_email_index'; 'Café' -> 'cafe' (accents dropped, ß -> ss)."""
    return re.sub(r"[^a-z0-9]+", "_", ascii_letters(name)[0].strip().lower()).strip("_")[:80]


def name_note(name: str) -> str | None:
    """What the file name keeps of a name with letters beyond ASCII (None: it keeps them all), for the user."""
    _text, changed, dropped = ascii_letters(name)
    slug = slugify(name)
    if not slug or not (changed or dropped):
        return None
    parts = [f"{', '.join(changed)}" if changed else "",
             f"{''.join(dropped)} dropped: file names take ASCII letters and digits" if dropped else ""]
    return f"the file name keeps {slug!r} ({'; '.join(p for p in parts if p)}); the description keeps the name as typed"


# Latin letters without a Unicode decomposition to ASCII (é, ç, ñ... decompose: NFKD does those).
_LATIN = {"ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L",
          "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ı": "i", "ħ": "h", "Ħ": "H"}


def ascii_letters(name: str) -> tuple[str, list[str], list[str]]:
    """`name` in ASCII, the letters written differently ("é -> e"), and the letters or digits dropped (用户)."""
    import unicodedata

    out: list[str] = []
    changed: list[str] = []
    dropped: list[str] = []
    for char in name:
        if char.isascii():
            out.append(char)
            continue
        ascii_form = _LATIN.get(char) or "".join(c for c in unicodedata.normalize("NFKD", char) if c.isascii())
        meaningful = unicodedata.category(char)[0] in "LN"  # a letter or a digit, not a dash or a symbol
        if ascii_form.strip():
            out.append(ascii_form)
            if meaningful and f"{char} -> {ascii_form.lower()}" not in changed:
                changed.append(f"{char} -> {ascii_form.lower()}")
        else:
            out.append(" ")
            if meaningful and char not in dropped:
                dropped.append(char)
    return "".join(out), changed, dropped
