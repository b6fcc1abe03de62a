"""The popup server over real HTTP and websockets on loopback: logins, who sees which popup,
junk frames, reconnecting desktops, dispositions, and popups carried by Redis between two
server processes' worth of apps."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import jsonschema
import pytest
import redis.asyncio as redis
from popup_support import (
    PASSWORD,
    RunningServer,
    add_agents,
    client,
    customer_on_file,
    desktop,
    ivr_record,
    logged_in,
    national_id,
    queue_call_events,
    serving,
    start_server,
)
from sqlalchemy import update

from integrations.database import Database
from interactions.records import InteractionRecords
from popup_server.auth import LIMITER
from popup_server.events import CallPopup, CallStateChanged
from popup_server.models import AgentSession
from tamas.bus import RedisBus
from tamas.settings import Settings

SCHEMA = json.loads((Path(__file__).parents[1] / "docs" / "popup.schema.json").read_text())
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def server(database: Database) -> AsyncIterator[RunningServer]:
    async with serving(database, "101", "102") as running:
        yield running


def popup_for(agent: str, linkedid: str, state: str = "ringing", seq: int = 1) -> CallPopup:
    return CallPopup(
        {
            "linkedid": linkedid,
            "agent": agent,
            "state": state,
            "state_seq": seq,
            "state_at": datetime.now(UTC).isoformat(),
            "queue": "support",
            "transferred_from": None,
            "caller": {"number": "09121234567", "e164": "+989121234567", "name": "x"},
            "channels": {"agent": f"Local/{agent}@tamas-agents-00000001;1", "caller": "c"},
            "lookup": "unknown",
            "summary": None,
            "customer": None,
            "ivr": None,
        }
    )


# --- logging in ----------------------------------------------------------------------------


async def test_agent_logs_in_and_the_session_cookie_is_http_only(server: RunningServer) -> None:
    async with client(server) as session:
        async with session.post("/api/login", json={"agent": "101", "password": PASSWORD}) as r:
            assert r.status == 200
            assert (await r.json())["number"] == "101"
            cookie = r.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        async with session.get("/api/me") as r:
            assert (await r.json())["name"] == "Agent 101"
        async with session.post("/api/logout") as r:
            assert r.status == 200
        async with session.get("/api/me") as r:
            assert r.status == 401


async def test_wrong_password_and_junk_logins_are_refused(server: RunningServer) -> None:
    async with client(server) as session:
        async with session.post("/api/login", json={"agent": "101", "password": "nope"}) as r:
            assert r.status == 401
        async with session.post("/api/login", json={"agent": "999", "password": PASSWORD}) as r:
            assert r.status == 401
        async with session.post("/api/login", json=["not", "an", "object"]) as r:
            assert r.status == 400
        async with session.post("/api/login", data="agent=101") as r:
            assert r.status == 415  # only JSON: a cross-site form cannot log anyone in


async def test_logins_are_rate_limited_per_agent_number(server: RunningServer) -> None:
    async with client(server) as session:
        for _ in range(5):
            async with session.post("/api/login", json={"agent": "102", "password": "guess"}) as r:
                assert r.status == 401
        async with session.post("/api/login", json={"agent": "102", "password": PASSWORD}) as r:
            assert r.status == 429
            assert int(r.headers["Retry-After"]) > 0


async def test_an_expired_session_is_refused_everywhere(
    server: RunningServer, database: Database
) -> None:
    session = await logged_in(server, "101")
    async with session:
        async with database.session() as db:
            past = datetime.now(UTC) - timedelta(seconds=1)
            await db.execute(update(AgentSession).values(expires_at=past))
            await db.commit()
        async with session.get("/api/me") as r:
            assert r.status == 401
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect("/ws")
        assert refused.value.status == 401


async def test_pages_forbid_inline_scripts(server: RunningServer) -> None:
    async with client(server) as session, session.get("/") as r:
        assert r.status == 200
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"


# --- the websocket -------------------------------------------------------------------------


async def test_websocket_needs_a_login_and_the_same_origin(server: RunningServer) -> None:
    async with client(server) as anonymous:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await anonymous.ws_connect("/ws")
        assert refused.value.status == 401
    session = await logged_in(server, "101")
    async with session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect("/ws", headers={"Origin": "http://evil.example"})
        assert refused.value.status == 403


async def test_a_popup_reaches_its_agent_and_nobody_else(server: RunningServer) -> None:
    first, second = await logged_in(server, "101"), await logged_in(server, "102")
    async with first, second:
        desk_101, desk_102 = await desktop(first), await desktop(second)
        await server.parts.hub.deliver(popup_for("101", "1.1").to_message())
        frame = await desk_101.next("call.popup")
        assert frame["payload"]["linkedid"] == "1.1"
        assert await desk_102.quiet() == []


async def test_junk_frames_are_answered_on_that_connection_only(server: RunningServer) -> None:
    first, second = await logged_in(server, "101"), await logged_in(server, "102")
    async with first, second:
        junk_sender, bystander = await desktop(first), await desktop(second)
        for junk in ["not json", "[1,2]", '{"type": "subscribe", "agent": "102"}', "\x00\xff"]:
            await junk_sender.ws.send_str(junk)
            assert (await junk_sender.next("error"))["payload"]["error"] == "bad frame"
        await junk_sender.ws.send_bytes(b"\x89PNG")
        await junk_sender.next("error")
        # Asking for another agent's calls gets nothing: the audience decides, not the frame.
        await server.parts.hub.deliver(popup_for("102", "2.1").to_message())
        assert (await bystander.next("call.popup"))["payload"]["linkedid"] == "2.1"
        assert await junk_sender.quiet() == []

        await junk_sender.ws.send_str("x" * 10_000)  # over the frame limit: that socket closes
        closed = await junk_sender.ws.receive()
        assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        await server.parts.hub.deliver(popup_for("102", "2.2").to_message())
        assert (await bystander.next("call.popup"))["payload"]["linkedid"] == "2.2"


async def test_a_desktop_that_keeps_sending_junk_is_disconnected(server: RunningServer) -> None:
    session = await logged_in(server, "101")
    async with session:
        desk = await desktop(session)
        for _ in range(10):
            await desk.ws.send_str("junk")
        while (await desk.ws.receive()).type is aiohttp.WSMsgType.TEXT:
            pass
        assert desk.ws.close_code == 1008


async def test_a_reconnecting_desktop_gets_the_call_still_ringing(server: RunningServer) -> None:
    hub = server.parts.hub
    await hub.deliver(popup_for("101", "3.1").to_message())
    await hub.deliver(popup_for("101", "3.2").to_message())
    await hub.deliver(
        CallStateChanged("3.2", "101", "answered", 2, datetime.now(UTC).isoformat()).to_message()
    )
    await hub.deliver(
        CallStateChanged("3.1", "101", "missed", 3, datetime.now(UTC).isoformat()).to_message()
    )
    session = await logged_in(server, "101")
    async with session:
        desk = await desktop(session)
        replayed = await desk.quiet()
        assert [(f["type"], f["payload"]["linkedid"]) for f in replayed] == [
            ("call.popup", "3.2"),
            ("call.state", "3.2"),
        ]
        assert replayed[1]["payload"]["state"] == "answered"


# --- calls followed from AMI events ---------------------------------------------------------


async def test_queue_call_pops_the_callers_file_and_the_disposition_is_saved(
    server: RunningServer, database: Database
) -> None:
    customer = await customer_on_file(
        database, "رضایی", "09121234567", "001234567", given_name="علی"
    )
    linkedid = f"{uuid.uuid4().int % 10**9}.7"
    await ivr_record(database, linkedid, "+989121234567", customer.id)
    events = queue_call_events(linkedid, "09121234567", "علی رضایی", "101")
    session, other = await logged_in(server, "101"), await logged_in(server, "102")
    async with session, other:
        desk, other_desk = await desktop(session), await desktop(other)
        follower = server.parts.follower
        assert follower is not None
        for event in events["ring"]:
            follower.feed(event)
        # Who is calling comes at once; the whole file follows in a second popup.
        first = (await desk.next("call.popup"))["payload"]
        jsonschema.validate(first, SCHEMA)
        assert (first["lookup"], first["summary"]["name_fa"]) == ("loading", "علی رضایی")
        assert first["ivr"]["identified"] is True
        popup = await desk.popup(linkedid)
        jsonschema.validate(popup, SCHEMA)
        assert popup["lookup"] == "found"
        assert popup["customer"]["customer"]["name_fa"] == "علی رضایی"
        assert popup["customer"]["customer"]["tier"] == "gold"
        masked = popup["customer"]["national_id_masked"]
        assert masked.startswith("001") and "4567" not in masked  # never the whole ID
        assert popup["customer"]["claims"][0]["stage"] == "assessment"
        assert popup["ivr"]["identified"] is True
        assert popup["ivr"]["menu_path"][-1] == {"menu": "claim_status"}

        for event in events["answer"]:
            follower.feed(event)
        assert (await desk.next("call.state"))["payload"]["state"] == "answered"
        for event in events["hangup"]:
            follower.feed(event)
        assert (await desk.next("call.state"))["payload"]["state"] == "ended"

        async with other.post(
            f"/api/calls/{linkedid}/disposition", json={"disposition": "resolved"}
        ) as r:
            assert r.status == 403  # not 102's call
        async with session.post(
            f"/api/calls/{linkedid}/disposition",
            json={"disposition": "resolved", "notes": "گفتم خسارت در مرحله ارزیابی است"},
        ) as r:
            assert r.status == 200, await r.text()
        record = await InteractionRecords(database).load(linkedid)
        assert record is not None
        assert (record.agent, record.disposition) == ("101", "resolved")
        assert record.notes == "گفتم خسارت در مرحله ارزیابی است"
        async with session.get("/api/recent-calls") as r:
            assert [call["linkedid"] for call in await r.json()] == [linkedid]
        assert await other_desk.quiet() == []


async def test_unknown_number_gets_a_new_caller_popup(server: RunningServer) -> None:
    events = queue_call_events("9.1", "+79161234567", "Иван Петров", "101")
    session = await logged_in(server, "101")
    async with session:
        desk = await desktop(session)
        assert server.parts.follower is not None
        for event in events["ring"]:
            server.parts.follower.feed(event)
        popup = await desk.popup()
        jsonschema.validate(popup, SCHEMA)
        assert (popup["lookup"], popup["customer"]) == ("unknown", None)
        assert popup["caller"] == {
            "number": "+79161234567",
            "e164": "+79161234567",
            "name": "Иван Петров",
        }


async def test_agent_registers_a_new_caller_and_errors_name_the_field(
    server: RunningServer,
) -> None:
    session = await logged_in(server, "101")
    async with session:
        bad = {"family_name_fa": "کریمی", "national_id": "1234567890", "phone": "09351112233"}
        async with session.post("/api/customers", json=bad) as r:
            assert r.status == 400
            assert (await r.json())["field"] == "national_id"
        good = dict(bad, national_id=national_id("005566778"))
        async with session.post("/api/customers", json=good) as r:
            assert r.status == 201, await r.text()
            assert (await r.json())["customer"]["family_name_fa"] == "کریمی"
        async with session.get("/api/customers", params={"q": "09351112233"}) as r:
            assert [c["family_name_fa"] for c in await r.json()] == ["کریمی"]


async def test_call_control_without_asterisk_says_so(server: RunningServer) -> None:
    session = await logged_in(server, "101")
    async with session:
        async with session.post("/api/originate", json={"number": "09121234567"}) as r:
            assert r.status == 503
        async with session.post("/api/originate", json={"number": "0912; Hangup"}) as r:
            assert r.status == 400
        async with session.post("/api/calls/nope/hangup") as r:
            assert r.status == 404


# --- several processes through Redis --------------------------------------------------------


async def test_agent_on_another_server_gets_the_popup_through_redis(database: Database) -> None:
    channel = f"tamas:test:{uuid.uuid4().hex}"
    follower_app = await start_server(database, bus=RedisBus(REDIS_URL, channel), follow=True)
    desk_app = await start_server(database, bus=RedisBus(REDIS_URL, channel), follow=False)
    try:
        await add_agents(follower_app, "101")
        session = await logged_in(desk_app, "101")
        async with session:
            desk = await desktop(session)
            events = queue_call_events("5.5", "09121234567", "x", "101")
            assert follower_app.parts.follower is not None
            for event in events["ring"]:
                follower_app.parts.follower.feed(event)
            popup = (await desk.next("call.popup"))["payload"]
            assert popup["linkedid"] == "5.5"
            # ...and a desktop reconnecting to the other server gets the ringing call too.
            await desk.ws.close()
            again = await desktop(session)
            assert [f["payload"]["linkedid"] for f in await again.quiet()] == ["5.5"]
    finally:
        await desk_app.stop()
        await follower_app.stop()


async def test_a_dead_redis_does_not_stop_the_server(database: Database) -> None:
    bus = RedisBus("redis://127.0.0.1:1/0", retry_max_s=0.2)
    running = await start_server(database, bus=bus, settings=Settings())
    try:
        await add_agents(running, "101")
        session = await logged_in(running, "101")
        async with session:
            await desktop(session)
            assert running.parts.follower is not None
            for event in queue_call_events("6.6", "0912", "x", "101")["ring"]:
                running.parts.follower.feed(event)  # publish fails: logged, nothing crashes
            await asyncio.sleep(0.2)
            async with session.get("/api/me") as r:
                assert r.status == 200
    finally:
        await running.stop()


async def test_agent_sees_the_callback_tasks_waiting_for_them(
    server: RunningServer, database: Database
) -> None:
    from integrations.customer_file.sql import SqlCustomerFile

    tracking = await SqlCustomerFile(database).create_callback_task(
        "renewal", "+989121234567", note="تمدید بیمه‌نامه بدنه"
    )
    session = await logged_in(server, "101")
    async with session, session.get("/api/callbacks") as r:
        tasks = await r.json()
    assert [(t["tracking_number"], t["kind"], t["note"]) for t in tasks] == [
        (tracking, "renewal", "تمدید بیمه‌نامه بدنه")
    ]
    # A callback case: its number is the case's, and its task's control date is when it is due.
    assert tracking.startswith("3") and len(tracking) == 9 and tasks[0]["due_at"]

    # Taken by another agent, it leaves 101's list; 101 sees only their own and nobody's.
    customer_file = SqlCustomerFile(database)
    assert await customer_file.update_callback_task(tracking, "102", "assigned")
    session = await logged_in(server, "101")
    async with session, session.get("/api/callbacks") as r:
        assert await r.json() == []


async def test_the_websocket_closes_when_the_session_expires(database: Database) -> None:
    running = await start_server(database, settings=Settings(agent_session_ttl_s=3))
    try:
        await add_agents(running, "101")
        session = await logged_in(running, "101")
        async with session:
            desk = await desktop(session)
            while (await desk.ws.receive()).type is aiohttp.WSMsgType.TEXT:
                pass
            assert desk.ws.close_code == 4001  # the desktop shows the login form again
    finally:
        await running.stop()


async def test_failed_logins_count_across_servers_sharing_redis(database: Database) -> None:
    settings = Settings(redis_url=REDIS_URL)
    first, second = (
        await start_server(database, settings=settings),
        await start_server(database, settings=settings, follow=False),
    )
    number = str(uuid.uuid4().int % 10**8 + 10**8)
    limiter = first.app[LIMITER]
    keys = [
        "tamas:login-failures:" + limiter.key("agent", number),
        "tamas:login-failures:" + limiter.key("addr", "127.0.0.1"),
    ]
    cleanup = redis.from_url(REDIS_URL)
    await cleanup.delete(*keys)
    try:
        await add_agents(first, number)
        for attempt in range(5):
            server = first if attempt % 2 else second  # guesses spread over both servers
            async with (
                client(server) as session,
                session.post("/api/login", json={"agent": number, "password": "guess"}) as r,
            ):
                assert r.status == 401
        async with (
            client(first) as session,
            session.post("/api/login", json={"agent": number, "password": PASSWORD}) as r,
        ):
            assert r.status == 429
    finally:
        await cleanup.delete(*keys)
        await cleanup.aclose()
        await second.stop()
        await first.stop()
