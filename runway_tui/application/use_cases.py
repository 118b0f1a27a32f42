"""`use_cases.refresh(app, verbose_exc=True)` and the others, as Mongorunway's scripts call them."""

from runway_tui.compat.mongorunway.api import check, downgrade, refresh, upgrade

__all__ = ["check", "downgrade", "refresh", "upgrade"]
