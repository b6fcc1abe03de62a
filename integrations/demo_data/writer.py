"""Writes demo data into the customer file, chunk by chunk.

Each chunk of customers (and everything they hold) goes in one transaction, so a chunk is
either wholly on file or absent. A run that is interrupted and started again finds the
chunks already written (same ids, same first customer) and skips them: it resumes, it does
not duplicate. `replace=True` deletes the customer file first.

PostgreSQL gets the rows through COPY (asyncpg's `copy_records_to_table`); any other database
through SQLAlchemy Core's `insert()` executemany. Both take the same `Batch`. Writing the same
20,000 customers (159,000 rows) into PostgreSQL took 3.3-6.2 s by COPY and 6.2-11.3 s by the
executemany, three runs each on a busy two-core box: COPY is about 1.8 times faster.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from sqlalchemy import Table, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

import integrations.customer_file  # noqa: F401  (registers every table on Base.metadata)
from integrations.customer_file.customers import Customer
from integrations.customer_file.places import Branch
from integrations.database import Base, Database
from integrations.demo_data.batch import (
    COLUMNS,
    CUSTOMER_TABLES,
    JSON_COLUMNS,
    REFERENCE_TABLES,
    Batch,
    Ids,
)
from integrations.demo_data.network import reference_batch
from integrations.demo_data.portfolio import Plan, customers_batch
from integrations.demo_data.showcase import SHOWCASE_CUSTOMERS
from integrations.demo_data.showcase_records import showcase_batch

DEFAULT_CHUNK = 10_000
# pg_advisory_lock key held while a run writes ("tamasdem" in ASCII).
_LOCK_KEY = 0x74616D617364656D


class DemoDataConflict(Exception):
    """The database holds rows the demo data would collide with; the message says how to fix."""


@dataclass
class LoadReport:
    customers_written: int = 0
    customers_skipped: int = 0
    rows_written: int = 0
    generate_s: float = 0.0
    elapsed_s: float = 0.0

    @property
    def customers_per_s(self) -> float:
        return self.customers_written / self.elapsed_s if self.elapsed_s else 0.0


def default_workers() -> int:
    """One generating process per core (up to four): generation, not the database, is what
    limits a load on a small machine."""
    return max(1, min(4, os.cpu_count() or 1))


def chunk_bounds(customers: int, chunk: int) -> list[tuple[int, int]]:
    return [(first, min(first + chunk, customers)) for first in range(0, customers, chunk)]


def generate_chunk(plan: Plan, first: int, end: int) -> tuple[Batch, float]:
    """Rows for customers first..end-1, showcase included; runs in a worker process."""
    started = time.perf_counter()
    batch = Batch()
    if first < SHOWCASE_CUSTOMERS:
        batch.extend(showcase_batch(plan))
    batch.extend(customers_batch(plan, first, end))
    return batch, time.perf_counter() - started


def _identity(row: tuple[Any, ...]) -> str | None:
    columns = COLUMNS["customers"]
    return row[columns.index("national_id")] or row[columns.index("company_id")]


class Progress:
    """A one-line progress bar on stderr: customers done, rate and time left."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.stream = sys.stderr if stream is None else stream
        self.started = time.monotonic()
        self.tty = self.stream.isatty()
        self._last_line = 0.0

    def advance(self, customers: int) -> None:
        self.done += customers
        now = time.monotonic()
        # Off a terminal (a log file) one line every few seconds instead of redrawing.
        if not self.tty and now - self._last_line < 5 and self.done < self.total:
            return
        self._last_line = now
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate else 0.0
        width = 30
        filled = int(width * self.done / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        line = (
            f"demo-data [{bar}] {self.done:,}/{self.total:,} customers"
            f" {rate:,.0f}/s ETA {int(left) // 60}m{int(left) % 60:02d}s"
        )
        self.stream.write(("\r" + line) if self.tty else (line + "\n"))
        self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


class Writer:
    """Inserts batches into one database: COPY on PostgreSQL, Core executemany elsewhere."""

    def __init__(self, database: Database, use_copy: bool | None = None) -> None:
        self.database = database
        self.postgres = database.engine.dialect.name == "postgresql"
        self.use_copy = self.postgres if use_copy is None else use_copy
        if self.use_copy and not self.postgres:
            raise ValueError("COPY needs PostgreSQL")
        self.tables: dict[str, Table] = {name: Base.metadata.tables[name] for name in COLUMNS}

    async def write(self, batch: Batch, tables: Sequence[str]) -> int:
        """All of `batch`'s rows for `tables`, in one transaction."""
        if self.use_copy:
            return await self._copy(batch, tables)
        written = 0
        async with self.database.engine.begin() as connection:
            for name in tables:
                if batch.rows[name]:
                    await connection.execute(insert(self.tables[name]), batch.dicts(name))
                    written += len(batch.rows[name])
        return written

    async def _copy(self, batch: Batch, tables: Sequence[str]) -> int:
        written = 0
        raw = await self.database.engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            async with driver.transaction():
                # A lost demo chunk after a crash is re-made by the next run: no need to wait
                # for each commit to reach the disk.
                await driver.execute("SET LOCAL synchronous_commit = off")
                for name in tables:
                    rows = batch.rows[name]
                    if not rows:
                        continue
                    json_columns = JSON_COLUMNS.get(name)
                    if json_columns:
                        positions = [COLUMNS[name].index(column) for column in json_columns]
                        rows = [_json_encoded(row, positions) for row in rows]
                    await driver.copy_records_to_table(
                        name, records=rows, columns=list(COLUMNS[name])
                    )
                    written += len(rows)
        finally:
            raw.close()
        return written

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """One demo-data run per PostgreSQL database at a time (two would race for the same
        chunks). The lock is the session's: it goes with the connection if the run dies."""
        if not self.postgres:
            yield
            return
        raw = await self.database.engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            if not await driver.fetchval("SELECT pg_try_advisory_lock($1)", _LOCK_KEY):
                raise DemoDataConflict(
                    "another `tamas demo-data` run is writing to this database; wait for it"
                    " to finish or stop it, then run again"
                )
            try:
                yield
            finally:
                await driver.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
        finally:
            raw.close()

    async def customers_on_file(self, first: int, end: int, probe: int) -> tuple[int, str | None]:
        """(how many of customers first..end-1 exist, identity of customer `probe`)."""
        low, high = Ids.customer(first), Ids.customer(end - 1)
        async with self.database.engine.connect() as connection:
            count = await connection.scalar(
                select(func.count()).select_from(Customer).where(Customer.id.between(low, high))
            )
            row = (
                await connection.execute(
                    select(Customer.national_id, Customer.company_id).where(
                        Customer.id == Ids.customer(probe)
                    )
                )
            ).first()
        identity = None if row is None else (row.national_id or row.company_id)
        return int(count or 0), identity

    async def delete_customers(self, first: int, end: int) -> None:
        """Every row of customers first..end-1, children first (a chunk half-made by a run with
        another --customers)."""
        ranges = Ids.ranges(first, end)
        async with self.database.engine.begin() as connection:
            for name in reversed(CUSTOMER_TABLES):
                low, high = ranges[name]
                table = self.tables[name]
                await connection.execute(delete(table).where(table.c.id.between(low, high)))

    async def reference_on_file(self) -> int:
        async with self.database.engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(Branch)) or 0)

    async def replace_all(self) -> None:
        """Empty the customer file: our tables and every table pointing into them."""
        names = set(CUSTOMER_TABLES) | set(REFERENCE_TABLES)
        for table in Base.metadata.sorted_tables:
            if any(key.column.table.name in names for key in table.foreign_keys):
                names.add(table.name)
        ordered = [t for t in reversed(Base.metadata.sorted_tables) if t.name in names]
        async with self.database.engine.begin() as connection:
            if self.postgres:
                quoted = ", ".join(f'"{table.name}"' for table in ordered)
                await connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            else:
                for table in ordered:
                    await connection.execute(delete(table))

    async def finish(self) -> None:
        """Move id sequences past the ids we chose, and refresh planner statistics."""
        if not self.postgres:
            return
        async with self.database.engine.begin() as connection:
            for name in (*REFERENCE_TABLES, *CUSTOMER_TABLES):
                if "id" not in COLUMNS[name]:
                    continue
                await _advance_sequence(connection, name)
        async with self.database.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            for name in (*REFERENCE_TABLES, *CUSTOMER_TABLES):
                await connection.execute(text(f'ANALYZE "{name}"'))


async def _advance_sequence(connection: AsyncConnection, table: str) -> None:
    sequence = await connection.scalar(text(f"SELECT pg_get_serial_sequence('{table}', 'id')"))
    if sequence:
        await connection.execute(
            text(
                f'SELECT setval(:sequence, (SELECT coalesce(max(id), 0) + 1 FROM "{table}"), false)'
            ),
            {"sequence": sequence},
        )


def _json_encoded(row: tuple[Any, ...], positions: list[int]) -> tuple[Any, ...]:
    values = list(row)
    for position in positions:
        values[position] = json.dumps(values[position], ensure_ascii=False)
    return tuple(values)


async def load(
    database: Database,
    plan: Plan,
    *,
    chunk: int = DEFAULT_CHUNK,
    replace: bool = False,
    workers: int | None = None,
    writers: int = 2,
    progress: Callable[[int], None] | None = None,
    use_copy: bool | None = None,
) -> LoadReport:
    """Write `plan` into `database` (whose schema exists), resuming where a run stopped.

    `workers` processes generate chunks while this one writes them, `writers` chunks at a
    time (one per database connection); `workers=0` generates in this process, one by one."""
    if plan.customers < SHOWCASE_CUSTOMERS:
        raise ValueError(f"--customers must be at least {SHOWCASE_CUSTOMERS} (the showcase)")
    writer = Writer(database, use_copy)
    workers = default_workers() if workers is None else workers
    async with writer.exclusive():
        return await _load(writer, plan, chunk, replace, workers, writers, progress)


async def _load(
    writer: Writer,
    plan: Plan,
    chunk: int,
    replace: bool,
    workers: int,
    writers: int,
    progress: Callable[[int], None] | None,
) -> LoadReport:
    report = LoadReport()
    # Computed once here, then shipped to the worker processes with the plan.
    _ = plan.codes, plan.pin_pool
    started = time.perf_counter()
    if replace:
        await writer.replace_all()

    reference = reference_batch(plan.today)
    on_file = await writer.reference_on_file()
    if on_file == 0:
        report.rows_written += await writer.write(reference, REFERENCE_TABLES)
    elif on_file != len(reference.rows["branches"]):
        raise DemoDataConflict(
            f"the database has {on_file} branches that are not the demo network; run with"
            " --replace to empty the customer file first, or use another database"
        )

    todo: list[tuple[int, int]] = []
    for first, end in chunk_bounds(plan.customers, chunk):
        # Showcase customers are the same for every seed: probe a generated one if any.
        probe = SHOWCASE_CUSTOMERS if first < SHOWCASE_CUSTOMERS < end else first
        count, identity = await writer.customers_on_file(first, end, probe)
        if count == 0:
            todo.append((first, end))
            continue
        expected, _ = generate_chunk(plan, probe, probe + 1)
        if identity != _identity(expected.rows["customers"][-1]):
            raise DemoDataConflict(
                f"customer {Ids.customer(probe)} on file is not the one seed {plan.seed} makes:"
                " the database holds other data; run with --replace to empty the customer"
                " file first, or use another database"
            )
        if count == end - first:
            report.customers_skipped += count
            if progress:
                progress(count)
        else:
            # Written by a run with another --customers: redo the chunk whole.
            await writer.delete_customers(first, end)
            todo.append((first, end))

    # Spawned, not forked: a forked worker would inherit this process's database sockets and,
    # if this process were killed, keep its half-done transaction open (and its locks held).
    executor: Executor | None = None
    if workers > 0:
        executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        ahead = workers + writers  # chunks generating or generated, waiting for a writer
        await _write_chunks(writer, plan, todo, executor, ahead, writers, report, progress)
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    await writer.finish()
    report.elapsed_s = time.perf_counter() - started
    return report


async def _write_chunks(
    writer: Writer,
    plan: Plan,
    todo: list[tuple[int, int]],
    executor: Executor | None,
    ahead: int,
    writers: int,
    report: LoadReport,
    progress: Callable[[int], None] | None,
) -> None:
    """Generate chunks in `executor`, `ahead` at a time, and write up to `writers` at once (chunks
    are independent, so their order on file does not matter)."""
    if executor is None:
        for first, end in todo:
            batch, generate_s = generate_chunk(plan, first, end)
            await _write_one(writer, batch, end - first, generate_s, report, progress)
        return
    loop = asyncio.get_running_loop()
    queue = iter(todo)
    generating: list[tuple[asyncio.Future[tuple[Batch, float]], int]] = []
    writing: set[asyncio.Task[None]] = set()

    def generate_next() -> None:
        following = next(queue, None)
        if following is not None:
            first, end = following
            future = loop.run_in_executor(executor, generate_chunk, plan, first, end)
            generating.append((future, end - first))

    for _ in range(ahead):
        generate_next()
    try:
        while generating:
            future, size = generating.pop(0)
            batch, generate_s = await future
            generate_next()
            writing.add(
                asyncio.create_task(_write_one(writer, batch, size, generate_s, report, progress))
            )
            if len(writing) >= writers:
                done, writing = await asyncio.wait(writing, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
        if writing:
            for task in (await asyncio.wait(writing))[0]:
                task.result()
    finally:
        for task in writing:
            task.cancel()


async def _write_one(
    writer: Writer,
    batch: Batch,
    customers: int,
    generate_s: float,
    report: LoadReport,
    progress: Callable[[int], None] | None,
) -> None:
    written = await writer.write(batch, CUSTOMER_TABLES)
    report.rows_written += written
    report.customers_written += customers
    report.generate_s += generate_s
    if progress:
        progress(customers)
