"""SMS throughput against the local provider with a rate limit of N/s, held exactly.

Queues messages in the outbox (SQLite by default, `--postgres` for PostgreSQL), drains them
with two senders that share the provider's sending rate through Redis (as two `tamas messages`
processes would), through the local iran_rest provider (bench/local_sms_gateway.py), then
polls the delivery reports. Prints what was asked, what was achieved (and its ratio to the
asked rate), the most requests the provider saw in any second (calendar seconds and any
sliding second: must never exceed N), and the share of delivery reports matched to their
messages (goal >= 99.9%). The baseline, measured in the same run, is the same senders without
a rate limit: what the machine can do. Default 300 messages at 50/s (about 6 s); `--full` for
5,000 at 100/s.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select

from bench.local_sms_gateway import API_KEY, LocalSmsGateway
from integrations import migrations
from integrations.database import Database
from integrations.messaging import reports, sms_profiles
from integrations.messaging.gateway import OutboxSender
from integrations.messaging.outbox import OutboundMessage, Outbox, OutboxLimits
from integrations.messaging.rates import SendingRate, most_in_any_second
from integrations.messaging.sms_http import ProfileGateway
from tamas.limits import RedisFailures

GOAL_MATCHED = 0.999
SENDERS = 2


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rate", type=int, default=50, help="the provider's limit, per second")
    parser.add_argument("--full", action="store_true", help="5,000 messages at 100/s")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="'' for none")
    parser.add_argument(
        "--postgres", default="", help="a PostgreSQL server URL (default: SQLite in a temp dir)"
    )


def most_in_a_calendar_second(moments: list[float]) -> int:
    bins: dict[int, int] = {}
    for moment in moments:
        bins[int(moment)] = bins.get(int(moment), 0) + 1
    return max(bins.values(), default=0)


async def _database(args: argparse.Namespace, folder: Path) -> Database:
    if args.postgres:
        import asyncpg

        name = f"tamas_bench_sms_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(f"{args.postgres}/postgres")
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        url = f"postgresql+asyncpg://{args.postgres.split('://', 1)[1]}/{name}"
    else:
        url = f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"
    await migrations.upgrade(url)
    return Database(url)


async def _drop(args: argparse.Namespace, database: Database) -> None:
    """The PostgreSQL database this run made, dropped (SQLite's goes with its folder)."""
    if not args.postgres:
        return
    import asyncpg

    admin = await asyncpg.connect(f"{args.postgres}/postgres")
    try:
        name = database.url.rsplit("/", 1)[1]
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _queue(database: Database, count: int, tag: str) -> None:
    outbox = Outbox(
        database,
        OutboxLimits(per_recipient_per_day=10**6, per_kind_per_day={"sms": 10**7}),
    )
    for n in range(count):
        body = f"{tag} {n}: قسط بیمه‌نامه شما سررسید شده است."
        await outbox.put("sms", to=f"+98912{n % 10_000_000:07d}", subject="bench", body=body)


async def _drain(
    database: Database, gateway: LocalSmsGateway, rate_per_s: int | None, redis_url: str
) -> float:
    """Send every pending message with SENDERS senders; seconds taken."""
    profile = sms_profiles.load()["iran_rest"]
    provider = f"bench-{uuid.uuid4().hex[:8]}"  # a window of its own in Redis
    senders = []
    # Without Redis the senders share one window in this process (as one process's would).
    shared = SendingRate(provider, rate_per_s) if rate_per_s and not redis_url else None
    for _ in range(SENDERS):
        rate = shared
        if rate_per_s is not None and redis_url:
            # A window each (as separate processes have), on one Redis: one shared window.
            rate = SendingRate(provider, rate_per_s, redis_url)
        adapter = ProfileGateway(profile, gateway.url, API_KEY, sender="3000", rate=rate)
        senders.append(OutboxSender(database, adapter, batch=50))
    started = time.perf_counter()

    async def drain(sender: OutboxSender) -> None:
        while (await sender.send_pending()).sent:
            pass

    try:
        await asyncio.gather(*(drain(sender) for sender in senders))
    finally:
        for sender in senders:
            await sender.close()
    return time.perf_counter() - started


async def _match_reports(database: Database, gateway: LocalSmsGateway) -> int:
    gateway.deliver_all()
    profile = sms_profiles.load()["iran_rest"]
    adapter = ProfileGateway(profile, gateway.url, API_KEY)
    try:
        while await reports.poll(Outbox(database), adapter):
            pass
    finally:
        await adapter.close()
    async with database.session() as session:
        return int(
            await session.scalar(
                select(func.count()).where(OutboundMessage.delivery_status == "delivered")
            )
            or 0
        )


async def run(args: argparse.Namespace) -> int:
    if args.full:
        args.messages, args.rate = 5000, 100
    redis_url = args.redis
    if redis_url:
        probe = RedisFailures(redis_url, prefix="tamas:bench-probe:")
        try:
            await probe._redis.ping()
        except Exception:
            print("Redis unreachable: the senders share one window in this process")
            redis_url = ""
        finally:
            await probe.close()
    with tempfile.TemporaryDirectory() as folder:
        database = await _database(args, Path(folder))
        gateway = await LocalSmsGateway().start()
        try:
            await _queue(database, args.messages, "baseline")
            baseline_s = await _drain(database, gateway, None, redis_url)
            baseline = args.messages / baseline_s
            gateway.requests_at.clear()
            await _queue(database, args.messages, "limited")
            limited_s = await _drain(database, gateway, args.rate, redis_url)
            moments = list(gateway.requests_at)
            matched = await _match_reports(database, gateway)
        finally:
            await gateway.stop()
            await database.dispose()
            await _drop(args, database)
    # Over the seconds the run covered: from the first request to one second past the last.
    achieved = len(moments) / (max(moments) - min(moments) + 1.0) if moments else 0.0
    calendar, sliding = most_in_a_calendar_second(moments), most_in_any_second(moments)
    total = 2 * args.messages
    share = matched / total
    print(f"messages: {args.messages} limited (+{args.messages} baseline), {SENDERS} senders")
    print(f"baseline (no limit): {baseline:.0f}/s")
    print(f"asked: {args.rate}/s; achieved: {achieved:.1f}/s ({achieved / args.rate:.3f}x asked)")
    print(f"most in any second: {calendar} (calendar), {sliding} (sliding); limit {args.rate}")
    print(f"delivery reports matched: {matched}/{total} ({share:.2%}; goal >= {GOAL_MATCHED:.1%})")
    print(f"limited run took {limited_s:.1f} s")
    held = sliding <= args.rate and calendar <= args.rate
    print("limit held" if held else "LIMIT EXCEEDED")
    return 0 if held and share >= GOAL_MATCHED else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench sms_throughput")
    configure(parser)
    return asyncio.run(run(parser.parse_args(argv)))
