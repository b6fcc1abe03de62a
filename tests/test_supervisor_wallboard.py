"""The wallboard over HTTP and the websocket: only supervisors see it or act, it is pushed to
supervisors within a second of the AMI event (never to plain agents), today's figures and
abandoned callers come from the event store, a call back creates one task per number, and
the page in Chromium shows it all."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import jdatetime
import jsonschema
import pytest
from playwright.async_api import Browser, expect
from popup_support import (
    PASSWORD,
    RunningServer,
    customer_on_file,
    desktop,
    logged_in,
    start_server,
)
from test_supervisor_wallboard_live import agent_event, caller, member

from integrations.database import Database
from interactions.outcomes import Outcome
from interactions.records import CallPart, InteractionRecords
from ivr.hours import TEHRAN
from supervisors.events import EventStore, parse_queue_log_line
from supervisors.wallboard import Wallboard, WallboardMirror
from supervisors.web import PAGES
from tamas.bus import InProcessBus

SCHEMA = json.loads(
    (Path(__file__).parents[1] / "docs" / "wallboard.schema.json").read_text(encoding="utf-8")
)
ACTIONS = {
    "/api/supervisors/pause": {"agent": "101", "reason": "lunch"},
    "/api/supervisors/unpause": {"agent": "101"},
    "/api/supervisors/logout": {"agent": "101"},
    "/api/supervisors/spy": {"agent": "101", "mode": "listen"},
    "/api/supervisors/move": {"uniqueid": "u1", "queue": "priority"},
    "/api/wallboard/callback": {"callid": "c1"},
}


@pytest.fixture
async def server(database: Database) -> AsyncIterator[RunningServer]:
    """A popup server with agent 101 and supervisor 150."""
    running = await start_server(database)
    directory = running.parts.directory
    await directory.create_agent(
        "101", PASSWORD, "Local/101@tamas-agents", name="Agent 101", password_cost=2**10
    )
    await directory.create_agent(
        "150",
        PASSWORD,
        "Local/150@tamas-agents",
        name="Supervisor",
        roles="agent,supervisor",
        password_cost=2**10,
    )
    try:
        yield running
    finally:
        await running.stop()


def wallboard_of(server: RunningServer) -> Wallboard:
    board = server.app[PAGES].wallboard
    assert board is not None
    return board


async def test_a_plain_agent_is_refused_the_wallboard_and_every_action(
    server: RunningServer,
) -> None:
    anonymous = await logged_in(server, "101")
    anonymous.cookie_jar.clear()
    async with anonymous, await logged_in(server, "101") as agent:
        assert (await anonymous.get("/api/wallboard")).status == 401
        assert (await agent.get("/api/wallboard")).status == 403
        for path, body in ACTIONS.items():
            assert (await anonymous.post(path, json=body)).status == 401, path
            reply = await agent.post(path, json=body)
            assert reply.status == 403, path
            assert "supervisor" in (await reply.json())["error"]


async def test_supervisors_get_the_board_within_a_second_and_agents_never_do(
    server: RunningServer,
) -> None:
    board = wallboard_of(server)
    async with await logged_in(server, "150") as boss, await logged_in(server, "101") as agent:
        boss_ws, agent_ws = await desktop(boss), await desktop(agent)
        board.feed(member("QueueMemberAdded", "101"))
        board.feed(member("QueueMemberAdded", "102", queue="priority"))
        sent = time.time()
        board.feed(caller("QueueCallerJoin", "u1", Position="1", Count="1"))
        board.feed(agent_event("AgentCalled", "101", "u1"))
        frame = await boss_ws.next("wallboard.changed", timeout_s=2)
        while not frame["payload"]["queues"].get("support", {}).get("calls_waiting"):
            frame = await boss_ws.next("wallboard.changed", timeout_s=2)
        assert time.time() - sent < 1.0
        assert frame["observed_at"] is not None
        support = frame["payload"]["queues"]["support"]
        assert (support["calls_waiting"], support["agents_ringing"]) == (1, 1)
        assert [f["type"] for f in await agent_ws.quiet()] == []
        jsonschema.validate(frame["payload"], SCHEMA)

        reply = await boss.get("/api/wallboard")
        state = await reply.json()
        jsonschema.validate(state, SCHEMA)
        assert state["queues"]["support"]["waiting"][0]["number"] == "09121234567"
        assert state["agents"]["local/101@tamas-agents"]["state"] == "ringing"
        assert set(state["queues"]) == {"support", "priority"}


async def test_todays_figures_and_abandoned_callers_come_from_the_event_store(
    server: RunningServer, database: Database
) -> None:
    rezaei = await customer_on_file(database, "رضایی", "09121111111", "001234567")
    now = int(time.time())
    await EventStore(database).add(
        [
            parse_queue_log_line(line)
            for line in (
                f"{now - 60}|c1|support|NONE|ENTERQUEUE||09121111111|1",
                f"{now - 30}|c1|support|NONE|ABANDON|1|1|30",
                f"{now - 50}|c2|support|NONE|ENTERQUEUE||09122222222|1",
                f"{now - 40}|c2|support|Agent 101|CONNECT|10|c2-agent|2",
                f"{now - 10}|c2|support|Agent 101|COMPLETECALLER|10|30|1",
            )
        ]
    )
    for linkedid, outcome in (("i1", Outcome.SELF_SERVED), ("i2", Outcome.QUEUED)):
        await InteractionRecords(database).save_call(
            CallPart(linkedid=linkedid, caller_number="+989121111111", outcome=outcome)
        )
    board = wallboard_of(server)
    board.feed(member("QueueMemberAdded", "101"))
    await board.refresh()
    async with await logged_in(server, "150") as boss:
        state = await (await boss.get("/api/wallboard")).json()
        assert state["ivr"]["self_service_rate"] == 0.5
        jsonschema.validate(state, SCHEMA)
        today = state["queues"]["support"]["today"]
        assert (today["offered"], today["answered"], today["abandoned"]) == (2, 1, 1)
        assert today["asa_s"] == 10
        assert state["agents"]["local/101@tamas-agents"]["calls_taken"] == 1
        [abandoned] = state["abandoned"]
        assert (abandoned["caller_number"], abandoned["wait_s"]) == ("09121111111", 30)
        assert abandoned["customer_id"] == rezaei.id

        first = await boss.post("/api/wallboard/callback", json={"callid": "c1"})
        again = await boss.post("/api/wallboard/callback", json={"callid": "c1"})
        assert first.status == again.status == 200
        assert (await first.json())["tracking_number"] == (await again.json())["tracking_number"]
        assert (await boss.post("/api/wallboard/callback", json={"callid": "zz"})).status == 404
        audit = await server.app[PAGES].parts.audit.for_agent("150")
        assert [row.action for row in audit] == ["sv_callback", "sv_callback"]


async def test_the_page_shows_queues_agents_and_abandoned_callers_in_persian(
    server: RunningServer, database: Database, browser: Browser
) -> None:
    now = int(time.time())
    await EventStore(database).add(
        [
            parse_queue_log_line(f"{now - 60}|c1|support|NONE|ENTERQUEUE||09121111111|1"),
            parse_queue_log_line(f"{now - 30}|c1|support|NONE|ABANDON|1|1|30"),
        ]
    )
    board = wallboard_of(server)
    board.feed(member("QueueMemberAdded", "101"))
    board.feed(member("QueueMemberPause", "101", Paused="1", PausedReason="lunch"))
    await board.refresh()
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(server.base + "/supervisors/wallboard")
    await page.get_by_test_id("login-agent").fill("150")
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "connected")
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    row = page.locator('#queues tr[data-queue="support"]')
    await expect(row.locator('[data-field="offered"]')).to_have_text("۱")
    await expect(row.locator('[data-field="abandoned"]')).to_have_text("۱")
    await expect(row.locator('[data-field="agents_paused"]')).to_have_text("۱")
    every = page.locator('#queues tr[data-queue="*"]')
    await expect(every.locator('[data-field="offered"]')).to_have_text("۱")
    agent = page.locator('#agents tr[data-agent="local/101@tamas-agents"]')
    await expect(agent.locator('[data-field="pause_reason"]')).to_have_text("lunch")
    abandoned = page.locator('#abandoned tr[data-callid="c1"]')
    await expect(abandoned).to_contain_text("09121111111")
    # When they hung up, on the Jalali calendar (Tehran's clock).
    jalali = jdatetime.datetime.fromtimestamp(now - 30, TEHRAN)
    await expect(abandoned).to_contain_text(jdatetime.date.j_months_fa[jalali.month - 1])

    # A caller joins: the page shows it from the websocket, no reload.
    board.feed(caller("QueueCallerJoin", "u9", Position="1", Count="1"))
    await expect(row.locator('[data-field="calls_waiting"]')).to_have_text("۱", timeout=2000)

    await page.get_by_test_id("language").select_option("en")
    await expect(page.locator("#queues th").first).to_have_text("Queue")
    await page.locator('#abandoned [data-action="call-back"]').click()
    await expect(page.get_by_test_id("status")).to_contain_text("Callback task created")
    assert errors == []
    await asyncio.sleep(0)


async def test_a_process_that_does_not_follow_ami_answers_from_the_frames_it_receives() -> None:
    board = Wallboard(InProcessBus())
    mirror = WallboardMirror()
    board.bus.subscribe(mirror.receive)
    board.resync([member("QueueMember", "101"), {"Event": "QueueParams", "Queue": "priority"}])
    await board.flush()
    assert mirror.state()["full"] and set(mirror.state()["queues"]) == {"priority", "support"}
    board.feed(caller("QueueCallerJoin", "u1"))
    board.feed(member("QueueMemberRemoved", "101"))
    await board.flush()
    shown = mirror.state()
    assert shown["queues"]["support"]["calls_waiting"] == 1
    assert "local/101@tamas-agents" not in shown["agents"]
    jsonschema.validate(shown, SCHEMA)
