"""The engine version recorded in every audit entry."""

__version__ = "0.1.0"
