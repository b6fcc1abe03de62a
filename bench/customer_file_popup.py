"""The agent's popup file (`SqlCustomerFile.customer_file`), beside the naive ORM way.

    python -m bench customer_file_popup [--database both|postgresql|sqlite] [--files 500]

On a demo data set (its own database: `tamas_bench_file` on the local PostgreSQL, or a SQLite
file), with calls, an open complaint case and a callback case added for the customers timed. Times
the adapter's method and, in the same run on the same customers, the naive way: ORM entities
with `selectinload` of their relationships, one session, a statement per kind of record. Both
must build the same file; the benchmark checks that for every customer before timing.
Prints ms per file (wall, p50/p99/mean) and CPU ms per file, and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import selectinload

from cases.caller_requests import (
    CALLBACK_TYPES,
    COMPLAINT_TYPE,
    CallerRequestRow,
    callback_view,
    complaint_view,
)
from cases.tables import CaseRow, CaseTaskRow
from customer_file.debt import summarize_debt
from customer_file.identifiers import mask_digits
from customer_file.views import (
    AddressView,
    CustomerFileView,
    InstallmentView,
    PhoneView,
    as_json,
)
from integrations import migrations
from integrations.customer_file.claims import Claim
from integrations.customer_file.customers import Customer
from integrations.customer_file.payments import Cheque, Installment
from integrations.customer_file.policies import Policy
from integrations.customer_file.rows import (
    cheque_view,
    claim_view,
    customer_summary,
    policy_view,
    shareholder_view,
)
from integrations.customer_file.shareholders import Shareholder
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from integrations.demo_data.portfolio import Plan
from integrations.demo_data.writer import load
from interactions.records import InteractionRecords
from interactions.records import view as interaction_view
from interactions.table import Interaction

DATABASE = "tamas_bench_file"
SERVER = os.environ.get("TAMAS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
CALLS_PER_CUSTOMER = 14  # more than the 10 the file shows


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _postgres_url() -> str:
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
            await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    return f"postgresql+asyncpg://{SERVER.split('://', 1)[1]}/{DATABASE}"


def _sqlite_url() -> str:
    path = Path(tempfile.gettempdir()) / "tamas-bench" / "customer_file.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{path}"


async def _prepare(url: str, customers: int, files: int) -> list[int]:
    """Demo data (reused when already there), plus calls, an open complaint and an open
    callback task for each customer timed; returns their ids."""
    await migrations.upgrade(url)
    database = Database(url)
    try:
        await load(database, Plan(customers=customers, seed=1), workers=0)
        async with database.engine.begin() as connection:
            # Customers with a policy: a file with something in it.
            holders = (
                await connection.execute(
                    select(Policy.customer_id).distinct().order_by(Policy.customer_id)
                )
            ).scalars()
            ids = list(holders)
            random.Random(1).shuffle(ids)
            ids = ids[:files]
            fresh = not await connection.scalar(select(func.count()).select_from(Interaction))
            if fresh:
                await _add_own_records(InteractionRecords(database), connection, ids)
        if fresh:
            await _add_requests(SqlCustomerFile(database), ids)
    finally:
        await database.dispose()
    return ids


async def _add_own_records(
    records: InteractionRecords, connection: AsyncConnection, ids: list[int]
) -> None:
    now = datetime.now(UTC)
    calls = [
        {
            "linkedid": f"{customer_id}.{n}",
            "caller_number": "+989120000000",
            "customer_id": customer_id,
            "started_at": now - timedelta(hours=n),
            "duration_s": 30.0 + n,
            "outcome": "queued",
            "menu_path": [{"menu": "claim_status", "at": now.isoformat()}],
            "inputs": [{"field": "claim", "value": "140312345"}],
            "transcript": [{"text": "سلام، وضعیت خسارت من"}] * 5,
            "looked_up": [{"kind": "claim", "ref": "140312345"}],
            "queue": "claims",
            "agent": "1001",
        }
        for customer_id in ids
        for n in range(CALLS_PER_CUSTOMER)
    ]
    await records.import_records(calls, connection)


async def _add_requests(customer_file: SqlCustomerFile, ids: list[int]) -> None:
    """An open complaint and an open callback case for each customer (one open request per
    number and kind: each its own number)."""
    for index, customer_id in enumerate(ids):
        await customer_file.create_complaint("service", customer_id=customer_id)
        await customer_file.create_callback_task(
            "renewal", f"+98912{index:07d}", customer_id=customer_id
        )


def _open_requests(
    types: Sequence[str], customer_id: int
) -> Select[CaseRow, CallerRequestRow, CaseTaskRow]:
    """A customer's open complaint or callback cases, newest first (the naive way: whole ORM
    entities, the case with its request and task)."""
    return (
        select(CaseRow, CallerRequestRow, CaseTaskRow)
        .outerjoin(CallerRequestRow, CallerRequestRow.case_id == CaseRow.id)
        .outerjoin(CaseTaskRow, CaseTaskRow.id == CallerRequestRow.task_id)
        .where(
            CaseRow.customer_id == customer_id,
            CaseRow.type.in_(types),
            CaseRow.status == "open",
        )
        .order_by(CaseRow.opened_at.desc(), CaseRow.id.desc())
    )


def _flat(case: CaseRow, request: CallerRequestRow | None, task: CaseTaskRow | None) -> Any:
    """The three entities as the one row the views read."""
    return SimpleNamespace(
        tracking_number=case.tracking_number,
        type=case.type,
        state=case.state,
        status=case.status,
        owner=case.owner,
        customer_id=case.customer_id,
        case_phone=case.phone,
        fields=case.fields,
        opened_at=case.opened_at,
        updated_at=case.updated_at,
        summary=case.summary,
        kind=request.kind if request else None,
        phone=request.phone if request else None,
        policy_number=request.policy_number if request else None,
        recording_path=request.recording_path if request else None,
        outcome=request.outcome if request else None,
        control_at=task.control_at if task else None,
    )


async def naive_customer_file(database: Database, customer_id: int) -> CustomerFileView | None:
    """The file the ORM way: entities, relationships loaded with selectinload, one session."""
    async with database.session() as session:
        customer = await session.get(
            Customer,
            customer_id,
            options=[
                selectinload(Customer.phones),
                selectinload(Customer.emails),
                selectinload(Customer.addresses),
            ],
        )
        if customer is None:
            return None
        policies = await session.scalars(
            select(Policy)
            .where(Policy.customer_id == customer_id)
            .order_by(Policy.end_date.desc(), Policy.id)
        )
        claims = await session.execute(
            select(Claim, Policy.number)
            .join(Policy, Policy.id == Claim.policy_id)
            .where(Claim.customer_id == customer_id)
            .order_by(Claim.stage_changed_at.desc(), Claim.id)
        )
        installments = await session.execute(
            select(Installment, Policy.number.label("policy_number"))
            .join(Policy, Policy.id == Installment.policy_id)
            .where(Policy.customer_id == customer_id, Installment.status != "paid")
        )
        cheques = await session.scalars(
            select(Cheque).where(
                Cheque.customer_id == customer_id, Cheque.status.in_(("due", "bounced"))
            )
        )
        holder = (
            await session.scalars(
                select(Shareholder)
                .where(Shareholder.customer_id == customer_id)
                .order_by(Shareholder.id)
                .options(selectinload(Shareholder.dividends))
            )
        ).first()
        complaints = await session.execute(_open_requests((COMPLAINT_TYPE,), customer_id))
        tasks = await session.execute(_open_requests(CALLBACK_TYPES, customer_id))
        calls = await session.scalars(
            select(Interaction)
            .where(Interaction.customer_id == customer_id)
            .order_by(Interaction.started_at.desc())
            .limit(10)
        )
        return CustomerFileView(
            customer=customer_summary(customer),
            national_id_masked=mask_digits(customer.national_id) if customer.national_id else None,
            company_id=customer.company_id,
            birth_date=customer.birth_date,
            phones=tuple(PhoneView(p.e164, p.kind, p.is_primary) for p in customer.phones),
            emails=tuple(email.address for email in customer.emails),
            addresses=tuple(
                AddressView(a.kind, a.postal_code, a.province, a.city, a.line)
                for a in customer.addresses
            ),
            policies=tuple(policy_view(policy) for policy in policies),
            claims=tuple(claim_view(claim, number) for claim, number in claims),
            debt=summarize_debt(
                customer_id,
                (
                    InstallmentView(
                        number, item.sequence, item.due_date, item.amount_rials, item.status
                    )
                    for item, number in installments
                ),
                (cheque_view(cheque) for cheque in cheques),
                today=date.today(),
            ),
            shareholder=None if holder is None else shareholder_view(holder),
            open_complaints=tuple(complaint_view(_flat(*row)) for row in complaints),
            open_callback_tasks=tuple(callback_view(_flat(*row)) for row in tasks),
            recent_interactions=tuple(interaction_view(record) for record in calls),
        )


async def _time(
    build: Callable[[int], Awaitable[object]], ids: list[int]
) -> tuple[list[float], float]:
    """Wall ms per file, and CPU ms per file of this process."""
    samples: list[float] = []
    cpu_started = time.process_time()
    for customer_id in ids:
        started = time.perf_counter()
        await build(customer_id)
        samples.append((time.perf_counter() - started) * 1000)
    return samples, (time.process_time() - cpu_started) * 1000 / len(ids)


async def _bench(engine: str, url: str, ids: list[int], rounds: int) -> bool:
    database = Database(url)
    adapter = SqlCustomerFile(database)
    try:
        different = 0
        for customer_id in ids:  # also warms the pool, the caches and the pages
            if await adapter.customer_file(customer_id) != await naive_customer_file(
                database, customer_id
            ):
                different += 1
        naive: list[float] = []
        fast: list[float] = []
        naive_cpu: list[float] = []
        fast_cpu: list[float] = []
        for _ in range(rounds):  # interleaved, so drifting machine load hits both alike
            samples, cpu = await _time(lambda i: naive_customer_file(database, i), ids)
            naive += samples
            naive_cpu.append(cpu)
            samples, cpu = await _time(adapter.customer_file, ids)
            fast += samples
            fast_cpu.append(cpu)
        views = [await adapter.customer_file(i) for i in ids[:100]]
        started = time.process_time()
        for view in views:
            as_json(view)
        as_json_ms = (time.process_time() - started) * 1000 / len(views)
    finally:
        await database.dispose()

    def line(name: str, samples: list[float], cpu: list[float]) -> str:
        return (
            f"  {name:32} p50 {percentile(samples, 0.5):6.2f} ms"
            f"  p99 {percentile(samples, 0.99):6.2f} ms"
            f"  mean {statistics.fmean(samples):6.2f} ms"
            f"  CPU {statistics.fmean(cpu):5.2f} ms"
        )

    print(f"{engine}: {len(ids)} files x {rounds} rounds")
    print(line("naive ORM (selectinload)", naive, naive_cpu))
    print(line("SqlCustomerFile.customer_file", fast, fast_cpu))
    print(
        f"  ratio naive/adapter: p50 {percentile(naive, 0.5) / percentile(fast, 0.5):.1f}x,"
        f" p99 {percentile(naive, 0.99) / percentile(fast, 0.99):.1f}x,"
        f" CPU {statistics.fmean(naive_cpu) / statistics.fmean(fast_cpu):.1f}x"
    )
    print(f"  as_json of a file (what the popup sends): {as_json_ms:.2f} ms CPU")
    if different:
        print(f"  DIFFERENT FILES: {different} of {len(ids)}")
    return different == 0


async def run(args: argparse.Namespace) -> int:
    engines = ("postgresql", "sqlite") if args.database == "both" else (args.database,)
    ok = True
    for engine in engines:
        url = await _postgres_url() if engine == "postgresql" else _sqlite_url()
        ids = await _prepare(url, args.customers, args.files)
        ok = await _bench(engine, url, ids, args.rounds) and ok
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0 if ok else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench customer_file_popup", description=__doc__
    )
    parser.add_argument("--database", choices=("both", "postgresql", "sqlite"), default="both")
    parser.add_argument("--customers", type=int, default=2000, help="demo customers on file")
    parser.add_argument("--files", type=int, default=500, help="customers whose file is timed")
    parser.add_argument("--rounds", type=int, default=2, help="timed passes over them each")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
