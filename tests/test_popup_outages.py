"""The popup server under lost events and misuse: calls whose hang-up never came are swept on
a timer, the disposition belongs to the agent who answered (not the first one rung), and an
agent's open desktops are capped."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from popup_support import (
    RunningServer,
    add_agents,
    desktop,
    ivr_record,
    logged_in,
    queue_call_events,
    serving,
    start_server,
)

from integrations.database import Database
from interactions.records import InteractionRecords
from popup_server import follower as follower_module
from popup_server.websocket import MAX_DESKTOPS_PER_AGENT


@pytest.fixture
async def server(database: Database) -> AsyncIterator[RunningServer]:
    async with serving(database, "101", "102") as running:
        yield running


async def test_a_call_whose_hang_up_was_lost_is_ended_by_the_sweep(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(follower_module, "SWEEP_EVERY_S", 0.2)
    monkeypatch.setattr(follower_module, "CALL_MAX_AGE_S", 0.5)
    running = await start_server(database)
    try:
        await add_agents(running, "101")
        follower = running.parts.follower
        assert follower is not None
        linkedid = f"{uuid.uuid4().int % 10**9}.3"
        session = await logged_in(running, "101")
        async with session:
            desk = await desktop(session)
            for event in queue_call_events(linkedid, "09121234567", "علی", "101")["ring"]:
                follower.feed(event)
            assert (await desk.next("call.popup"))["payload"]["state"] == "ringing"
            # ...and the Hangup event is lost. The sweep ends the call all the same.
            state = await desk.next("call.state", timeout_s=5)
            assert (state["payload"]["linkedid"], state["payload"]["state"]) == (linkedid, "missed")
            assert linkedid not in follower.tracker.calls
    finally:
        await running.stop()


async def test_the_disposition_belongs_to_the_agent_who_answered_not_the_first_rung(
    server: RunningServer, database: Database
) -> None:
    linkedid = f"{uuid.uuid4().int % 10**9}.9"
    await ivr_record(database, linkedid, "+989121234567", None)
    first, second = await logged_in(server, "101"), await logged_in(server, "102")
    follower = server.parts.follower
    assert follower is not None
    async with first, second:
        first_desk, second_desk = await desktop(first), await desktop(second)
        calls = {
            agent: queue_call_events(
                linkedid, "09121234567", "علی", agent, serial=f"0000000{agent[-1]}"
            )
            for agent in ("101", "102")
        }
        # The queue rings 101 first (who does not pick up), then 102, who answers.
        for event in calls["101"]["ring"]:
            follower.feed(event)
        assert (await first_desk.next("call.popup"))["payload"]["state"] == "ringing"
        follower.feed({**calls["101"]["ring"][-1], "Event": "AgentRingNoAnswer"})
        assert (await first_desk.next("call.state"))["payload"]["state"] == "missed"
        follower.feed(calls["102"]["ring"][-1])
        await second_desk.next("call.popup")
        for event in calls["102"]["answer"]:
            follower.feed(event)
        assert (await second_desk.next("call.state"))["payload"]["state"] == "answered"

        async with first.post(
            f"/api/calls/{linkedid}/disposition", json={"disposition": "resolved"}
        ) as reply:
            assert reply.status == 403
        async with second.post(
            f"/api/calls/{linkedid}/disposition", json={"disposition": "follow_up"}
        ) as reply:
            assert reply.status == 200, await reply.text()
    record = await InteractionRecords(database).load(linkedid)
    assert record is not None
    assert (record.agent, record.disposition) == ("102", "follow_up")


async def test_an_agent_may_open_a_few_desktops_and_no_more(server: RunningServer) -> None:
    session = await logged_in(server, "101")
    async with session:
        open_desks = [await desktop(session) for _ in range(MAX_DESKTOPS_PER_AGENT)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect("/ws")
        assert refused.value.status == 429
        await open_desks[0].ws.close()
        # One closed: the next may open (the server has noticed the close once it answers).
        for _ in range(50):
            try:
                open_desks[0] = await desktop(session)
                break
            except aiohttp.WSServerHandshakeError:
                continue
        else:
            raise AssertionError("a closed desktop's place was not freed")
        for desk in open_desks:
            await desk.ws.close()
