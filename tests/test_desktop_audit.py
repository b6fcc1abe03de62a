"""What agents do with customers' files and the telephone, over real HTTP on loopback and a
real database: every whole file read is audited with who, whom, when and why; searches are
at least three characters and, like click-to-call and transfers, limited per agent; agents
dial only the numbers the settings allow, and every attempt is on record."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from popup_support import (
    RunningServer,
    add_agents,
    customer_on_file,
    desktop,
    logged_in,
    queue_call_events,
    serving,
    start_server,
)

from integrations.database import Database
from popup_server.audit import AuditLog, AuditRecord
from popup_server.events import CallPopup
from tamas.settings import Settings

LIMITED = Settings(agent_searches_per_hour=3, agent_dials_per_hour=2)


@pytest.fixture
async def server(database: Database) -> AsyncIterator[RunningServer]:
    async with serving(database, "101", "102", settings=LIMITED) as running:
        yield running


async def audit_of(database: Database, agent: str) -> list[AuditRecord]:
    return list(reversed(await AuditLog(database).for_agent(agent)))


async def test_a_file_opened_from_the_search_is_audited_with_agent_customer_and_reason(
    server: RunningServer, database: Database
) -> None:
    customer = await customer_on_file(database, "رضایی", "09121234567", "001234567")
    async with await logged_in(server, "101") as session:
        async with session.get("/api/customers", params={"q": "رضایی"}) as r:
            assert r.status == 200
            assert [c["id"] for c in await r.json()] == [customer.id]
        async with session.get(f"/api/customers/{customer.id}") as r:
            assert r.status == 200

    search, read = await audit_of(database, "101")
    assert (search.action, search.customer_id, search.allowed) == ("search", None, True)
    assert (read.action, read.reason, read.customer_id) == ("file_read", "search", customer.id)
    assert read.at >= search.at
    assert "رضایی" not in repr(vars(search))  # what was typed is not kept
    assert await audit_of(database, "102") == []


async def test_the_file_popped_for_a_ringing_call_is_audited_as_read_for_that_call(
    server: RunningServer, database: Database
) -> None:
    customer = await customer_on_file(database, "رضایی", "09121234567", "001234567")
    linkedid = f"{uuid.uuid4().int % 10**9}.7"
    async with await logged_in(server, "101") as session:
        desk = await desktop(session)
        assert server.parts.follower is not None
        for event in queue_call_events(linkedid, "09121234567", "علی رضایی", "101")["ring"]:
            server.parts.follower.feed(event)
        assert (await desk.popup(linkedid))["lookup"] == "found"

    [read] = await audit_of(database, "101")
    assert (read.action, read.reason) == ("file_read", "ringing_call")
    assert (read.customer_id, read.linkedid) == (customer.id, linkedid)


async def test_searches_need_three_characters_and_are_limited_per_agent(
    server: RunningServer,
) -> None:
    async with await logged_in(server, "101") as first, await logged_in(server, "102") as other:
        async with first.get("/api/customers", params={"q": "رض"}) as r:
            assert r.status == 400
            assert "3 characters" in (await r.json())["error"]
        for _ in range(3):  # agent_searches_per_hour = 3
            async with first.get("/api/customers", params={"q": "رضایی"}) as r:
                assert r.status == 200
        async with first.get("/api/customers", params={"q": "رضایی"}) as r:
            assert r.status == 429
            assert r.headers["Retry-After"]
        async with first.get("/api/customers/1") as r:
            assert r.status == 429  # reading files one by one counts too
        async with other.get("/api/customers", params={"q": "رضایی"}) as r:
            assert r.status == 200  # another agent has their own allowance


@pytest.mark.parametrize("query", ["abc\U0010ffff", "abc\ud7ff", "ab\x00c", "abc\ue000"])
async def test_a_search_with_a_character_no_one_types_is_a_400_not_a_500(
    server: RunningServer, query: str
) -> None:
    async with await logged_in(server, "101") as session:
        async with session.get("/api/customers", params={"q": query}) as r:
            assert r.status == 400
            assert (await r.json())["field"] == "q"


async def test_a_persian_name_with_a_zero_width_non_joiner_is_searched(
    server: RunningServer, database: Database
) -> None:
    customer = await customer_on_file(database, "نیک\u200cنام", "09121234567", "001234567")
    async with await logged_in(server, "101") as session:
        async with session.get("/api/customers", params={"q": "نیک\u200cنام"}) as r:
            assert r.status == 200
            assert [c["id"] for c in await r.json()] == [customer.id]


async def test_a_customer_id_too_large_for_any_customer_is_a_400(server: RunningServer) -> None:
    async with await logged_in(server, "101") as session:
        async with session.get(f"/api/customers/{10**22}") as r:
            assert r.status == 400
            assert "id" in (await r.json())["error"]


@pytest.mark.parametrize(
    "number", ["+44 20 7123 4567", "00442071234567", "+881612345678", "1234", "09091234"]
)
async def test_agents_cannot_call_numbers_outside_the_allowed_patterns(
    server: RunningServer, database: Database, number: str
) -> None:
    async with await logged_in(server, "101") as session:
        async with session.post("/api/originate", json={"number": number}) as r:
            assert r.status == 403
            assert (await r.json())["field"] == "number"
    [attempt] = await audit_of(database, "101")
    assert (attempt.action, attempt.allowed, attempt.refusal) == ("originate", False, "not_allowed")


async def test_click_to_call_is_audited_and_limited_per_agent(
    server: RunningServer, database: Database
) -> None:
    async with await logged_in(server, "101") as session:
        for number in ("+98 912 555 0002", "02122223333"):  # agent_dials_per_hour = 2
            async with session.post("/api/originate", json={"number": number}) as r:
                assert r.status == 503  # allowed; this test server has no Asterisk
        async with session.post("/api/originate", json={"number": "101"}) as r:
            assert r.status == 429
    records = await audit_of(database, "101")
    assert [(a.target, a.allowed) for a in records] == [
        ("09125550002", True),
        ("02122223333", True),
        ("101", False),
    ]
    assert records[-1].refusal == "rate_limited"


async def test_a_transfer_outside_the_allowed_patterns_is_refused_and_audited(
    server: RunningServer, database: Database
) -> None:
    linkedid = "1700000000.42"
    popup = {
        "linkedid": linkedid,
        "agent": "101",
        "state": "answered",
        "state_seq": 2,
        "state_at": "2026-11-30T10:00:00+00:00",
        "queue": "support",
        "transferred_from": None,
        "caller": {"number": "09121234567", "e164": "+989121234567", "name": "x"},
        "channels": {"agent": "Local/101@tamas-agents-00000001;1", "caller": "Local/s@c;1"},
        "lookup": "unknown",
        "summary": None,
        "customer": None,
        "ivr": None,
    }
    await server.parts.hub.deliver(CallPopup(popup).to_message())
    async with await logged_in(server, "101") as session:
        async with session.post(f"/api/calls/{linkedid}/transfer", json={"to": "+9005"}) as r:
            assert r.status == 403
            assert (await r.json())["field"] == "to"
        async with session.post(f"/api/calls/{linkedid}/transfer", json={"to": "102"}) as r:
            assert r.status == 503  # allowed; no Asterisk here
    refused, allowed = await audit_of(database, "101")
    assert (refused.action, refused.target, refused.allowed) == ("transfer", "009005", False)
    assert (allowed.target, allowed.linkedid, allowed.allowed) == ("102", linkedid, True)


async def test_the_dial_limit_is_shared_by_servers_on_one_database(database: Database) -> None:
    first = await start_server(database, settings=LIMITED, follow=False)
    second = await start_server(database, settings=LIMITED, follow=False)
    try:
        await add_agents(first, "101")
        async with await logged_in(first, "101") as one, await logged_in(second, "101") as two:
            async with one.post("/api/originate", json={"number": "102"}) as r:
                assert r.status == 503
            async with two.post("/api/originate", json={"number": "103"}) as r:
                assert r.status == 503
            async with one.post("/api/originate", json={"number": "104"}) as r:
                assert r.status == 429
    finally:
        await first.stop()
        await second.stop()


@pytest.mark.parametrize("query", ["رضا\U0010ffff", "رضا\ud7ff", "\U0010ffff\U0010ffff"])
async def test_the_customer_files_name_search_takes_any_last_character(
    database: Database, query: str
) -> None:
    from integrations.customer_file.sql import SqlCustomerFile

    await customer_on_file(database, "رضایی", "09121234567", "001234567")
    assert await SqlCustomerFile(database).search_customers(query) == []


async def test_registering_a_caller_audits_the_file_shown_back(
    server: RunningServer, database: Database
) -> None:
    async with await logged_in(server, "101") as session:
        new = {"family_name_fa": "کریمی", "phone": "09351112233", "language": "fa"}
        async with session.post("/api/customers", json=new) as r:
            assert r.status == 201, await r.text()
            customer_id = (await r.json())["customer"]["id"]
    [read] = await audit_of(database, "101")
    assert (read.action, read.reason, read.customer_id) == (
        "file_read",
        "registration",
        customer_id,
    )
