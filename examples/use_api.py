"""The Python API on a fresh project: an empty migrations folder and an empty database.

Run it from anywhere: `python examples/use_api.py`. It copies `sample_config.yaml` into a new
temporary folder (so `scripts_dir` points at an empty folder and the embedded database starts
empty there), then runs the seed scenario. Set RUNWAY_EXAMPLE_URI to use a running server instead
of the embedded one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import runway_tui
from runway_tui import MigrationService, use_cases

SAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "sample_config.yaml"


def fresh_project() -> Path:
    """A temporary folder holding a copy of the sample config, optionally pointed at another server."""
    folder = Path(tempfile.mkdtemp(prefix="runway-api-"))
    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    uri = os.environ.get("RUNWAY_EXAMPLE_URI")
    if uri:
        text = text.replace("uri: embedded", f'uri: "{uri}"', 1)
    # A throw-away folder: its embedded database stops with the example, not after the grace period.
    text = text.replace("embedded_grace_s: 60", "embedded_grace_s: 0", 1)
    (folder / "sample_config.yaml").write_text(text, encoding="utf-8")
    return folder


def main() -> None:
    folder = fresh_project()
    os.chdir(folder)
    try:
        app = runway_tui.create_app("dev", config="sample_config.yaml", raise_on_none=True, verbose_exc=True)

        @app.listen()
        def on_app_close(event: runway_tui.ClosingEvent) -> None:
            print(f"{event.application.name!r} app successfully closed.")

        service = MigrationService(app.session)
        assert app.session.get_current_version() is None
        path = service.create_migration_file_template("my_awesome_migration")
        print(f"created {path.relative_to(folder)}")
        assert len(app.session.get_all_migration_models()) == 0
        use_cases.refresh(app, verbose_exc=True)
        assert len(app.session.get_all_migration_models()) == 1
        app.upgrade_once()
        assert app.session.uses_auditlog
        assert app.session.get_current_version() == 1
        for entry in app.session.history():
            print(entry)
        app.close()
    finally:
        os.chdir(Path(__file__).resolve().parent)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
