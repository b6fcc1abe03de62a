"""One open callback request per caller number and kind, whatever the channel: a caller who
presses 9 again and again (type-ahead), or asks again from another call, hears the tracking
number of the request already open, and the agents' list holds one task. Requests are callback
cases; on SQLite and PostgreSQL, concurrent requests included."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ivr_support import (
    STRANGER_PHONE,
    ScriptedCaller,
    build_customer_file,
    call_ivr,
)
from sqlalchemy import func, select

from cases import types
from cases.caller_requests import CALLBACK_TYPES, STALE_CLAIM, CallerRequestRow
from cases.tables import CaseRow, CaseTaskRow
from integrations.customer_file.adapters import open_customer_file
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from prompts.numbers import say_digits
from tamas.settings import Settings


async def _open_tasks(database: Database) -> int:
    """Open callback cases, each with its one unfinished task."""
    async with database.session() as db:
        cases = await db.scalar(
            select(func.count()).where(CaseRow.type.in_(CALLBACK_TYPES), CaseRow.status == "open")
        )
        tasks = await db.scalar(select(func.count()).where(CaseTaskRow.done_at.is_(None)))
    assert cases == tasks
    return int(cases or 0)


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


async def test_twenty_concurrent_requests_from_one_number_make_one_case(
    database: Database,
) -> None:
    customer_file = SqlCustomerFile(database)

    numbers = await asyncio.gather(
        *(customer_file.create_callback_task("callback", "09127654321") for _ in range(20))
    )

    assert len(set(numbers)) == 1
    assert await _open_tasks(database) == 1


async def test_a_closed_request_lets_the_caller_ask_again(database: Database) -> None:
    customer_file = SqlCustomerFile(database)
    first = await customer_file.create_callback_task("callback", "09121112233")
    assert await customer_file.update_callback_task(first, "1001", "done")

    second = await customer_file.create_callback_task("callback", "09121112233")

    assert second != first
    assert await _open_tasks(database) == 1


async def test_a_case_closed_on_the_cases_page_lets_the_caller_ask_again(
    database: Database,
) -> None:
    customer_file = SqlCustomerFile(database)
    first = await customer_file.create_callback_task("quote", "09121112244")
    await customer_file.own_records.requests.store.move(first, "closed", "agent:1001")

    second = await customer_file.create_callback_task("quote", "09121112244")

    assert second != first
    assert await _open_tasks(database) == 1


async def test_pressing_9_many_times_leaves_one_callback_task(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", *["9"] * 20, "~")
    await call_ivr(database, caller, STRANGER_PHONE)

    assert await _open_tasks(database) == 1
    async with database.session() as db:
        case = await db.scalar(select(CaseRow))
    assert case is not None and (case.type, case.channel) == ("callback", "ivr")
    # Every repeated request told the caller the one tracking number.
    assert caller.heard.count(say_digits(case.tracking_number, "en").text) >= 2


async def test_a_request_that_died_before_its_case_does_not_block_the_number(
    database: Database,
) -> None:
    # A claimant killed between claiming the key and opening its case leaves the key empty.
    async with database.session() as db:
        db.add(
            CallerRequestRow(
                open_key="callback:+989121112255:callback",
                kind="callback",
                phone="+989121112255",
                claimed_at=datetime.now(UTC) - STALE_CLAIM - timedelta(seconds=1),
            )
        )
        await db.commit()

    number = await SqlCustomerFile(database).create_callback_task("callback", "09121112255")

    assert number.startswith("3") and await _open_tasks(database) == 1


async def test_two_agents_taking_one_callback_at_once_one_gets_it(database: Database) -> None:
    customer_file = SqlCustomerFile(database)
    number = await customer_file.create_callback_task("claim_followup", "09121112266")

    taken = await asyncio.gather(
        *(customer_file.update_callback_task(number, agent, "assigned") for agent in ("1", "2"))
    )

    assert sorted(taken) == [False, True]
    [task] = await customer_file.callback_tasks_for_agent("1") + (
        await customer_file.callback_tasks_for_agent("2", include_unassigned=False)
    )
    assert task.assigned_agent == ("1" if taken[0] else "2")


async def test_requests_open_cases_of_the_types_file_the_settings_name(
    database: Database, tmp_path: Path
) -> None:
    shipped = types.DEFAULT_PATH.read_text(encoding="utf-8")
    ours = tmp_path / "types.yaml"
    # This insurer's claims team calls customers back.
    ours.write_text(
        shipped.replace(
            "    sla: callback\n    team: customer_care", "    sla: callback\n    team: claims"
        ),
        encoding="utf-8",
    )
    customer_file = open_customer_file(Settings(cases_types_path=str(ours)), database)

    number = await customer_file.create_callback_task("callback", "09121112277")

    async with database.session() as db:
        team = await db.scalar(select(CaseRow.team).where(CaseRow.tracking_number == number))
    assert team == "claims"
