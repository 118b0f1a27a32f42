"""Compatibility layers with the tools runway-tui descends from; the engine calls into them at few, named points."""
