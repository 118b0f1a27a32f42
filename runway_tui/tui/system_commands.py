"""The palette's system commands, in this app's terms: `Keys` is our `?` list (of the screen in front),
`Quit` asks first while a step runs (as `q` does), and `Screenshot` saves where its help says and then says
where it saved, or why it could not (Textual's own saves to ~/Downloads and says nothing when that fails)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.screen import Screen

if TYPE_CHECKING:
    from runway_tui.tui import flows
from runway_tui.tui.host import Host


def screenshot_folder() -> Path:
    """~/Downloads when there is one, else the folder runway-tui was started in."""
    downloads = Path.home() / "Downloads"
    return downloads if downloads.is_dir() else Path.cwd()


def save_screenshot(app: Host, folder: Path | None = None) -> Path | None:
    folder = folder or screenshot_folder()
    name = f"runway-{app.app_config.name}-{app.clock():%Y%m%d-%H%M%S}.svg"
    try:
        path = Path(app.save_screenshot(name, str(folder)))
    except OSError as exc:
        app.notify(f"Screenshot not saved: cannot write {folder / name} ({exc.strerror or exc})", severity="error",
                   timeout=8, markup=False)
        return None
    app.notify(f"Screenshot saved to {path}", timeout=8, markup=False)
    return path


def system_commands(app: Host, screen: Screen[object]) -> Iterator[SystemCommand]:
    yield SystemCommand("Theme", "Change the current theme", app.action_change_theme)
    yield SystemCommand("Keys", "The keys of this screen (?)", app.show_keys)
    yield SystemCommand("Quit", "Quit (asks first while a step is running)", lambda: flows.request_quit(app))
    yield SystemCommand("Screenshot", f"Save an SVG of the screen in {screenshot_folder()}",
                        lambda: app.set_timer(0.1, lambda: save_screenshot(app)))
