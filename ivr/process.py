#!/usr/bin/env python3
"""The menus over process AGI, for a single small box without the FastAGI server: Asterisk
starts this script for each call, with the route and its arguments as AGI arguments:

    exten => 200,1,AGI(/opt/tamas/ivr/process.py,ivr)
    exten => 201,1,AGI(/opt/tamas/ivr/process.py,ivr,claim_status)

The routes are the FastAGI server's (`ivr.routes.IvrRoutes`) on the process-AGI channel of
`agi_scripts.process_agi` (pyst2), which offers the same methods. A process per call costs a
Python start-up and a database connection per call: fine for a few calls at once, not for a
contact centre (see bench/ivr_calls.py).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

if __package__ in (None, ""):
    # Run as a file by Asterisk: make the project's packages importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if TYPE_CHECKING:
    from agi_scripts.process_agi import ProcessAgiChannel
    from tamas.settings import Settings


async def serve(settings: Settings, channel: ProcessAgiChannel) -> int:
    from agi_scripts import process_agi
    from integrations.database import Database
    from ivr.routes import IvrRoutes

    database = Database(settings.effective_database_url)
    try:
        routes = IvrRoutes(settings, database).routes()
        # Same methods as FastAGI's AgiChannel: the routes run unchanged on either.
        return await process_agi.serve(channel, cast(dict[str, process_agi.ProcessRoute], routes))
    finally:
        await database.dispose()


def main() -> int:
    from asterisk import agi as pyst2_agi

    from agi_scripts.process_agi import HangupFilter, ProcessAgiChannel
    from tamas import logs
    from tamas.settings import load

    settings = load()
    # stderr goes to Asterisk's log: warnings only.
    logs.setup("WARNING")
    stdin = HangupFilter(sys.stdin)
    with open(os.devnull, "w") as quiet:
        agi = pyst2_agi.AGI(stdin=stdin, stdout=sys.stdout, stderr=quiet)
        return asyncio.run(serve(settings, ProcessAgiChannel(agi, stdin)))


if __name__ == "__main__":
    sys.exit(main())
