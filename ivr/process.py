#!/usr/bin/env python3
"""The menus over process AGI, for a single small box without the FastAGI server: Asterisk
starts this script for each call, with the route and its arguments as AGI arguments:

    exten => 200,1,AGI(/opt/tamas/ivr/process.py,ivr)
    exten => 201,1,AGI(/opt/tamas/ivr/process.py,ivr,claim_status)

The routes are the FastAGI server's (`ivr.routes.IvrRoutes`), served by process AGI's one
entry (`agi_scripts.process_agi.main`, pyst2): a route runs unchanged on either transport.
A process per call costs a Python start-up and a database connection per call: fine for a few
calls at once, not for a contact centre (see bench/ivr_calls.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    # Run as a file by Asterisk: make the project's packages importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agi_scripts import process_agi
from integrations.database import Database
from ivr.routes import IvrRoutes
from tamas import logs
from tamas.settings import load


def main() -> int:
    settings = load()
    # stderr goes to Asterisk's log: warnings only.
    logs.setup("WARNING")
    database = Database(settings.effective_database_url)
    routes = IvrRoutes(settings, database).routes()
    return process_agi.main(routes, after=database.dispose)


if __name__ == "__main__":
    sys.exit(main())
