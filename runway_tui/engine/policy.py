"""Who may write: one rule for the CLI, the TUI and the Python API.

`read_only: true` in the config is absolute (no flag lifts it); `production: true` is read-only
unless the caller opts in with `--write`; `--read-only` always wins. Asking for both flags is a
usage error rather than a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from runway_tui.engine.errors import UsageError


class AccessConfig(Protocol):
    name: str
    read_only: bool
    production: bool


PRODUCTION_WRITE = "production application opened with --write"


@dataclass(frozen=True)
class Access:
    """The decision, with the reason a refusal will quote (so the advice matches what the user did), and
    which rule decided it (`config`, `flag`, `production`, `writes`): a front end words how to lift it."""

    read_only: bool
    reason: str
    rule: str = ""

    @property
    def production_write(self) -> bool:
        """A production application opened for writing (`--write`): recorded with each audit entry of a run."""
        return not self.read_only and self.reason == PRODUCTION_WRITE


def resolve_access(config: AccessConfig, *, read_only_flag: bool = False, write_flag: bool = False) -> Access:
    """Decide read-only or write for application `config` given the front end's flags."""
    if read_only_flag and write_flag:
        raise UsageError("give only one of --read-only and --write")
    if config.read_only:
        if write_flag:
            raise UsageError(f"application {config.name!r} is configured read_only: true; --write cannot "
                             "override it (set read_only: false in the config to allow writes)")
        return Access(True, "read_only: true in the config; set read_only: false there to allow writes", "config")
    if read_only_flag:
        return Access(True, "--read-only was given; run without it to allow writes", "flag")
    if config.production:
        if write_flag:
            return Access(False, PRODUCTION_WRITE, "production")
        return Access(True, "production application: read-only unless --write is given", "production")
    return Access(False, "writes allowed", "writes")


def access_implied(config: AccessConfig, read_only: bool) -> Access:
    """The decision for a caller that knows only the outcome (`read_only`), not the flags: the rule the config
    and that outcome imply (so a refusal still says how to lift it)."""
    flag = read_only and not (config.read_only or config.production)
    try:
        return resolve_access(config, read_only_flag=flag, write_flag=not read_only and config.production)
    except UsageError:
        return Access(read_only, "read-only" if read_only else "writes allowed")
