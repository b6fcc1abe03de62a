"""`tamas campaign start|pause|resume|stop|worker`: a campaign's state changes and the dialer
worker that places its calls. The web console calls the same functions."""

from __future__ import annotations

import argparse

from tamas.errors import CommandError
from tamas.settings import Settings

ACTIONS: tuple[str, ...] = ()


def configure(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds this module's actions to `tamas campaign`."""


async def run(args: argparse.Namespace, settings: Settings) -> int:
    raise CommandError(f"no action {args.action!r}")
