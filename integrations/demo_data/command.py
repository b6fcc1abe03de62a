"""`tamas demo-data`: fill the customer file with a deterministic, realistic data set.

Same --seed and --customers give the same rows. Safe to interrupt: each chunk of customers is
written in one transaction, and running the same command again skips the chunks already on
file and writes the rest. --replace empties the customer file first.
"""

from __future__ import annotations

import argparse
import logging
from datetime import date

from sqlalchemy.exc import IntegrityError

from integrations import migrations
from integrations.database import Database
from integrations.demo_data.portfolio import Plan
from integrations.demo_data.showcase import SHOWCASE, SHOWCASE_CUSTOMERS
from integrations.demo_data.writer import (
    DEFAULT_CHUNK,
    DemoDataConflict,
    Progress,
    default_workers,
    load,
)
from integrations.migrations.command import database_errors, where
from tamas.errors import CommandError
from tamas.settings import Settings


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=10_000, help="how many (default 10000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: the database_url setting)")
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        help="YYYY-MM-DD the data is dated from: overdue as of that day (default: today)",
    )
    parser.add_argument(
        "--chunk", type=int, default=DEFAULT_CHUNK, help="customers per transaction"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help="processes generating chunks while the main one writes (0: none)",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="delete every customer, policy, claim, shareholder and branch first",
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.customers < SHOWCASE_CUSTOMERS:
        raise CommandError(f"--customers must be at least {SHOWCASE_CUSTOMERS} (the showcase)")
    if args.chunk < 1:
        raise CommandError("--chunk must be at least 1")
    url = args.database_url or settings.effective_database_url
    logging.getLogger("alembic").setLevel(logging.WARNING)
    plan = Plan(args.customers, args.seed, args.today or date.today())
    with database_errors(
        "--database-url" if args.database_url else "database_url",
        "pass e.g. --database-url postgresql+asyncpg://user@host/tamas",
    ):
        await migrations.upgrade(url)
        database = Database(url)
    progress = Progress(plan.customers)
    try:
        report = await load(
            database,
            plan,
            chunk=args.chunk,
            replace=args.replace,
            workers=args.workers,
            progress=progress.advance,
        )
    except DemoDataConflict as error:
        raise CommandError(str(error)) from error
    except IntegrityError as error:
        raise CommandError(
            "the database already holds rows with the demo data's ids or numbers (data of"
            f" your own?): {str(error.orig).splitlines()[0]}; run with --replace to empty the"
            " customer file first, or use another database"
        ) from error
    finally:
        progress.finish()
        await database.dispose()
    print(
        f"{where(url)}: {report.customers_written:,} customers written"
        f" ({report.rows_written:,} rows) in {report.elapsed_s:.1f} s,"
        f" {report.customers_per_s:,.0f} customers/s;"
        f" {report.customers_skipped:,} already on file"
    )
    print(
        f"try: caller {SHOWCASE.gold_caller} PIN {SHOWCASE.gold_pin},"
        f" claim {SHOWCASE.claim_in_assessment}, shareholder {SHOWCASE.shareholder_number}"
        f" PIN {SHOWCASE.shareholder_pin}, postal code {SHOWCASE.postal_code_near_branches}"
    )
    return 0
