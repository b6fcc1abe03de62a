"""`tamas popup-server`: serve the agent desktop (and follow calls over AMI), or manage the
agent accounts that log in to it.

    tamas popup-server                      serve on settings.http_host:http_port
    tamas popup-server --no-follow          serve desktops only (another process follows AMI)
    tamas popup-server add-agent 101 --interface PJSIP/101 [--name ...] [--language fa]
    tamas popup-server demo-agents          agents 101-103 on the sandbox's queue members
    tamas popup-server deactivate-agent 101 the agent can no longer log in; their desktops close
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import secrets

from aiohttp import web

from customer_file.port import CustomerFile, CustomerFileError
from integrations import migrations
from integrations.customer_file.adapters import open_customer_file
from integrations.database import Database
from popup_server.agents import AgentDirectory, AgentError
from popup_server.app import make_app
from tamas.asterisk.ami import AmiClient
from tamas.bus import make_bus
from tamas.errors import CommandError
from tamas.gc_tuning import settle_after_startup
from tamas.languages import LANGUAGES
from tamas.settings import Settings

log = logging.getLogger(__name__)

DEMO_AGENTS = {
    "101": "Local/101@tamas-agents",
    "102": "Local/102@tamas-agents",
    "103": "Local/103@tamas-agents",
}
# Agent 101 of the demo is also the supervisor, campaign operator, messaging operator and case
# handler, so one login shows every page.
DEMO_ROLES = {"101": "agent,supervisor,campaign_operator,messaging_operator,case_handler"}
PASSWORD_ENV = "TAMAS_AGENT_PASSWORD"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default: settings.http_host)")
    parser.add_argument("--port", type=int, help="port (default: settings.http_port)")
    parser.add_argument(
        "--no-follow",
        action="store_true",
        help="do not follow calls over AMI (another popup-server process publishes them)",
    )
    sub = parser.add_subparsers(dest="action")
    add = sub.add_parser("add-agent", help="create or update an agent account")
    add.add_argument("number", help="the agent number they log in with")
    add.add_argument("--interface", required=True, help="their phone: PJSIP/101, Local/101@ctx")
    add.add_argument("--name", default="")
    add.add_argument("--language", default="fa", choices=LANGUAGES)
    add.add_argument(
        "--roles",
        default="agent",
        help="comma-separated: agent, supervisor, campaign_operator, messaging_operator, "
        "case_handler",
    )
    sub.add_parser("demo-agents", help="agents 101-103 on the sandbox queues' Local members")
    deactivate = sub.add_parser(
        "deactivate-agent", help="end an agent's sessions and refuse their logins"
    )
    deactivate.add_argument("number")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    database = Database(settings.effective_database_url)
    try:
        if args.action == "add-agent":
            password = os.environ.get(PASSWORD_ENV) or getpass.getpass("password: ")
            await _add(database, settings, args.number, password, args.interface, args)
            print(f"agent {args.number} saved")
            return 0
        if args.action == "deactivate-agent":
            directory = AgentDirectory(database, settings.agent_session_ttl_s)
            if not await directory.deactivate(args.number):
                raise CommandError(f"no agent {args.number}")
            # Their open desktops close at each popup server's next check of its sessions.
            print(f"agent {args.number} deactivated")
            return 0
        if args.action == "demo-agents":
            for number, interface in DEMO_AGENTS.items():
                password = secrets.token_urlsafe(9)
                args.roles = DEMO_ROLES.get(number, "agent")
                await _add(database, settings, number, password, interface, args)
                print(f"agent {number}  password {password}  phone {interface}  {args.roles}")
            return 0
        # Never migrates (several servers starting together would race): stops instead.
        await migrations.require_current(database)
        await _serve(database, settings, args)
        return 0
    finally:
        await database.dispose()


async def _add(
    database: Database,
    settings: Settings,
    number: str,
    password: str,
    interface: str,
    args: argparse.Namespace,
) -> None:
    directory = AgentDirectory(database, settings.agent_session_ttl_s)
    try:
        await directory.create_agent(
            number,
            password,
            interface,
            name=getattr(args, "name", "") or f"Agent {number}",
            language=getattr(args, "language", "fa"),
            roles=getattr(args, "roles", "agent"),
        )
    except AgentError as error:
        raise CommandError(f"{error}") from error


def _customer_file(settings: Settings, database: Database) -> CustomerFile:
    try:
        return open_customer_file(settings, database)
    except CustomerFileError as error:
        raise CommandError(str(error)) from error


async def _serve(database: Database, settings: Settings, args: argparse.Namespace) -> None:
    host = args.host or settings.http_host
    port = args.port or settings.http_port
    app = make_app(
        settings,
        database=database,
        bus=make_bus(settings.redis_url),
        customer_file=_customer_file(settings, database),
        # A process that does not follow calls only sends actions: no event stream for it.
        ami=AmiClient.from_settings(settings, name="popup", events=not args.no_follow),
        follow=not args.no_follow,
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as error:
            raise CommandError(
                f"cannot listen on {host}:{port}: {error.strerror} "
                "(another process there? change http_port or --port)"
            ) from error
        settle_after_startup()
        print(f"agent desktop on http://{host}:{port}/ (Ctrl-C stops)", flush=True)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
