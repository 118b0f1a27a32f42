"""Modal dialogs and full-screen detail views pushed over the main screen."""
