"""The Textual front end. Only `runway_tui.cli.launch` imports it, so the engine and CLI stay Textual-free."""
