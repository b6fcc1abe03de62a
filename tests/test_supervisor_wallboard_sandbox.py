"""The wallboard on the real Asterisk: it follows the scripted scenario
(tests/supervisor_scenario.py) live, and its figures for the day, read from the real queue_log
ingested into the event store, are the dictionary's and equal to what the reports compute; the
page in Chromium shows them. After an AMI reconnect the board is rebuilt from QueueStatus."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
import supervisor_scenario as sc
from playwright.async_api import Browser, expect
from popup_support import PASSWORD, RunningServer, desktop, logged_in, start_server

from integrations.database import Database
from supervisors.events import EventStore, Position
from supervisors.ingest import QueueLogIngester, default_queue_log, file_state
from supervisors.metrics import abandoned_callers, queue_figures, thresholds_from
from supervisors.today import day_bounds
from supervisors.wallboard import Wallboard
from supervisors.web import PAGES
from tamas.asterisk.ami import AmiClient
from tamas.settings import Settings

pytestmark = pytest.mark.asterisk

MEMBER = "Local/176@tamas-agents/n"


async def following_server(settings: Settings, database: Database) -> RunningServer:
    ami = AmiClient.from_settings(settings, name="wallboard-test")
    running = await start_server(database, ami=ami, settings=settings)
    await running.parts.directory.create_agent(
        "150",
        PASSWORD,
        "Local/150@tamas-agents",
        name="Supervisor",
        roles="agent,supervisor",
        password_cost=2**10,
    )
    await ami.wait_connected(timeout_s=10)
    return running


@pytest.fixture
async def following(asterisk_sandbox: Settings, database: Database) -> AsyncIterator[RunningServer]:
    running = await following_server(asterisk_sandbox, database)
    try:
        yield running
    finally:
        await running.stop()


def persian(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))


def board_of(server: RunningServer) -> Wallboard:
    board = server.app[PAGES].wallboard
    assert board is not None
    return board


async def until(check: object, timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not callable(check) or not check():  # noqa: ASYNC110 - polls the board
            await asyncio.sleep(0.05)


@pytest.mark.browser
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_the_wallboard_shows_the_scenario_as_the_dictionary_and_the_reports_count_it(
    asterisk_sandbox: Settings, database: Database, browser: Browser
) -> None:
    settings = replace(
        asterisk_sandbox, report_service_levels=(f"{sc.QUEUE}={sc.SERVICE_LEVEL_S}",)
    )
    server = await following_server(settings, database)
    board = board_of(server)
    store = EventStore(database)
    path = default_queue_log(settings.sandbox_dir)
    state = file_state(path)
    assert state is not None, f"no queue_log at {path}"
    # Only what the scenario writes: the sandbox's queue_log holds earlier runs.
    await store.save_position(
        Position(source="wallboard", inode=state.inode, head=state.head, offset=state.size)
    )
    stop = asyncio.Event()
    ingesting = asyncio.create_task(QueueLogIngester(store, path, "wallboard").follow(stop, 0.2))
    seen: dict[str, dict[str, object]] = {}

    async def during(step: str) -> None:
        if step == "queued":
            # Live, from AMI: callers waiting, both agents paused with their reasons.
            def queued() -> bool:
                queue = board.live.queue_json(sc.QUEUE, time.time())
                return int(queue["calls_waiting"]) >= 4 and int(queue["agents_paused"]) == 2

            await until(queued)
            seen["queued"] = board.live.queue_json(sc.QUEUE, time.time())

    try:
        scenario = await sc.run_scenario(settings, during)
        await asyncio.sleep(0.5)
        stop.set()
        await ingesting
        await QueueLogIngester(store, path, "wallboard").ingest()
        await board.refresh()

        assert seen["queued"]["pause_reasons"] == {sc.PAUSE_REASON: 1, "briefing": 1}
        async with await logged_in(server, "150") as boss:
            shown = await (await boss.get("/api/wallboard")).json()
        today = shown["queues"][sc.QUEUE]["today"]
        # The reports' code over the same stored events, for the same day.
        start, end = day_bounds(time.time(), ZoneInfo(settings.report_time_zone))
        events = await store.load_interval(start, end)
        thresholds = thresholds_from(settings)
        expected = queue_figures(events, start, end, thresholds)[sc.QUEUE].as_dict()
        assert today == {
            key: round(value, 4) if isinstance(value, float) else value
            for key, value in expected.items()
        }
        # And what the scenario did, as the dictionary counts it (another run of the shared
        # sandbox may have added calls of its own to the day: ours are counted apart).
        ours = {call.callid for call in scenario.calls}
        mine = queue_figures([e for e in events if e.callid in ours], start, end, thresholds)
        figures = mine[sc.QUEUE]
        assert figures.offered == len(scenario.calls) == 8
        assert (figures.answered, figures.abandoned, figures.short_abandoned) == (4, 2, 1)
        assert figures.exit_timeout == 1
        assert today["offered"] >= 8
        long_abandons = {c.number for c in scenario.calls if c.end == "abandoned" and not c.short}
        listed = {c["caller_number"] for c in shown["abandoned"] if c["queue"] == sc.QUEUE}
        assert long_abandons <= listed
        assert len(abandoned_callers(events, start, end, thresholds)) == len(shown["abandoned"])
        assert shown["queues"][sc.QUEUE]["calls_waiting"] == 0

        page = await browser.new_page()
        await page.goto(server.base + "/supervisors/wallboard")
        await page.get_by_test_id("login-agent").fill("150")
        await page.get_by_test_id("login-password").fill(PASSWORD)
        await page.get_by_test_id("login-submit").click()
        row = page.locator(f'#queues tr[data-queue="{sc.QUEUE}"]')
        for field in ("offered", "answered", "abandoned"):
            await expect(row.locator(f'[data-field="{field}"]')).to_have_text(persian(today[field]))
        level = round(today["service_level"] * 1000) / 10
        await page.get_by_test_id("language").select_option("en")
        await expect(row.locator('[data-field="service_level"]')).to_have_text(f"{level:g}%")
        for number in long_abandons:
            await expect(page.get_by_test_id("abandoned")).to_contain_text(number)
    finally:
        stop.set()
        await asyncio.gather(ingesting, return_exceptions=True)
        await server.stop()
    assert scenario.started_at.tzinfo is UTC


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_after_an_ami_reconnect_the_board_is_rebuilt_from_queue_status(
    following: RunningServer, asterisk_sandbox: Settings
) -> None:
    board = board_of(following)
    ami = AmiClient.from_settings(asterisk_sandbox, name="wallboard-test-check")
    await ami.connect()
    key = "local/176@tamas-agents"
    try:
        added = await ami.send_action(
            {
                "Action": "QueueAdd",
                "Queue": "support",
                "Interface": MEMBER,
                "MemberName": "Agent 176",
                "Paused": "true",
                "Reason": "resync",
            }
        )
        assert added.success, added.message
        await until(lambda: key in board.live.agents)
        # An event lost while disconnected: the board no longer knows the member...
        board.live.agents.pop(key)
        board.live.members["support"].discard(key)
        resyncs = board.resyncs
        async with await logged_in(following, "150") as boss:
            desk = await desktop(boss)
            # ...then the connection drops, and the client logs in again by itself.
            server_ami = following.app[PAGES].parts.ami
            assert server_ami is not None and server_ami._protocol is not None
            transport = server_ami._protocol.transport
            assert transport is not None
            transport.abort()
            await until(lambda: board.resyncs > resyncs, timeout_s=15)
            frame = await desk.next("wallboard.changed", timeout_s=5)
            while not frame["payload"]["full"]:
                frame = await desk.next("wallboard.changed", timeout_s=5)
        agent = frame["payload"]["agents"][key]
        assert (agent["state"], agent["pause_reason"]) == ("paused", "resync")
        assert key in frame["payload"]["queues"]["support"]["agents"]
    finally:
        await ami.send_action({"Action": "QueueRemove", "Queue": "support", "Interface": MEMBER})
        await ami.close()
