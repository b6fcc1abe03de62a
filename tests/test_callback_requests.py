"""One open callback request per caller number and kind, whatever the channel: a caller who
presses 9 again and again (type-ahead), or asks again from another call, hears the tracking
number of the request already open, and the agents' list holds one task. On SQLite and
PostgreSQL, concurrent requests included."""

from __future__ import annotations

import asyncio

from ivr_support import (
    STRANGER_PHONE,
    ScriptedCaller,
    build_customer_file,
    call_ivr,
)
from sqlalchemy import func, select

from integrations.customer_file.service_requests import CallbackTask
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from prompts.numbers import say_digits


async def _open_tasks(database: Database) -> int:
    async with database.session() as db:
        count = await db.scalar(
            select(func.count()).where(CallbackTask.status.in_(("open", "assigned")))
        )
    return int(count or 0)


async def test_a_repeated_request_gets_the_open_requests_tracking_number(
    database: Database,
) -> None:
    customer_file = SqlCustomerFile(database)

    first = await customer_file.create_callback_task("callback", "09121234567")
    again = await customer_file.create_callback_task("callback", "+989121234567")
    renewal = await customer_file.create_callback_task("renewal", "09121234567")

    assert again == first  # the same number, however it was written
    assert renewal != first  # another kind of request is its own task
    assert await _open_tasks(database) == 2


async def test_concurrent_requests_from_one_number_make_one_task(database: Database) -> None:
    customer_file = SqlCustomerFile(database)

    numbers = await asyncio.gather(
        *(customer_file.create_callback_task("callback", "09127654321") for _ in range(10))
    )

    assert len(set(numbers)) == 1
    assert await _open_tasks(database) == 1


async def test_a_closed_request_lets_the_caller_ask_again(database: Database) -> None:
    customer_file = SqlCustomerFile(database)
    first = await customer_file.create_callback_task("callback", "09121112233")
    assert await customer_file.update_callback_task(first, "1001", "done")

    second = await customer_file.create_callback_task("callback", "09121112233")

    assert second != first


async def test_pressing_9_many_times_leaves_one_callback_task(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", *["9"] * 20, "~")
    await call_ivr(database, caller, STRANGER_PHONE)

    assert await _open_tasks(database) == 1
    async with database.session() as db:
        task = await db.scalar(select(CallbackTask))
    assert task is not None
    # Every repeated request told the caller the one tracking number.
    assert caller.heard.count(say_digits(task.tracking_number, "en").text) >= 2
