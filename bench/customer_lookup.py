"""Finding a customer by the caller's number, on PostgreSQL with a million demo customers.

Measures the adapter's `customer_by_phone` (one indexed equality on E.164) over thousands of
known numbers, in turns with the same query prepared on the bare driver (asyncpg): the floor
under the adapter. Also the naive `LIKE '%<last 8 digits>'` scan a popular CRM connector
uses. Goal: the adapter's p99 within 2x of the bare driver's, and under 2 ms. The demo data
set is loaded into its own database (`tamas_bench`) once and reused by later runs
(`--customers 20000` for a quick one while iterating).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date

import asyncpg
from sqlalchemy import func, select, text

from integrations import migrations
from integrations.customer_file.customers import Customer
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from integrations.demo_data.portfolio import Plan, customers_batch
from integrations.demo_data.writer import DemoDataConflict, Progress, load

GOAL_P99_MS = 2.0
# The adapter's p99 against the same query on the bare driver: what the layers above cost.
GOAL_RATIO = 2.0
# The adapter's query shape, run straight on the driver: the floor under the adapter's figure.
DRIVER_QUERY = (
    "SELECT c.id, c.kind, c.national_id, c.company_id, c.given_name_fa, c.family_name_fa,"
    " c.given_name_latin, c.family_name_latin, c.gender, c.language, c.tier, c.pin_hash"
    " FROM customers c JOIN phones p ON p.customer_id = c.id WHERE p.e164 = $1"
)
NAIVE_QUERY = text(
    "SELECT c.id, c.family_name_fa FROM phones p JOIN customers c ON c.id = p.customer_id"
    " WHERE p.e164 LIKE :pattern LIMIT 1"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lookups", type=int, default=5000, help="indexed lookups timed")
    parser.add_argument("--naive-lookups", type=int, default=50, help="LIKE lookups timed")
    parser.add_argument(
        "--server", default="postgresql://postgres@127.0.0.1:5432", help="PostgreSQL server"
    )
    parser.add_argument("--database", default="tamas_bench")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _ensure_database(server: str, name: str, drop: bool = False) -> str:
    admin = await asyncpg.connect(f"{server}/postgres")
    try:
        if drop:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"postgresql+asyncpg://{server.split('://', 1)[1]}/{name}"


async def _count_customers(database: Database) -> int:
    async with database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Customer)) or 0)


async def _timed(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


def _generation_rate(seed: int) -> float:
    """Customers per second the pure generator makes, in this process (no database)."""
    plan = Plan(1_000_000, seed, date.today())
    _ = plan.codes, plan.pin_pool
    started = time.perf_counter()
    customers_batch(plan, 500_000, 520_000)
    return 20_000 / (time.perf_counter() - started)


async def run(args: argparse.Namespace) -> int:
    url = await _ensure_database(args.server, args.database)
    await migrations.upgrade(url)
    database = Database(url)
    try:
        on_file = await _count_customers(database)
        plan = Plan(args.customers, args.seed)
        if on_file < args.customers:
            print(f"loading {args.customers:,} demo customers into {args.database} ...", flush=True)
            progress = Progress(args.customers)
            try:
                report = await load(database, plan, progress=progress.advance)
            except DemoDataConflict:
                # Another seed's data: start the bench database afresh.
                await database.dispose()
                url = await _ensure_database(args.server, args.database, drop=True)
                await migrations.upgrade(url)
                database = Database(url)
                progress = Progress(args.customers)
                report = await load(database, plan, progress=progress.advance)
            progress.finish()
            print(
                f"demo-data load: {report.customers_written:,} customers"
                f" ({report.rows_written:,} rows) in {report.elapsed_s:.1f} s ="
                f" {report.customers_per_s:,.0f} customers/s"
                f" (generation {report.generate_s:.1f} s of worker time)"
            )
        else:
            print(f"reusing {on_file:,} customers already in {args.database}")
        print(f"demo-data generator alone: {_generation_rate(args.seed):,.0f} customers/s")

        async with database.session() as session:
            numbers = list(
                (
                    await session.scalars(
                        text("SELECT e164 FROM phones ORDER BY random() LIMIT :n"),
                        {"n": args.lookups},
                    )
                ).all()
            )
        random.Random(args.seed).shuffle(numbers)
        raw = await database.engine.raw_connection()
        try:
            connection = raw.driver_connection
            assert connection is not None
            plan_lines = await connection.fetch("EXPLAIN " + DRIVER_QUERY, numbers[0])
            indexed, driver, misses = await _time_both(database, connection, numbers)
        finally:
            raw.close()

        naive: list[float] = []
        async with database.session() as session:
            for number in numbers[: args.naive_lookups]:
                pattern = "%" + number[-8:]
                started = time.perf_counter()
                await session.execute(NAIVE_QUERY, {"pattern": pattern})
                naive.append((time.perf_counter() - started) * 1000)
    finally:
        await database.dispose()

    total = await _count_customers_quick(url)
    p50, p99 = percentile(indexed, 0.50), percentile(indexed, 0.99)
    naive_p50, naive_p99 = percentile(naive, 0.50), percentile(naive, 0.99)
    print(
        f"customers on file: {total:,};"
        f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    index_lines = [str(row[0]).strip() for row in plan_lines if "Index" in str(row[0])]
    print(f"plan: {' / '.join(index_lines) or 'NO INDEX USED'}")
    print(
        f"customer_by_phone (indexed E.164, {len(indexed):,} lookups): p50 {p50:.3f} ms,"
        f" p99 {p99:.3f} ms, mean {statistics.fmean(indexed):.3f} ms, misses {misses}"
    )
    driver_p50, driver_p99 = percentile(driver, 0.50), percentile(driver, 0.99)
    print(
        f"same query on the bare driver (asyncpg, prepared, in turns with the adapter):"
        f" p50 {driver_p50:.3f} ms, p99 {driver_p99:.3f} ms"
    )
    print(
        f"naive LIKE '%<last 8 digits>' ({len(naive)} lookups): p50 {naive_p50:.1f} ms,"
        f" p99 {naive_p99:.1f} ms"
    )
    print(f"ratio naive/indexed: p50 {naive_p50 / p50:,.0f}x, p99 {naive_p99 / p99:,.0f}x")
    ratio = p99 / driver_p99
    met = ratio <= GOAL_RATIO and p99 < GOAL_P99_MS
    print(f"ratio adapter/bare driver: p50 {p50 / driver_p50:.2f}x, p99 {ratio:.2f}x")
    print(
        f"goal: adapter p99 within {GOAL_RATIO:g}x of the bare driver's and under"
        f" {GOAL_P99_MS:g} ms: {'met' if met else 'NOT met'}"
        f" (p99 {p99:.3f} ms vs {driver_p99:.3f} ms, {ratio:.2f}x)"
    )
    return 0 if misses == 0 and met else 1


async def _time_both(
    database: Database, connection: asyncpg.Connection, numbers: list[str]
) -> tuple[list[float], list[float], int]:
    """Milliseconds per `customer_by_phone` and per the same query prepared on the bare
    driver, taken in turns over the same numbers (each side first on every other number, so
    neither gets the other's warm cache); and how many numbers the adapter found nobody for."""
    adapter = SqlCustomerFile(database)
    statement = await connection.prepare(DRIVER_QUERY)
    for number in numbers[:200]:  # warm the pool, the statement caches and the index pages
        await adapter.customer_by_phone(number)
        await statement.fetchrow(number)
    indexed: list[float] = []
    driver: list[float] = []
    misses = 0
    for i, number in enumerate(numbers):
        for side in (0, 1) if i % 2 else (1, 0):
            started = time.perf_counter()
            if side == 0:
                found = await adapter.customer_by_phone(number)
                indexed.append((time.perf_counter() - started) * 1000)
                misses += found is None
            else:
                await statement.fetchrow(number)
                driver.append((time.perf_counter() - started) * 1000)
    return indexed, driver, misses


async def _count_customers_quick(url: str) -> int:
    database = Database(url)
    try:
        return await _count_customers(database)
    finally:
        await database.dispose()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench customer_lookup", description=__doc__)
    configure(parser)
    args = parser.parse_args(argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
