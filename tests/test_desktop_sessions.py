"""A desktop's websocket lives no longer than its login: it closes when the agent logs out
(in every process sharing the bus), is deactivated or is given a new password, and a closed
desktop receives nothing more. In Chromium, logging out clears the page, so the next person
at a shared desk sees nothing of the last one's callers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from playwright.async_api import Browser, expect
from popup_support import (
    PASSWORD,
    Desktop,
    RunningServer,
    add_agents,
    customer_on_file,
    desktop,
    feed,
    log_in,
    logged_in,
    queue_call_events,
    start_server,
)
from test_popup_server import popup_for

from integrations.database import Database
from popup_server.websocket import CLOSE_SIGNED_OUT
from tamas.bus import RedisBus

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def server(database: Database) -> AsyncIterator[RunningServer]:
    running = await start_server(database)
    running.parts.hub.session_check_s = 0.2
    await add_agents(running, "101", "102")
    yield running
    await running.stop()


async def closed_with(desk: Desktop, timeout_s: float = 5.0) -> int | None:
    """The close code the server sent, skipping any frames still on their way."""
    while True:
        message = await desk.ws.receive(timeout=timeout_s)
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return desk.ws.close_code
        if message.type is aiohttp.WSMsgType.TEXT and '"call.popup"' in message.data:
            raise AssertionError("a popup reached a desktop whose session had ended")


async def test_logging_out_closes_that_sessions_websocket_and_no_popup_follows(
    server: RunningServer,
) -> None:
    here, elsewhere = await logged_in(server, "101"), await logged_in(server, "101")
    async with here, elsewhere:
        desk_here, desk_elsewhere = await desktop(here), await desktop(elsewhere)
        async with here.post("/api/logout") as r:
            assert r.status == 200
        await server.parts.hub.deliver(popup_for("101", "1.1").to_message())

        assert await closed_with(desk_here) == CLOSE_SIGNED_OUT
        # The agent's other login (another desk) is theirs to end.
        assert (await desk_elsewhere.next("call.popup"))["payload"]["linkedid"] == "1.1"


async def test_logging_out_on_one_server_closes_the_websocket_on_another(
    database: Database,
) -> None:
    channel = f"tamas:test:{uuid.uuid4().hex}"
    first = await start_server(database, bus=RedisBus(REDIS_URL, channel), follow=False)
    second = await start_server(database, bus=RedisBus(REDIS_URL, channel), follow=False)
    second.parts.hub.session_check_s = 3600  # the bus, not the periodic check, closes it
    try:
        await add_agents(first, "101")
        session = await logged_in(first, "101")
        async with session:
            other = aiohttp.ClientSession(base_url=second.base, cookie_jar=session.cookie_jar)
            async with other:
                desk = await desktop(other)
                async with session.post("/api/logout") as r:
                    assert r.status == 200
                assert await closed_with(desk) == CLOSE_SIGNED_OUT
    finally:
        await first.stop()
        await second.stop()


async def test_a_deactivated_agents_websockets_close(server: RunningServer) -> None:
    async with await logged_in(server, "101") as session, await logged_in(server, "102") as other:
        desk, other_desk = await desktop(session), await desktop(other)
        assert await server.parts.directory.deactivate("101")

        assert await closed_with(desk) == CLOSE_SIGNED_OUT
        async with session.get("/api/me") as r:
            assert r.status == 401
        assert await other_desk.quiet() == []  # 102 is still connected


async def test_a_new_password_ends_every_session_of_the_old_one(server: RunningServer) -> None:
    async with await logged_in(server, "101") as session:
        desk = await desktop(session)
        await server.parts.directory.create_agent(
            "101", "a brand new password", "Local/101@tamas-agents", password_cost=2**10
        )
        assert await closed_with(desk) == CLOSE_SIGNED_OUT
        async with session.get("/api/me") as r:
            assert r.status == 401
        async with session.post("/api/login", json={"agent": "101", "password": PASSWORD}) as r:
            assert r.status == 401


@pytest.mark.browser
async def test_logging_out_clears_the_callers_cards_from_the_page(
    browser: Browser,
    server: RunningServer,
    database: Database,
) -> None:
    customer = await customer_on_file(database, "رضایی", "09121112233", "003344556")
    linkedid = "1732200000.77"
    page = await browser.new_page()
    await log_in(page, server)
    feed(server, queue_call_events(linkedid, "09121112233", "رضایی", "101")["ring"])
    await expect(page.get_by_test_id("caller-name")).to_have_text("رضایی")
    assert customer.id

    await page.locator("#logout").click()
    await expect(page.get_by_test_id("login-submit")).to_be_visible()
    assert await page.get_by_test_id("call-card").count() == 0
    assert "رضایی" not in await page.locator("body").inner_text()
    assert "09121112233" not in await page.content()


@pytest.mark.browser
async def test_a_desktop_signed_out_elsewhere_clears_itself(
    browser: Browser,
    server: RunningServer,
) -> None:
    page = await browser.new_page()
    await log_in(page, server)
    await server.parts.hub.deliver(popup_for("101", "1.9").to_message())
    await expect(page.get_by_test_id("call-card")).to_have_count(1)

    assert await server.parts.directory.deactivate("101")

    await expect(page.get_by_test_id("login-submit")).to_be_visible()
    assert await page.get_by_test_id("call-card").count() == 0


async def test_the_deactivate_agent_command_ends_the_agents_sessions(
    server: RunningServer, database: Database
) -> None:
    import argparse

    from popup_server import command
    from tamas.settings import Settings

    async with await logged_in(server, "101") as session:
        desk = await desktop(session)
        settings = Settings(database_url=database.url)
        args = argparse.Namespace(action="deactivate-agent", number="101")
        assert await command.run(args, settings) == 0
        assert await closed_with(desk) == CLOSE_SIGNED_OUT
        with pytest.raises(command.CommandError, match="no agent 999"):
            await command.run(argparse.Namespace(action="deactivate-agent", number="999"), settings)
