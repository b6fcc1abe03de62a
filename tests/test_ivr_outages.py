"""Outages degrade, they don't drop callers: PostgreSQL going away in the middle of a call
(its connections killed and new ones refused, as in a failover) is said to the caller, who is
offered an agent; the call's outcome says the system failed them."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import asyncpg
import pytest
from ivr_support import (
    NATIONAL_ID,
    STRANGER_PHONE,
    ScriptedCaller,
    build_customer_file,
    call_ivr,
    en,
    keyed,
)
from sqlalchemy.engine import make_url

from integrations.database import Database

ADMIN_DSN = os.environ.get("TAMAS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
DOWN = "!"  # script item: PostgreSQL goes away before the caller's next key


class Postgres:
    """Takes the test database away (and back) from under the running code."""

    def __init__(self, database: Database) -> None:
        self.name = make_url(database.url).database

    async def _admin(self, *statements: str) -> None:
        admin = await asyncpg.connect(f"{ADMIN_DSN}/postgres")
        try:
            for statement in statements:
                await admin.execute(statement)
        finally:
            await admin.close()

    async def go_down(self) -> None:
        await self._admin(
            f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false',
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{self.name}' AND pid <> pg_backend_pid()",
        )

    async def come_back(self) -> None:
        await self._admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')


class CallerDuringAnOutage(ScriptedCaller):
    postgres: Postgres

    async def _maybe_outage(self) -> None:
        if self.script and self.script[0] == DOWN:
            self.script.pop(0)
            await self.postgres.go_down()

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        await self._maybe_outage()
        return await super().wait_for_digit(timeout_ms)

    async def read_digits(self, timeout_ms: int, max_digits: int) -> str:
        await self._maybe_outage()
        return await super().read_digits(timeout_ms, max_digits)


@pytest.fixture
async def postgres(database: Database) -> AsyncIterator[Postgres]:
    if not database.url.startswith("postgresql"):
        pytest.skip("the outage is PostgreSQL's")
    server = Postgres(database)
    try:
        yield server
    finally:
        await server.come_back()


def caller(postgres: Postgres, *keys: str) -> CallerDuringAnOutage:
    scripted = CallerDuringAnOutage(ScriptedCaller.keys(*keys).script)
    scripted.postgres = postgres
    return scripted


async def test_a_database_lost_mid_call_is_said_and_an_agent_is_offered_and_taken(
    database: Database, postgres: Postgres
) -> None:
    await build_customer_file(database)
    script = caller(postgres, "2", "4", "1", DOWN, NATIONAL_ID + "#", "0", "~")
    session = await call_ivr(database, script, STRANGER_PHONE)

    assert en("lookup_unavailable") in script.heard
    assert en("offer_agent") in script.heard
    assert "agent_reason" in keyed(session)
    assert session.outcome == "queued"


async def test_a_caller_who_declines_the_agent_after_an_outage_ends_system_error(
    database: Database, postgres: Postgres
) -> None:
    await build_customer_file(database)
    script = caller(postgres, "2", "4", "1", DOWN, NATIONAL_ID + "#", "~", "H")
    session = await call_ivr(database, script, STRANGER_PHONE)

    assert en("lookup_unavailable") in script.heard
    assert session.outcome == "system_error"
    assert session.outcome_detail == "customer"


async def test_a_pin_check_on_a_lost_database_is_an_outage_too(
    database: Database, postgres: Postgres
) -> None:
    """The PIN check is not wrapped in a timed lookup: its driver error still reaches the
    caller as an apology, not as a call ended `failed`."""
    await build_customer_file(database)
    script = caller(postgres, "2", "4", "1", NATIONAL_ID + "#", DOWN, "1357#", "~", "H")
    session = await call_ivr(database, script, STRANGER_PHONE)

    assert en("lookup_unavailable") in script.heard
    assert session.outcome == "system_error"
