"""`tamas agi`: the FastAGI server with every route Tamas serves.

The one place the route table is composed: the transport (agi_scripts/) knows no route and
the IVR (ivr/) knows no server. A new route is added to `routes()` below.
"""

from __future__ import annotations

import argparse

from agi_scripts.channel import Route
from agi_scripts.fastagi import build_server
from dialer.call_route import CampaignCallRoute
from integrations import migrations
from integrations.database import Database
from interactions.records import InteractionRecords
from ivr.routes import IvrRoutes
from ivr.skeleton import skeleton_route
from tamas.errors import CommandError
from tamas.gc_tuning import settle_after_startup
from tamas.settings import Settings


def routes(settings: Settings, database: Database) -> dict[str, Route]:
    """The route table `tamas agi` serves: the skeleton (extension 100), the IVR's and the
    campaign calls'."""
    return {
        "skeleton": skeleton_route(InteractionRecords(database), settings.default_region),
        **IvrRoutes(settings, database).routes(),
        **CampaignCallRoute(settings, database).routes(),
    }


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="listen address (default: setting fastagi_host)")
    parser.add_argument("--port", type=int, help="listen port (default: setting fastagi_port)")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    database = Database(settings.effective_database_url)
    try:
        # Never migrates (several `tamas agi` starting together would race): stops instead.
        await migrations.require_current(database)
        server = build_server(settings, routes(settings, database), args.host, args.port)
        try:
            await server.start()
        except OSError as error:
            raise CommandError(
                f"cannot listen on {server.host}:{server.port} ({error.strerror}); is another "
                "`tamas agi` running? Choose another port with --port or fastagi_port"
            ) from error
        settle_after_startup()
        names = ", ".join(sorted(server.routes))
        print(f"tamas agi: serving {names} on {server.host}:{server.port}")
        try:
            await server.serve_forever()
        finally:
            await server.close()
    finally:
        await database.dispose()
    return 0
