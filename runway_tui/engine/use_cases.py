"""The seed's old path of the use cases: they live in compat/mongorunway/api.py (Mongorunway's API shape)."""

from runway_tui.compat.mongorunway.api import check, downgrade, refresh, upgrade

__all__ = ["check", "downgrade", "refresh", "upgrade"]
