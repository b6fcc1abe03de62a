"""Popups from real calls: the Asterisk sandbox's `support` queue rings its Local-channel
agents, the popup server follows over AMI, and the agent's desktop (websocket, then headless
Chromium) shows the right customer, with Persian names intact."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import expect
from popup_support import (
    RunningServer,
    add_agents,
    customer_on_file,
    desktop,
    ivr_record,
    logged_in,
    start_server,
)
from sqlalchemy import select
from test_popup_desktop_browser import browser, log_in  # noqa: F401  (fixture)

from integrations.customer_file.interactions import Interaction
from integrations.database import Database
from tamas.asterisk.ami import AmiClient
from tamas.settings import Settings

pytestmark = pytest.mark.asterisk

QUEUE_EXTENSION = "600"  # dialplans/inbound.conf: Queue(support), members 101 and 102
CALLER_NAME = "علی رضایی محمدی شهرستانی"


async def ring_support_queue(settings: Settings, number: str, hold_s: int = 20) -> str:
    """Originate a caller into the support queue; returns the call's linkedid."""
    linkedid = f"popup-{uuid.uuid4().hex[:16]}"
    caller = AmiClient.from_settings(settings, name="popup-test-caller")
    await caller.connect()
    try:
        result = await caller.originate(
            "Local/s@tamas-caller",
            context="tamas-inbound",
            exten=QUEUE_EXTENSION,
            caller_id=f'"{CALLER_NAME}" <{number}>',
            variables={"TAMAS_HOLD_S": str(hold_s)},
            channel_id=linkedid,
            other_channel_id=f"{linkedid}-caller",
            timeout_ms=10_000,
        )
        assert result.answered, result.reason_name
    finally:
        await caller.close()
    return linkedid


@pytest.fixture
async def following(asterisk_sandbox: Settings, database: Database) -> AsyncIterator[RunningServer]:
    ami = AmiClient.from_settings(asterisk_sandbox, name="popup-test")
    running = await start_server(database, ami=ami, settings=asterisk_sandbox)
    await add_agents(running, "101", "102")
    await ami.wait_connected(timeout_s=10)
    yield running
    await running.stop()


async def test_real_queue_call_pops_the_callers_file_at_the_ringing_agent(
    following: RunningServer, database: Database, asterisk_sandbox: Settings
) -> None:
    customer = await customer_on_file(database, "رضایی", "09127776655", "004455667")
    session = await logged_in(following, "101")
    async with session:
        desk = await desktop(session)
        linkedid = await ring_support_queue(asterisk_sandbox, "09127776655")
        await ivr_record(database, linkedid, "+989127776655", customer.id)

        async def frame_of_this_call(type_: str) -> dict:
            while True:
                frame = await desk.next(type_, timeout_s=20)
                if frame["payload"]["linkedid"] == linkedid:
                    return frame["payload"]

        popup = await frame_of_this_call("call.popup")
        assert popup["agent"] == "101" and popup["queue"] == "support"
        assert popup["caller"]["name"] == CALLER_NAME  # UTF-8 intact through AMI
        assert popup["caller"]["e164"] == "+989127776655"
        assert popup["customer"]["customer"]["id"] == customer.id
        # ringall: 101 answers, or 102 answers first and 101's ring stops as missed.
        states = [(await frame_of_this_call("call.state"))["state"]]
        if states == ["answered"]:
            states.append((await frame_of_this_call("call.state"))["state"])
        assert states in (["answered", "ended"], ["missed"])


async def test_resync_after_connecting_finds_a_call_already_in_progress(
    asterisk_sandbox: Settings, database: Database
) -> None:
    customer = await customer_on_file(database, "کریمی", "09128889900", "006677889")
    linkedid = await ring_support_queue(asterisk_sandbox, "09128889900")
    await asyncio.sleep(2.5)  # the agents answer after 1 s: the call is now in progress
    ami = AmiClient.from_settings(asterisk_sandbox, name="popup-test-late")
    running = await start_server(database, ami=ami, settings=asterisk_sandbox)
    try:
        await add_agents(running, "101", "102")
        session_101, session_102 = await logged_in(running, "101"), await logged_in(running, "102")
        async with session_101, session_102:
            desks = [await desktop(session_101), await desktop(session_102)]
            await ami.wait_connected(timeout_s=10)
            # The first login's resync ran before the agents were added: reconnect to resync
            # with them known, as after an Asterisk restart.
            assert running.parts.follower is not None
            await running.parts.follower._resync_from(ami)

            async def popup_on(desk: object) -> dict | None:
                try:
                    while True:
                        frame = await desk.next("call.popup", timeout_s=5)  # type: ignore[attr-defined]
                        if frame["payload"]["linkedid"] == linkedid:
                            return frame["payload"]
                except TimeoutError:
                    return None

            found = [p for p in await asyncio.gather(*(popup_on(d) for d in desks)) if p]
            assert len(found) == 1, found
            assert found[0]["state"] == "answered"
            assert found[0]["customer"]["customer"]["id"] == customer.id
            assert found[0]["caller"]["name"] == CALLER_NAME
    finally:
        await running.stop()


@pytest.mark.browser
async def test_agent_sees_the_real_callers_card_in_chromium_and_saves_the_disposition(
    following: RunningServer,
    database: Database,
    asterisk_sandbox: Settings,
    browser,  # noqa: F811
) -> None:
    customer = await customer_on_file(
        database, "<script>alert(1)</script>", "09123334455", "008899001"
    )
    page = await browser.new_page()
    dialogs = await log_in(page, following, "101")
    second = await browser.new_page()
    await log_in(second, following, "102")

    linkedid = await ring_support_queue(asterisk_sandbox, "09123334455")
    await ivr_record(database, linkedid, "+989123334455", customer.id)
    # ringall: both agents' phones ring, so both desktops get the card.
    for desk in (page, second):
        card = desk.locator(f"[data-testid=call-card][data-linkedid='{linkedid}']")
        await expect(card.get_by_test_id("customer-name")).to_have_text(
            "<script>alert(1)</script>", timeout=15_000
        )
    # ringall: whichever agent's phone answers first gets the call, the other a missed card.
    selector = f"[data-testid=call-card][data-linkedid='{linkedid}'][data-state=answered]"
    async with asyncio.timeout(15):
        while not (answered_by := [d for d in (page, second) if await d.locator(selector).count()]):  # noqa: ASYNC110 - two pages, no one event to wait on
            await asyncio.sleep(0.1)
    desk = answered_by[0]
    agent = "101" if desk is page else "102"
    # A reload while the call is in progress still shows it (the desktop reconnects).
    await desk.reload()
    card = desk.locator(f"[data-testid=call-card][data-linkedid='{linkedid}']")
    await expect(card.get_by_test_id("customer-name")).to_have_text("<script>alert(1)</script>")
    await expect(card).to_have_attribute("data-state", "ended", timeout=20_000)
    await card.get_by_test_id("disposition").select_option("resolved")
    await card.get_by_test_id("save-disposition").click()
    await expect(card.get_by_test_id("action-status")).to_have_text("ذخیره شد")
    async with database.session() as session:
        record = await session.scalar(select(Interaction).where(Interaction.linkedid == linkedid))
    assert record is not None and (record.agent, record.disposition) == (agent, "resolved")
    assert dialogs == []
