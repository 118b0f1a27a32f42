"""`runway_tui.application.services`: Mongorunway's services module path (see runway_tui/application)."""
