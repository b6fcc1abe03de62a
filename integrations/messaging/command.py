"""`tamas messages send`: drain the outbox's pending SMS through the configured gateway
(settings sms_gateway_url and sms_gateway_token), once or every few seconds."""

from __future__ import annotations

import argparse

from integrations.database import Database
from integrations.messaging.gateway import HttpSmsGateway, OutboxSender
from tamas.settings import Settings


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    send = sub.add_parser("send", help="send pending SMS through the gateway")
    send.add_argument("--once", action="store_true", help="one round, then exit")
    send.add_argument("--interval", type=float, default=5.0, help="seconds between rounds")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from tamas.cli import CommandError

    if not settings.sms_gateway_url:
        raise CommandError(
            "no SMS gateway: set sms_gateway_url (and sms_gateway_token) in tamas.toml or as "
            "TAMAS_SMS_GATEWAY_URL / TAMAS_SMS_GATEWAY_TOKEN"
        )
    database = Database(settings.effective_database_url)
    gateway = HttpSmsGateway(settings.sms_gateway_url, settings.sms_gateway_token)
    sender = OutboxSender(database, gateway)
    try:
        if args.once:
            result = await sender.send_pending()
            print(f"sent {result.sent}, failed {result.failed}, left for later {result.deferred}")
        else:
            await sender.run(args.interval)
    finally:
        await gateway.close()
        await database.dispose()
    return 0
