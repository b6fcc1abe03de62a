"""Tamas core: settings, command line, logging and the event bus shared by every service."""

__version__ = "0.1.0"
