"""Mongorunway's Python API paths (`mongorunway.application...`), word for word, over our one engine API.

A Mongorunway script runs with only the package name changed: `from runway_tui.application import use_cases`,
`from runway_tui.application.services import migration_service`. Nothing here has logic of its own.
"""
