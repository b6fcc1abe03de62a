"""Popups from real calls: the Asterisk sandbox's `support` queue rings its Local-channel
agents, the popup server follows over AMI, and the agent's desktop (websocket, then headless
Chromium) shows the right customer, with Persian names intact."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, expect
from popup_support import (
    Desktop,
    RunningServer,
    add_agents,
    customer_on_file,
    desktop,
    ivr_record,
    log_in,
    logged_in,
    start_server,
)

from integrations.database import Database
from interactions.records import InteractionRecords
from tamas.asterisk.ami import AmiClient
from tamas.settings import Settings

pytestmark = pytest.mark.asterisk

QUEUE_EXTENSION = "600"  # dialplans/inbound.conf: Queue(support), members 101 and 102
PRIORITY_EXTENSION = "601"  # Queue(priority), one member: 103
CALLER_NAME = "علی رضایی محمدی شهرستانی"


async def ring_support_queue(
    settings: Settings, number: str, hold_s: int = 20, extension: str = QUEUE_EXTENSION
) -> str:
    """Originate a caller into a queue (support by default); returns the call's linkedid."""
    linkedid = f"popup-{uuid.uuid4().hex[:16]}"
    caller = AmiClient.from_settings(settings, name="popup-test-caller")
    await caller.connect()
    try:
        result = await caller.originate(
            "Local/s@tamas-caller",
            context="tamas-inbound",
            exten=extension,
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


@pytest.fixture(scope="module")
def desktop_dialplan(asterisk_sandbox: Settings) -> Settings:
    """The sandbox with dialplans/desktop.conf loaded (an older running sandbox is updated)."""
    from tamas.asterisk import sandbox

    try:
        shown = sandbox.cli(asterisk_sandbox, "dialplan show tamas-desktop")
    except sandbox.SandboxError:
        shown = ""
    if "Context 'tamas-desktop' created" not in shown:
        sandbox.up(asterisk_sandbox)
    return asterisk_sandbox


@pytest.fixture
async def following(desktop_dialplan: Settings, database: Database) -> AsyncIterator[RunningServer]:
    ami = AmiClient.from_settings(desktop_dialplan, name="popup-test")
    running = await start_server(database, ami=ami, settings=desktop_dialplan)
    await add_agents(running, "101", "102", "103")
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

        popup = await desk.popup(linkedid, timeout_s=20)
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

            async def popup_on(desk: Desktop) -> dict[str, Any] | None:
                try:
                    return await desk.popup(linkedid, timeout_s=5)
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
    browser: Browser,
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
    record = await InteractionRecords(database).load(linkedid)
    assert record is not None and (record.agent, record.disposition) == (agent, "resolved")
    assert dialogs == []


async def frames_of(desk: Desktop, linkedid: str, type_: str) -> dict[str, Any]:
    while True:
        frame = await desk.next(type_, timeout_s=20)
        if frame["payload"]["linkedid"] == linkedid:
            return frame["payload"]


async def test_agent_transfers_an_answered_call_to_another_agent(
    following: RunningServer, desktop_dialplan: Settings
) -> None:
    session_103, session_101 = await logged_in(following, "103"), await logged_in(following, "101")
    async with session_103, session_101:
        desk_103, desk_101 = await desktop(session_103), await desktop(session_101)
        linkedid = await ring_support_queue(
            desktop_dialplan, "09125550000", extension=PRIORITY_EXTENSION
        )
        assert (await frames_of(desk_103, linkedid, "call.popup"))["agent"] == "103"
        assert (await frames_of(desk_103, linkedid, "call.state"))["state"] == "answered"
        async with session_101.post(f"/api/calls/{linkedid}/transfer", json={"to": "102"}) as r:
            assert r.status == 409  # 101 cannot transfer a call that is not theirs
        async with session_103.post(f"/api/calls/{linkedid}/transfer", json={"to": "101"}) as r:
            assert r.status == 200, await r.text()
        assert (await frames_of(desk_103, linkedid, "call.state"))["state"] == "transferred"
        popup = await frames_of(desk_101, linkedid, "call.popup")
        assert popup["transferred_from"] == "103"
        assert popup["caller"]["name"] == CALLER_NAME


async def test_agent_hangs_up_from_the_desktop(
    following: RunningServer, desktop_dialplan: Settings
) -> None:
    session = await logged_in(following, "103")
    async with session:
        desk = await desktop(session)
        linkedid = await ring_support_queue(
            desktop_dialplan, "09125550001", extension=PRIORITY_EXTENSION
        )
        await frames_of(desk, linkedid, "call.popup")
        assert (await frames_of(desk, linkedid, "call.state"))["state"] == "answered"
        async with session.post(f"/api/calls/{linkedid}/hangup") as r:
            assert r.status == 200, await r.text()
        assert (await frames_of(desk, linkedid, "call.state"))["state"] == "ended"


async def test_click_to_call_rings_the_agents_phone_then_dials_the_number(
    following: RunningServer, desktop_dialplan: Settings
) -> None:
    watcher = AmiClient.from_settings(desktop_dialplan, name="popup-test-watch")
    dialled: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    channel_id = ""

    def on_new_channel(event: Any) -> None:
        if (
            channel_id
            and event.get("Linkedid") == channel_id
            and str(event.get("Channel", "")).startswith("Local/s@tamas-caller")
            and not dialled.done()
        ):
            dialled.set_result(str(event.get("Channel")))

    watcher.on_event("Newchannel", on_new_channel)
    await watcher.connect()
    try:
        session = await logged_in(following, "102")
        async with session:
            async with session.post("/api/originate", json={"number": "+98 912 555 0002"}) as r:
                assert r.status == 200, await r.text()
                channel_id = (await r.json())["channel_id"]
            # The agent's phone (Local/102@tamas-agents) answered, then Asterisk dialled out.
            assert (await asyncio.wait_for(dialled, 20)).startswith("Local/s@tamas-caller")
    finally:
        await watcher.close()


def _manager_sessions(settings: Settings) -> set[str]:
    """File descriptors of the AMI sessions Asterisk has open (`manager show connected`)."""
    from tamas.asterisk import sandbox

    rows = sandbox.cli(settings, "manager show connected").splitlines()[1:]
    return {row.split()[4] for row in rows if len(row.split()) > 5}


async def test_a_call_that_ends_while_ami_is_down_is_closed_by_the_resync(
    desktop_dialplan: Settings, database: Database
) -> None:
    from tamas.asterisk import sandbox

    hangup = AmiClient.from_settings(desktop_dialplan, name="popup-test-hangup")
    await hangup.connect()
    before = _manager_sessions(desktop_dialplan)
    ami = AmiClient.from_settings(desktop_dialplan, name="popup-test-kicked", backoff_s=(1, 1))
    running = await start_server(database, ami=ami, settings=desktop_dialplan)
    try:
        await add_agents(running, "103")
        await ami.wait_connected(timeout_s=10)
        ours = _manager_sessions(desktop_dialplan) - before
        assert len(ours) == 1, ours
        session = await logged_in(running, "103")
        async with session:
            desk = await desktop(session)
            linkedid = await ring_support_queue(
                desktop_dialplan, "09125550003", extension=PRIORITY_EXTENSION
            )
            popup = await frames_of(desk, linkedid, "call.popup")
            assert (await frames_of(desk, linkedid, "call.state"))["state"] == "answered"

            # Asterisk drops our session, and reconnecting fails until the call is over.
            ami.port = 1
            sandbox.cli(desktop_dialplan, f"manager kick session {ours.pop()}")
            await asyncio.wait_for(_disconnected(ami), 5)
            gone: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            agent_channel = popup["channels"]["agent"]

            def on_hangup(event: Any) -> None:
                if event.get("Channel") == agent_channel and not gone.done():
                    gone.set_result(None)

            hangup.on_event("Hangup", on_hangup)
            reply = await hangup.send_action({"Action": "Hangup", "Channel": agent_channel})
            assert reply.success
            await asyncio.wait_for(gone, 5)
            ami.port = desktop_dialplan.ami_port
            ended = await frames_of(desk, linkedid, "call.state")
            assert ended["state"] == "ended"
            assert ami.connections == 2  # the news came from the resync after reconnecting
    finally:
        await running.stop()
        await hangup.close()


async def _disconnected(ami: AmiClient) -> None:
    while ami.connected:  # noqa: ASYNC110 - the client exposes no disconnect event
        await asyncio.sleep(0.05)
