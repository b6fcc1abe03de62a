"""Reads run as the driver's prepared statements (integrations/prepared_reads.py) give what
SQLAlchemy's own execution gives, on SQLite and on PostgreSQL, and fail the same way."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from integrations.database import Database, UtcDateTime
from integrations.prepared_reads import PreparedRead, reading, writing

_metadata = MetaData()
# A table of the tests' own, with the column types whose values the driver alone would hand
# back differently (aware moments, JSON).
probes = Table(
    "prepared_read_probes",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("phone", String(32), index=True),
    Column("at", UtcDateTime),
    Column("tags", JSON),
)
AT = datetime(2026, 3, 21, 6, 0, tzinfo=UTC)
PHONE = "+989121234567"

BY_PHONE = PreparedRead(select(probes).where(probes.c.phone == bindparam("phone")))
ALL_IN_ORDER = PreparedRead(select(probes.c.id, probes.c.phone).order_by(probes.c.id))
SECOND = PreparedRead(select(probes.c.id.label("probe_id")).where(probes.c.id == 2))


@pytest.fixture
async def filled(database: Database) -> Database:
    async with database.engine.begin() as connection:
        await connection.run_sync(_metadata.create_all)
        await connection.execute(
            insert(probes),
            [
                {"id": 1, "phone": PHONE, "at": AT, "tags": {"tier": "gold", "n": [1, 2]}},
                {"id": 2, "phone": "+982188881234", "at": AT, "tags": None},
                {"id": 3, "phone": None, "at": None, "tags": []},
            ],
        )
    return database


async def test_a_row_reads_as_sqlalchemys_own_execution_reads_it(filled: Database) -> None:
    async with filled.autocommit() as connection:
        expected = (await connection.execute(BY_PHONE.statement, {"phone": PHONE})).one()

    row = await BY_PHONE.first(filled, {"phone": PHONE})

    assert row is not None
    assert tuple(row) == tuple(expected)
    assert row._fields == tuple(expected._fields) == ("id", "phone", "at", "tags")
    assert row.tags == {"tier": "gold", "n": [1, 2]}


async def test_moments_come_back_aware_and_in_utc(filled: Database) -> None:
    row = await BY_PHONE.first(filled, {"phone": PHONE})

    assert row is not None
    assert row.at == AT
    assert row.at.tzinfo == UTC


async def test_nothing_found_is_none(filled: Database) -> None:
    assert await BY_PHONE.first(filled, {"phone": "+10000000000"}) is None


async def test_values_written_into_the_statement_are_sent_and_labels_kept(
    filled: Database,
) -> None:
    row = await SECOND.first(filled)

    assert row is not None and row.probe_id == 2


async def test_all_rows_come_in_the_statements_order(filled: Database) -> None:
    rows = await ALL_IN_ORDER.all(filled)

    assert [(row.id, row.phone) for row in rows] == [(1, PHONE), (2, "+982188881234"), (3, None)]


async def test_several_reads_share_one_connection(filled: Database) -> None:
    async with reading(filled) as reader:
        first = await reader.first(BY_PHONE, {"phone": PHONE})
        rows = await reader.all(ALL_IN_ORDER)

    assert first is not None and first.id == 1
    assert len(rows) == 3


async def test_a_failed_read_is_sqlalchemys_error_and_never_quotes_its_values(
    database: Database,
) -> None:
    # The table was never created in this database.
    with pytest.raises(DBAPIError) as failure:
        await BY_PHONE.first(database, {"phone": PHONE})

    assert PHONE not in str(failure.value)
    # The connection went back whole: the next read works.
    async with database.engine.begin() as connection:
        await connection.run_sync(_metadata.create_all)
    assert await BY_PHONE.first(database, {"phone": PHONE}) is None


async def test_a_read_cut_off_by_a_time_limit_leaves_the_pool_serving(
    database: Database,
) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no sleep to cut off")
    slow = PreparedRead(select(func.pg_sleep(bindparam("s", type_=Float)).label("slept")))
    quick = PreparedRead(select(func.now().label("now")))

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await slow.first(database, {"s": 2.0})

    answers = await asyncio.gather(*(quick.first(database) for _ in range(20)))
    assert all(answer is not None for answer in answers)
    assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


ADD = PreparedRead(
    insert(probes)
    .values(
        id=bindparam("id", type_=Integer),
        phone=bindparam("phone", type_=String),
        at=bindparam("at", type_=UtcDateTime),
        tags=bindparam("tags", type_=JSON),
    )
    .returning(probes.c.id)
)


async def test_an_insert_runs_prepared_and_reads_back_as_written(filled: Database) -> None:
    async with reading(filled) as writer:
        added = await writer.one(ADD, {"id": 4, "phone": "+989350000000", "at": AT, "tags": [1]})

    assert added.id == 4
    row = await BY_PHONE.first(filled, {"phone": "+989350000000"})
    assert row is not None and (row.at, row.tags) == (AT, [1])


async def test_a_broken_unique_key_is_sqlalchemys_integrity_error_without_its_values(
    filled: Database,
) -> None:
    with pytest.raises(IntegrityError) as failure:
        async with reading(filled) as writer:
            await writer.run(ADD, {"id": 1, "phone": "+989350000001", "at": AT, "tags": None})

    assert "+989350000001" not in str(failure.value)
    assert await BY_PHONE.first(filled, {"phone": PHONE}) is not None  # the pool still serves


async def test_statements_in_writing_are_one_transaction_undone_whole_when_it_fails(
    filled: Database,
) -> None:
    with pytest.raises(IntegrityError):
        async with writing(filled) as writer:
            await writer.run(ADD, {"id": 5, "phone": "+989350000005", "at": AT, "tags": None})
            await writer.run(ADD, {"id": 1, "phone": "+989350000006", "at": AT, "tags": None})

    assert await BY_PHONE.first(filled, {"phone": "+989350000005"}) is None
    async with writing(filled) as writer:
        await writer.run(ADD, {"id": 5, "phone": "+989350000005", "at": AT, "tags": None})
    assert await BY_PHONE.first(filled, {"phone": "+989350000005"}) is not None
