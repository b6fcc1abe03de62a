"""Helpers for the popup server's tests: a running server on a loopback port, customers on
file, and AMI events shaped as Asterisk 22 sends them for a queue call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import aiohttp
from aiohttp import web
from playwright.async_api import Dialog, Page, expect

from customer_file.identifiers import national_id_check_digit
from customer_file.views import CustomerRegistration, CustomerSummary
from integrations.customer_file.claims import Claim
from integrations.customer_file.policies import Policy
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from interactions.outcomes import Outcome
from interactions.records import CallPart, InteractionRecords
from popup_server.app import SERVER, PopupServer, make_app
from tamas.asterisk.ami import AmiClient
from tamas.bus import Bus, InProcessBus
from tamas.settings import Settings

PASSWORD = "correct horse battery"


def national_id(first_nine: str) -> str:
    return first_nine + str(national_id_check_digit(first_nine))


async def customer_on_file(
    database: Database,
    family_name: str,
    phone: str,
    nid_prefix: str,
    *,
    given_name: str = "",
    tier: str = "gold",
    claim_stage: str = "assessment",
) -> CustomerSummary:
    """A customer with one motor policy and one claim in `claim_stage`."""
    customers = SqlCustomerFile(database)
    summary = await customers.register_customer(
        CustomerRegistration(
            family_name_fa=family_name,
            given_name_fa=given_name,
            national_id=national_id(nid_prefix),
            phones=(phone,),
            tier=tier,
        )
    )
    async with database.session() as session:
        policy = Policy(
            number=f"P-{nid_prefix}",
            authenticity_code=f"A{nid_prefix}",
            customer_id=summary.id,
            line="third_party_motor",
            status="active",
            start_date=date(2026, 3, 21),
            end_date=date(2027, 3, 20),
            premium_rials=48_000_000,
        )
        session.add(policy)
        await session.flush()
        session.add(
            Claim(
                tracking_code=f"7{nid_prefix}",
                policy_id=policy.id,
                customer_id=summary.id,
                line="third_party_motor",
                loss_date=date(2026, 10, 1),
                stage=claim_stage,
                stage_changed_at=datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
                amount_claimed_rials=120_000_000,
            )
        )
        await session.commit()
    return summary


async def ivr_record(
    database: Database, linkedid: str, caller: str, customer_id: int | None
) -> None:
    """The interaction record the IVR writes before handing the call to the queue."""
    await InteractionRecords(database).save_call(
        CallPart(
            linkedid=linkedid,
            caller_number=caller,
            customer_id=customer_id,
            language="fa",
            outcome=Outcome.QUEUED,
            menu_path=[{"menu": "main"}, {"menu": "claim_status"}],
            inputs=[{"field": "pin", "value": "****"}],
            looked_up=[{"kind": "claim", "value": "7123"}],
            queue="support",
        )
    )


@dataclass
class RunningServer:
    """A popup server listening on a loopback port."""

    app: web.Application
    runner: web.AppRunner
    base: str

    @property
    def parts(self) -> PopupServer:
        return self.app[SERVER]

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_server(
    database: Database,
    *,
    bus: Bus | None = None,
    follow: bool = True,
    ami: AmiClient | None = None,
    settings: Settings | None = None,
) -> RunningServer:
    settings = settings or Settings()
    app = make_app(
        settings,
        database=database,
        bus=bus or InProcessBus(),
        customer_file=SqlCustomerFile(database),
        ami=ami,
        follow=follow,
    )
    runner, base = await listen(app)
    return RunningServer(app, runner, base)


async def listen(app: web.Application) -> tuple[web.AppRunner, str]:
    """`app` served on a free loopback port (the popup server, or a fake gateway); its runner
    (to `cleanup()` after) and base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def add_agents(server: RunningServer, *numbers: str) -> None:
    for number in numbers:
        await server.parts.directory.create_agent(
            number,
            PASSWORD,
            f"Local/{number}@tamas-agents",
            name=f"Agent {number}",
            password_cost=2**10,  # fast hashing in tests; production keeps the default cost
        )
    if server.parts.follower is not None:
        await server.parts.follower.refresh_agents()


@asynccontextmanager
async def serving(
    database: Database, *agents: str, settings: Settings | None = None
) -> AsyncIterator[RunningServer]:
    """A popup server with these agents, stopped after."""
    running = await start_server(database, settings=settings)
    await add_agents(running, *agents)
    try:
        yield running
    finally:
        await running.stop()


@asynccontextmanager
async def served(*routes: web.RouteDef) -> AsyncIterator[str]:
    """An app of these routes (a fake gateway) on a free loopback port: its base URL."""
    app = web.Application()
    app.add_routes(routes)
    runner, base = await listen(app)
    try:
        yield base
    finally:
        await runner.cleanup()


def feed(server: RunningServer, events: list[dict[str, str]]) -> None:
    """AMI events as the server's follower would read them from Asterisk."""
    assert server.parts.follower is not None
    for event in events:
        server.parts.follower.feed(event)


async def log_in(page: Page, server: RunningServer, number: str = "101") -> list[str]:
    """Opens the desktop in a browser page and logs in; returns the list that collects any
    JS dialog."""
    dialogs: list[str] = []

    async def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    await page.goto(server.base + "/")
    await page.get_by_test_id("login-agent").fill(number)
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "connected")
    return dialogs


def client(server: RunningServer) -> aiohttp.ClientSession:
    # unsafe=True: keep cookies from an IP-address host (the server is on 127.0.0.1).
    return aiohttp.ClientSession(base_url=server.base, cookie_jar=aiohttp.CookieJar(unsafe=True))


async def logged_in(server: RunningServer, number: str) -> aiohttp.ClientSession:
    session = client(server)
    async with session.post("/api/login", json={"agent": number, "password": PASSWORD}) as reply:
        assert reply.status == 200, await reply.text()
    return session


@dataclass
class Desktop:
    """A websocket client standing in for one agent's desktop. Frames not yet asked for wait
    in `backlog`, in order, so asking for one type never loses frames of another."""

    ws: aiohttp.ClientWebSocketResponse
    backlog: list[dict[str, Any]] = field(default_factory=list)

    async def _receive(self) -> dict[str, Any]:
        message = await self.ws.receive()
        if message.type is not aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"websocket ended: {message.type} {message.extra}")
        frame: dict[str, Any] = json.loads(message.data)
        return frame

    async def next(self, type_: str, timeout_s: float = 10.0) -> dict[str, Any]:
        for index, frame in enumerate(self.backlog):
            if frame["type"] == type_:
                return self.backlog.pop(index)
        async with asyncio.timeout(timeout_s):
            while True:
                frame = await self._receive()
                if frame["type"] == type_:
                    return frame
                self.backlog.append(frame)

    async def popup(self, linkedid: str | None = None, timeout_s: float = 10.0) -> dict[str, Any]:
        """The payload of the first popup (of this call) whose customer lookup is over: when
        the caller is on file, the second popup, carrying the whole file."""
        skipped = []
        try:
            while True:
                frame = await self.next("call.popup", timeout_s)
                payload = frame["payload"]
                if linkedid in (None, payload["linkedid"]) and payload["lookup"] != "loading":
                    return dict(payload)
                if linkedid not in (None, payload["linkedid"]):
                    skipped.append(frame)
        finally:
            self.backlog[:0] = skipped

    async def quiet(self) -> list[dict[str, Any]]:
        """Every frame received and not yet asked for, up to the answer to a ping: what the
        server has sent so far."""
        await self.ws.send_str(json.dumps({"type": "ping"}))
        await self.next("pong")
        frames, self.backlog = self.backlog, []
        return frames


async def desktop(session: aiohttp.ClientSession) -> Desktop:
    ws = await session.ws_connect("/ws")
    connected = Desktop(ws)
    await connected.next("hello")
    return connected


def queue_call_events(
    linkedid: str, caller: str, name: str, agent: str, serial: str = "0000000c"
) -> dict[str, list[dict[str, Any]]]:
    """AMI events of a queue call ringing `agent`, answered, then hung up by the caller."""
    caller_channel = f"Local/s@tamas-caller-{serial};1"
    agent_channel = f"Local/{agent}@tamas-agents-{serial};1"
    base = {
        "Channel": caller_channel,
        "Uniqueid": linkedid,
        "Linkedid": linkedid,
        "CallerIDNum": caller,
        "CallerIDName": name,
        "Queue": "support",
    }
    return {
        "ring": [
            {**base, "Event": "QueueCallerJoin", "Position": "1", "Count": "1"},
            {
                **base,
                "Event": "AgentCalled",
                "DestChannel": agent_channel,
                "Interface": f"Local/{agent}@tamas-agents/n",
                "MemberName": f"Agent {agent}",
            },
        ],
        "answer": [{**base, "Event": "AgentConnect", "DestChannel": agent_channel}],
        "hangup": [{**base, "Event": "Hangup", "Cause": "16"}],
    }
