"""A renewal campaign's targets selected from the demo customer file on PostgreSQL and queued.

Times `dialer.selection.select_targets` (one INSERT ... SELECT per batch of customers) over
the whole file, beside the naive way measured in the same run: the policies loaded through
the ORM and each one checked and added a row at a time (its customer, primary number, a
renewal, the do-not-call list, the campaign). Both must pick the same targets. Goal: 100,000
targets from a million customers queued in under 10 s (`--customers 1000000`; the default
100,000 runs in well under a minute once loaded). The file is the demo data set of
bench/customer_lookup.py, in the same database, loaded once and reused.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from bench.customer_lookup import _count_customers, _ensure_database
from dialer import kinds
from dialer.campaigns import Campaign, Campaigns
from dialer.selection import BOOKS_ZONE, select_targets
from dialer.tables import CampaignRow, DoNotCallRow, TargetRow
from integrations import migrations
from integrations.customer_file.customers import Customer, Phone
from integrations.customer_file.policies import Policy
from integrations.database import Database
from integrations.demo_data.portfolio import Plan
from integrations.demo_data.writer import Progress, load

GOAL_S = 10.0
GOAL_TARGETS = 100_000


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=100_000, help="customers on file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--days-before",
        type=int,
        default=85,
        help="policies ending within this many days (85: about 100,000 targets a million)",
    )
    parser.add_argument(
        "--naive-customers",
        type=int,
        default=100_000,
        help="the naive way runs over the first this many customers (it is slow)",
    )
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="tamas_bench")


async def _naive(
    database: Database, campaign: Campaign, kind: kinds.CampaignKind, now: datetime, last_id: int
) -> int:
    """Row by row through the ORM, as a first version would: what the set-based way replaces."""
    today = now.astimezone(BOOKS_ZONE).date()
    horizon = today + timedelta(days=kind.target.value("days_before"))
    added = 0
    async with database.session() as session:
        policies = (
            await session.scalars(
                select(Policy)
                .where(
                    Policy.status == "active",
                    Policy.end_date >= today,
                    Policy.end_date <= horizon,
                    Policy.customer_id <= last_id,
                )
                .order_by(Policy.customer_id, Policy.end_date, Policy.id)
            )
        ).all()
        for policy in policies:
            renewed = await session.scalar(
                select(Policy.id).where(
                    Policy.customer_id == policy.customer_id,
                    Policy.line == policy.line,
                    Policy.end_date > policy.end_date,
                    Policy.status == "active",
                )
            )
            if renewed is not None:
                continue
            customer = await session.get(Customer, policy.customer_id)
            phone = await session.scalar(
                select(Phone).where(Phone.customer_id == policy.customer_id, Phone.is_primary)
            )
            if customer is None or phone is None:
                continue
            if await session.get(DoNotCallRow, phone.e164) is not None:
                continue
            present = await session.scalar(
                select(TargetRow.id).where(
                    TargetRow.campaign_id == campaign.id, TargetRow.phone == phone.e164
                )
            )
            if present is not None:
                continue
            session.add(
                TargetRow(
                    campaign_id=campaign.id,
                    phone=phone.e164,
                    name=f"{customer.given_name_fa} {customer.family_name_fa}".strip(),
                    language=customer.language,
                    customer_id=customer.id,
                    fields={
                        "policy_number": policy.number,
                        "end_date": policy.end_date.isoformat(),
                        "amount_rials": policy.premium_rials,
                    },
                    state="pending",
                    attempts=0,
                )
            )
            await session.flush()  # the next customer's check must see this one
            added += 1
        await session.commit()
    return added


async def _phones(database: Database, campaign_id: int, last_id: int) -> set[str]:
    async with database.session() as session:
        rows = await session.scalars(
            select(TargetRow.phone).where(
                TargetRow.campaign_id == campaign_id, TargetRow.customer_id <= last_id
            )
        )
        return set(rows)


async def _prepare(args: argparse.Namespace) -> Database:
    url = await _ensure_database(args.server, args.database)
    await migrations.upgrade(url)
    database = Database(url)
    on_file = await _count_customers(database)
    if on_file < args.customers:
        print(f"loading {args.customers:,} demo customers into {args.database} ...", flush=True)
        progress = Progress(args.customers)
        await load(database, Plan(args.customers, args.seed), progress=progress.advance)
        progress.finish()
    return database


async def run(args: argparse.Namespace) -> int:
    database = await _prepare(args)
    campaigns = Campaigns(database)
    catalogue = kinds.load()
    base = catalogue["renewal_due"]
    kind = replace(
        base,
        target=kinds.TargetRule(
            "policies_ending", (("days_before", args.days_before), ("not_renewed", True))
        ),
    )
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%d%H%M%S")
    try:
        async with database.session() as session:
            on_file = int(await session.scalar(select(func.count()).select_from(Customer)) or 0)
            last_id = int(
                await session.scalar(
                    select(func.max(Customer.id)).where(
                        Customer.id
                        <= select(func.min(Customer.id)).scalar_subquery() + args.naive_customers
                    )
                )
                or 0
            )
        fast = await campaigns.create(f"bench-set-{stamp}", kind, now)
        started = time.perf_counter()
        report = await select_targets(database, fast, kind, now)
        set_s = time.perf_counter() - started
        naive = await campaigns.create(f"bench-naive-{stamp}", kind, now)
        started = time.perf_counter()
        naive_added = await _naive(database, naive, kind, now, last_id)
        naive_s = time.perf_counter() - started
        same = await _phones(database, fast.id, last_id) == await _phones(
            database, naive.id, last_id
        )
    finally:
        async with database.session() as session:
            await session.execute(delete(CampaignRow).where(CampaignRow.name.like("bench-%")))
            await session.commit()
        await database.dispose()

    set_rate = report.added / set_s if set_s else 0.0
    naive_rate = naive_added / naive_s if naive_s else 0.0
    print(
        f"customers on file: {on_file:,}; rule policies_ending within {args.days_before} days, "
        f"not renewed: {report.matched:,} matched, {report.added:,} queued "
        f"({report.without_phone:,} without a number, {report.do_not_call:,} do-not-call)"
    )
    print(f"  set-based (INSERT ... SELECT per batch): {set_s:8.2f} s  {set_rate:10,.0f} targets/s")
    print(
        f"  naive (ORM, row by row, {last_id:,} customers): {naive_s:8.2f} s  "
        f"{naive_rate:10,.0f} targets/s  ({naive_added:,} targets)"
    )
    ratio = set_rate / naive_rate if naive_rate else float("inf")
    print(f"  ratio: set-based {ratio:,.0f}x the naive way's targets/s; same targets: {same}")
    if report.added >= GOAL_TARGETS:
        verdict = "met" if set_s < GOAL_S else "NOT met"
        print(f"  goal: {report.added:,} targets under {GOAL_S:.0f} s: {verdict}")
    else:
        print(
            f"  goal ({GOAL_TARGETS:,} targets under {GOAL_S:.0f} s) is for --customers 1000000; "
            f"at this rate {GOAL_TARGETS:,} would take {GOAL_TARGETS / max(set_rate, 1):.1f} s"
        )
    return 0 if same else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench campaign_selection", description=__doc__)
    configure(parser)
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
