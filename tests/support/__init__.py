"""Helpers shared by the test suite (daemon processes, CLI runner)."""
