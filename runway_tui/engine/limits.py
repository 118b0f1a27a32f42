"""Bounds every layer shares, defined once: what the server can store decides what a user may type."""

from __future__ import annotations

# Versions, counts and limits go to the server as BSON 64-bit signed integers: the config reader, the script
# analysis and the CLI's argument parser refuse anything beyond this, each in its own words.
BSON_MAX_INT = 2**63 - 1
BSON_MIN_INT = -(2**63)
