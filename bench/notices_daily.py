"""Due-date notices for a whole customer file: one installment falling due for every customer,
found by the daily run, rendered in each customer's language and queued in the outbox with a
notice row and an interaction record each, on PostgreSQL.

Times `messaging.daily.daily_run` (pages of 5,000: a few statements per page) beside the
notice-at-a-time way (`Notifier.send`: accept, queue, record, three transactions per notice)
measured in the same run on a sample. Goal: 1,000,000 notices from a million customers in
under 60 s (`--customers 1000000`; the default 100,000 is loaded once and reused). The
customer file is bench/customer_lookup.py's, in the same database; the benchmark's installments,
notices, messages and records are removed after."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, insert, literal, select

from bench.campaign_selection import _prepare
from integrations.customer_file.payments import Installment
from integrations.customer_file.policies import Policy
from integrations.customer_file.reminders import DueReminders
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from integrations.demo_data.writer import Progress
from integrations.messaging.outbox import OutboundMessage, Outbox, OutboxLimits
from interactions.table import Interaction
from messaging import notice_kinds
from messaging.daily import DailyReport, Horizons, daily_run, prepare_notice
from messaging.notice_store import NoticeRow
from messaging.notifier import Notifier

GOAL_S = 60.0
GOAL_NOTICES = 1_000_000
NAMES = {"fa": "بیمه تماس", "en": "Tamas Insurance", "ru": "Тамас Страхование"}
# Days no demo data falls on: the benchmark's installments are the only ones due.
BULK_DAY = date(2031, 1, 4)
ONE_AT_A_TIME_DAY = date(2031, 2, 4)
# The reminders' horizon: the installments fall due three days after the run's day.
DUE_DATES = (BULK_DAY + timedelta(days=3), ONE_AT_A_TIME_DAY + timedelta(days=3))


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=100_000, help="customers on file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--sample", type=int, default=2_000, help="notices sent one at a time, for the ratio"
    )
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="tamas_bench")


async def _due(database: Database, due: date, customers: int | None) -> int:
    """One unpaid installment due on `due` on each customer's first policy (the first
    `customers` customers, or all)."""
    first = select(func.min(Policy.id).label("policy_id")).group_by(Policy.customer_id)
    if customers is not None:
        first = first.order_by(Policy.customer_id).limit(customers)
    chosen = first.subquery()
    async with database.engine.begin() as connection:
        written = await connection.execute(
            insert(Installment).from_select(
                ["policy_id", "sequence", "due_date", "amount_rials", "status"],
                select(
                    chosen.c.policy_id,
                    literal(99, Installment.sequence.type),
                    literal(due, Installment.due_date.type),
                    literal(12_500_000, Installment.amount_rials.type),
                    literal("due", Installment.status.type),
                ),
            )
        )
        return int(written.rowcount or 0)


async def _clean(database: Database, since_message: int, since_record: int) -> None:
    async with database.engine.begin() as connection:
        await connection.execute(delete(Installment).where(Installment.due_date.in_(DUE_DATES)))
        await connection.execute(delete(NoticeRow).where(NoticeRow.key.like("daily:%:2031-%")))
        await connection.execute(
            delete(OutboundMessage).where(
                OutboundMessage.id > since_message, OutboundMessage.linkedid.like("notice:%")
            )
        )
        await connection.execute(
            delete(Interaction).where(
                Interaction.id > since_record, Interaction.linkedid.like("outbox:%")
            )
        )


async def run(args: argparse.Namespace) -> int:
    database = await _prepare(args)
    limits = OutboxLimits(
        per_recipient_per_day=10**6, per_kind_per_day={"sms": 10**8, "email": 10**8}
    )
    notifier = Notifier(
        database, SqlCustomerFile(database), Outbox(database, limits), notice_kinds.load(), NAMES
    )
    horizons = Horizons(overdue_days_after=())
    async with database.session() as session:
        since_message = int(await session.scalar(select(func.max(OutboundMessage.id))) or 0)
        since_record = int(await session.scalar(select(func.max(Interaction.id))) or 0)
    try:
        await _clean(database, since_message, since_record)
        due = await _due(database, DUE_DATES[0], args.customers)
        await _due(database, DUE_DATES[1], args.sample)
        now = datetime.now(UTC)

        progress = Progress(due)
        started = time.perf_counter()
        bulk = await daily_run(
            notifier, DueReminders(database), BULK_DAY, horizons, now, progress=progress.advance
        )
        bulk_s = time.perf_counter() - started
        progress.finish()

        # The same notices, one at a time, on the sample.
        started = time.perf_counter()
        one = 0
        async for page in DueReminders(database).installments_due(DUE_DATES[1]):
            for reminder in page:
                key = f"daily:{reminder.kind}:{reminder.entity}:{ONE_AT_A_TIME_DAY.isoformat()}"
                prepared = prepare_notice(notifier, key, reminder, DailyReport(ONE_AT_A_TIME_DAY))
                if prepared is not None:
                    await notifier.send(*prepared, now)
                    one += 1
        one_s = time.perf_counter() - started
    finally:
        await _clean(database, since_message, since_record)
        await database.dispose()

    queued = bulk.results.get("queued", 0)
    bulk_rate = queued / bulk_s if bulk_s else 0.0
    one_rate = one / one_s if one_s else 0.0
    print(f"installments due for {due:,} customers; {dict(bulk.results)}")
    print(f"  daily run, pages of 5,000:   {bulk_s:8.2f} s  {bulk_rate:10,.0f} notices/s")
    print(f"  one at a time ({one:,} sample): {one_s:8.2f} s  {one_rate:10,.0f} notices/s")
    ratio = bulk_rate / one_rate if one_rate else float("inf")
    print(f"  ratio: the daily run {ratio:,.1f}x the one-at-a-time way's notices/s")
    if queued >= GOAL_NOTICES:
        verdict = "met" if bulk_s < GOAL_S else "NOT met"
        print(f"  goal: {queued:,} notices under {GOAL_S:.0f} s: {verdict}")
    else:
        estimate = GOAL_NOTICES / max(bulk_rate, 1)
        print(
            f"  goal ({GOAL_NOTICES:,} notices under {GOAL_S:.0f} s) is for --customers 1000000;"
            f" at this rate {GOAL_NOTICES:,} would take {estimate:.0f} s"
        )
    # Every reminder accounted for: queued, or refused (a destination the outbox does not
    # allow: a landline, a foreign number) or skipped (no address), none lost.
    return 0 if sum(bulk.results.values()) == due else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench notices_daily", description=__doc__)
    configure(parser)
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
