"""The demo customer file the benchmarks run the real menus on: a small `tamas demo-data`
set (the showcase customers plus N generated ones) in its own database, so a benchmark never
touches the one the settings name.

PostgreSQL by default (a `tamas_bench` database on the local server, created when missing),
or a SQLite file. The load is resumable, so a second run reuses what is already there.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import asyncpg
from sqlalchemy import func, select

from integrations.database import Database
from integrations.demo_data.portfolio import Plan
from integrations.demo_data.writer import load
from integrations.migrations import upgrade
from interactions.table import Interaction

DEMO_SEED = 1  # the seed `tamas demo` uses, so the showcase values are the README's
# Its own database: `tamas_bench` holds bench/customer_lookup.py's million customers.
BENCH_DATABASE = "tamas_bench_ivr"
# The PostgreSQL server the benchmark may create its database in (loopback only).
ADMIN_DSN = os.environ.get("TAMAS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def sqlite_url() -> str:
    path = Path(tempfile.gettempdir()) / "tamas-bench" / "bench.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{path}"


async def postgres_url() -> str:
    """The benchmark's PostgreSQL database, created if missing."""
    admin = await asyncpg.connect(f"{ADMIN_DSN}/postgres")
    try:
        found = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", BENCH_DATABASE)
        if not found:
            await admin.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    finally:
        await admin.close()
    return f"postgresql+asyncpg://{ADMIN_DSN.split('://', 1)[1]}/{BENCH_DATABASE}"


async def prepare(engine: str, customers: int) -> str:
    """Migrate and fill the demo database on `engine` ("postgresql" or "sqlite"); its URL."""
    url = await postgres_url() if engine == "postgresql" else sqlite_url()
    await upgrade(url)
    database = Database(url)
    try:
        await load(database, Plan(customers=customers, seed=DEMO_SEED), workers=0)
    finally:
        await database.dispose()
    return url


async def claim_records(url: str, run_id: str) -> tuple[int, int]:
    """(interaction rows of this run, rows that say the caller was served the claim's status):
    how a benchmark checks that every call it placed left its record."""
    database = Database(url)
    try:
        async with database.session() as session:
            mine = Interaction.linkedid.like(f"{run_id}-%")
            total = await session.scalar(select(func.count()).where(mine))
            served = await session.scalar(
                select(func.count()).where(
                    mine,
                    Interaction.outcome == "self_served",
                    Interaction.outcome_detail == "claim_status",
                    Interaction.ended_at.is_not(None),
                )
            )
    finally:
        await database.dispose()
    return int(total or 0), int(served or 0)
