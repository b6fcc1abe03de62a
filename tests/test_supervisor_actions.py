"""Supervisors' actions on the real Asterisk sandbox: a pause with its reason shows in
`QueueStatus`, logging an agent out removes them from the queue, listening rings the
supervisor's own (Local) phone and ChanSpy joins the agent's call; each is audited, and the
wrong targets are refused with a reason."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from popup_support import PASSWORD, RunningServer, logged_in, start_server
from test_supervisor_wallboard_live import agent_event, member

from integrations.database import Database
from supervisors.wallboard import Wallboard
from supervisors.web import PAGES
from tamas.asterisk.ami import AmiClient
from tamas.asterisk.sandbox import cli
from tamas.settings import Settings

pytestmark = pytest.mark.asterisk

# A member of our own in the shared `support` queue, paused from the moment it is added, so
# no call of another test ever rings it.
MEMBER = "Local/177@tamas-agents/n"


@pytest.fixture(scope="module")
def supervisors_dialplan(asterisk_sandbox: Settings) -> Settings:
    """The sandbox with dialplans/supervisors.conf loaded (an older sandbox is updated)."""
    from tamas.asterisk import sandbox

    if "Context 'tamas-supervisors' created" not in cli(
        asterisk_sandbox, "dialplan show tamas-supervisors"
    ):
        sandbox.up(asterisk_sandbox)
    return asterisk_sandbox


@pytest.fixture
async def following(
    supervisors_dialplan: Settings, database: Database
) -> AsyncIterator[RunningServer]:
    ami = AmiClient.from_settings(supervisors_dialplan, name="supervisor-test")
    running = await start_server(database, ami=ami, settings=supervisors_dialplan)
    await running.parts.directory.create_agent(
        "150",
        PASSWORD,
        "Local/150@tamas-agents",
        name="Supervisor",
        roles="agent,supervisor",
        password_cost=2**10,
    )
    await ami.wait_connected(timeout_s=10)
    try:
        yield running
    finally:
        await running.stop()


def board_of(server: RunningServer) -> Wallboard:
    board = server.app[PAGES].wallboard
    assert board is not None
    return board


async def member_status(ami: AmiClient, interface: str) -> dict[str, str] | None:
    reply = await ami.send_action({"Action": "QueueStatus", "Queue": "support"})
    for event in reply.events:
        if event.get("Event") == "QueueMember" and event.get("Location") == interface:
            return {str(k): str(v) for k, v in event.items()}
    return None


async def until(condition: object, timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not callable(condition) or not condition():  # noqa: ASYNC110 - polls the board
            await asyncio.sleep(0.05)


async def test_a_pause_with_its_reason_shows_in_queue_status_and_log_out_removes_the_member(
    following: RunningServer, supervisors_dialplan: Settings
) -> None:
    ami = AmiClient.from_settings(supervisors_dialplan, name="supervisor-test-check")
    await ami.connect()
    board = board_of(following)
    try:
        added = await ami.send_action(
            {
                "Action": "QueueAdd",
                "Queue": "support",
                "Interface": MEMBER,
                "MemberName": "Agent 177",
                "Paused": "true",
                "Reason": "joining",
            }
        )
        assert added.success, added.message
        await until(lambda: board.live.agent_by_name("177") is not None)
        async with await logged_in(following, "150") as boss:
            reply = await boss.post(
                "/api/supervisors/pause", json={"agent": "177", "reason": "coaching"}
            )
            assert reply.status == 200, await reply.text()
            status = await member_status(ami, MEMBER)
            assert status is not None
            assert (status["Paused"], status["PausedReason"]) == ("1", "coaching")
            # The board heard it from Asterisk, not from our request.
            await until(
                lambda: board.live.agents["local/177@tamas-agents"].pause_reason == "coaching"
            )

            # Unpaused for a moment (then logged out at once, before a call can find it).
            reply = await boss.post("/api/supervisors/unpause", json={"agent": "Agent 177"})
            assert reply.status == 200, await reply.text()
            status = await member_status(ami, MEMBER)
            assert status is not None and status["Paused"] == "0"

            reply = await boss.post("/api/supervisors/logout", json={"agent": "177"})
            assert reply.status == 200, await reply.text()
            assert (await reply.json())["queues"] == ["support"]
            assert await member_status(ami, MEMBER) is None
            await until(lambda: board.live.agent_by_name("177") is None)
    finally:
        await ami.send_action({"Action": "QueueRemove", "Queue": "support", "Interface": MEMBER})
        await ami.close()
    rows = await following.app[PAGES].parts.audit.for_agent("150")
    assert [(row.action, row.target) for row in reversed(rows)] == [
        ("sv_pause", "Agent 177:coaching"),
        ("sv_unpause", "Agent 177"),
        ("sv_logout", "Agent 177"),
    ]


@pytest.mark.parametrize("mode", ["listen", "whisper", "barge"])
async def test_spying_rings_the_supervisors_phone_and_chanspy_joins_the_agents_call(
    following: RunningServer, supervisors_dialplan: Settings, mode: str
) -> None:
    ami = AmiClient.from_settings(supervisors_dialplan, name="supervisor-test-call")
    await ami.connect()
    spied: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
    names: dict[str, str] = {}
    call_id = f"spy-{uuid.uuid4().hex[:12]}"

    def on_event(event: object) -> None:
        fields = {str(k): str(v) for k, v in dict(event).items()}  # type: ignore[call-overload]
        if fields.get("Event") == "Newchannel" and fields.get("Uniqueid") == call_id:
            names["agent"] = fields["Channel"]
        if fields.get("Event") == "ChanSpyStart" and not spied.done():
            if fields.get("SpyeeChannel") == names.get("agent"):
                spied.set_result(fields)

    ami.on_event("*", on_event)
    try:
        # A call in progress on the "agent's" channel: a Local pair whose ;1 leg waits.
        await ami.originate(
            "Local/s@tamas-caller",
            application="Wait",
            data="20",
            channel_id=call_id,
            other_channel_id=f"{call_id}-2",
            variables={"TAMAS_HOLD_S": "20"},
            timeout_ms=10_000,
        )
        await until(lambda: "agent" in names)
        board = board_of(following)
        board.feed(member("QueueMemberAdded", "178", Paused="1"))
        board.feed({**agent_event("AgentConnect", "178", call_id), "DestChannel": names["agent"]})
        async with await logged_in(following, "150") as boss:
            reply = await boss.post("/api/supervisors/spy", json={"agent": "178", "mode": mode})
            assert reply.status == 200, await reply.text()
            assert (await reply.json())["phone"] == "Local/150@tamas-agents"
            event = await asyncio.wait_for(spied, timeout=15)
            assert event["SpyerChannel"].startswith("Local/150@tamas-agents")
    finally:
        if "agent" in names:
            await ami.send_action({"Action": "Hangup", "Channel": names["agent"]})
        await ami.close()
    rows = await following.app[PAGES].parts.audit.for_agent("150")
    assert [(row.action, row.target) for row in rows] == [(f"sv_{mode}", "Agent 178")]


async def test_a_waiting_caller_moved_to_another_queue_joins_it(
    following: RunningServer, supervisors_dialplan: Settings
) -> None:
    ami = AmiClient.from_settings(supervisors_dialplan, name="supervisor-test-move")
    await ami.connect()
    joined: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
    names: dict[str, str] = {}
    call_id = f"move-{uuid.uuid4().hex[:12]}"

    def on_event(event: object) -> None:
        fields = {str(k): str(v) for k, v in dict(event).items()}  # type: ignore[call-overload]
        if fields.get("Event") == "Newchannel" and fields.get("Uniqueid") == call_id:
            names["caller"] = fields["Channel"]
        if fields.get("Event") == "QueueCallerJoin" and fields.get("Uniqueid") == call_id:
            if not joined.done():
                joined.set_result(fields)

    ami.on_event("*", on_event)
    try:
        # A caller's channel (a Local pair whose ;1 leg waits), shown waiting in `support`.
        await ami.originate(
            "Local/s@tamas-caller",
            application="Wait",
            data="20",
            channel_id=call_id,
            other_channel_id=f"{call_id}-2",
            variables={"TAMAS_HOLD_S": "20"},
            timeout_ms=10_000,
        )
        await until(lambda: "caller" in names)
        board = board_of(following)
        board.feed(
            {
                "Event": "QueueCallerJoin",
                "Queue": "support",
                "Uniqueid": call_id,
                "Linkedid": call_id,
                "Channel": names["caller"],
                "CallerIDNum": "09121234567",
            }
        )
        async with await logged_in(following, "150") as boss:
            reply = await boss.post(
                "/api/supervisors/move", json={"uniqueid": call_id, "queue": "priority"}
            )
            assert reply.status == 200, await reply.text()
            event = await asyncio.wait_for(joined, timeout=10)
            assert event["Queue"] == "priority"
    finally:
        if "caller" in names:
            await ami.send_action({"Action": "Hangup", "Channel": names["caller"]})
        await ami.close()
    rows = await following.app[PAGES].parts.audit.for_agent("150")
    assert [(row.action, row.target) for row in rows] == [("sv_move", "support>priority")]


async def test_a_member_fixed_in_queues_conf_cannot_be_logged_out_and_the_refusal_says_why(
    following: RunningServer,
) -> None:
    board = board_of(following)
    await until(lambda: board.live.agent_by_name("101") is not None)  # from QueueStatus
    async with await logged_in(following, "150") as boss:
        reply = await boss.post("/api/supervisors/logout", json={"agent": "101"})
        assert reply.status == 409
        assert "pause them instead" in (await reply.json())["error"]


async def test_wrong_targets_are_refused_with_the_reason(following: RunningServer) -> None:
    board = board_of(following)
    board.feed(member("QueueMemberAdded", "179", Paused="1"))
    async with await logged_in(following, "150") as boss:
        cases = [
            ("/api/supervisors/spy", {"agent": "179", "mode": "listen"}, 409, "not on a call"),
            ("/api/supervisors/spy", {"agent": "179", "mode": "shout"}, 400, "mode"),
            ("/api/supervisors/pause", {"agent": "999", "reason": "x"}, 404, "no agent"),
            ("/api/supervisors/move", {"uniqueid": "gone", "queue": "priority"}, 404, "waiting"),
        ]
        for path, body, status, words in cases:
            reply = await boss.post(path, json=body)
            assert reply.status == status, (path, body)
            assert words in (await reply.json())["error"]
    assert await following.app[PAGES].parts.audit.for_agent("150") == []
