"""Errors every command shares. Here, not in the CLI module, so that the modules defining
commands (and the libraries they use) never import the command line itself."""

from __future__ import annotations


class CommandError(Exception):
    """A command cannot go on; the message says what is wrong and how to fix it."""
