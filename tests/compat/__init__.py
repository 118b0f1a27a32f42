"""Tests of the compatibility layers (runway_tui/compat)."""
