"""`tamas outbox queue|rates|failures|retry|cancel`: what the messaging operators' page shows
and does, for a terminal or a script (`--json`)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta

from integrations import migrations
from integrations.database import Database
from integrations.messaging.operations import OutboxOperations
from tamas.errors import CommandError
from tamas.settings import Settings


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("queue", help="messages by kind and status").add_argument(
        "--json", action="store_true"
    )
    rates = sub.add_parser("rates", help="delivery rates per provider, kind and subject")
    rates.add_argument("--days", type=int, default=7)
    rates.add_argument("--json", action="store_true")
    failures = sub.add_parser("failures", help="the latest messages that went wrong")
    failures.add_argument("--limit", type=int, default=20)
    failures.add_argument("--json", action="store_true")
    sub.add_parser("retry", help="send again a message the provider refused").add_argument(
        "message_id", type=int
    )
    sub.add_parser("cancel", help="never send a message not yet sent").add_argument(
        "message_id", type=int
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    database = Database(settings.effective_database_url)
    try:
        await migrations.require_current(database)
        operations = OutboxOperations(database)
        if args.action == "queue":
            queue = await operations.queue()
            if args.json:
                print(json.dumps(queue))
            for kind, statuses in sorted(queue.items()):
                if not args.json:
                    counts = ", ".join(f"{s} {n}" for s, n in sorted(statuses.items()))
                    print(f"{kind}: {counts}")
        elif args.action == "rates":
            since = datetime.now(UTC) - timedelta(days=args.days)
            rates = [rate.as_dict() for rate in await operations.rates(since)]
            if args.json:
                print(json.dumps(rates))
            for rate in [] if args.json else rates:
                shown = "-" if rate["rate"] is None else f"{rate['rate']:.1%}"
                print(
                    f"{rate['provider']} {rate['kind']} {rate['subject']}: sent {rate['sent']}, "
                    f"delivered {rate['delivered']}, undelivered {rate['undelivered']}, "
                    f"expired {rate['expired']}, awaiting {rate['awaiting']}: {shown}"
                )
        elif args.action == "failures":
            failures = await operations.failures(args.limit)
            if args.json:
                print(json.dumps(failures, ensure_ascii=False))
            for failure in [] if args.json else failures:
                print(
                    f"#{failure['id']} {failure['kind']} to {failure['to']} "
                    f"({failure['subject']}): {failure['status']} {failure['why'] or ''}"
                )
        elif args.action in ("retry", "cancel"):
            change = operations.retry if args.action == "retry" else operations.cancel
            if not await change(args.message_id):
                raise CommandError(
                    f"message {args.message_id} cannot be "
                    f"{'retried' if args.action == 'retry' else 'cancelled'} in its state "
                    "(only a message the provider refused is retried; only one not yet on "
                    "its way is cancelled)"
                )
            print(f"message {args.message_id}: {args.action} done")
    finally:
        await database.dispose()
    return 0
