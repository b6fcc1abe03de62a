"""The outbox the IVR writes SMS requests into, drained through the SMS gateway adapter
against a small local server speaking the gateway's protocol."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from popup_support import served
from sqlalchemy import select

from integrations.database import Database
from integrations.messaging.gateway import HttpSmsGateway, OutboxSender
from integrations.messaging.outbox import OutboundMessage, Outbox

TOKEN = "test-token"
REFUSED_NUMBER = "+989000000000"


@dataclass
class FakeProvider:
    """An SMS (or fax: same protocol) provider on loopback: checks the token, refuses one
    number, can be down."""

    received: list[dict[str, str]] = field(default_factory=list)
    down: bool = False
    down_status: int = 503  # what it answers while down
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.Response(status=401, text="bad token")
        if self.down:
            return web.Response(status=self.down_status, text="maintenance")
        message = await request.json()
        if message["to"] == REFUSED_NUMBER:
            # Echoing the number, as real providers do: the log must not repeat it.
            return web.Response(status=400, text=f"invalid receptor {message['to']}")
        self.received.append(message)
        return web.Response(text=json.dumps({"id": f"p-{len(self.received)}"}))


@pytest.fixture
async def provider() -> AsyncIterator[FakeProvider]:
    fake = FakeProvider()
    async with served(web.post("/sms", fake.handle)) as base:
        fake.url = f"{base}/sms"
        yield fake


async def _statuses(database: Database) -> dict[str, str]:
    async with database.session() as session:
        rows = await session.scalars(select(OutboundMessage))
        return {row.to: row.status for row in rows}


async def test_pending_sms_are_sent_and_marked(database: Database, provider: FakeProvider) -> None:
    outbox = Outbox(database)
    await outbox.put(
        "sms", to="+989121234567", subject="claim_status", body="پرونده شما تأیید شد", linkedid="c1"
    )
    await outbox.put("fax", to="+982122223333", subject="centres", body="...", linkedid="c1")
    gateway = HttpSmsGateway(provider.url, TOKEN)
    try:
        result = await OutboxSender(database, gateway).send_pending()
    finally:
        await gateway.close()

    assert (result.sent, result.failed, result.deferred) == (1, 0, 0)
    assert provider.received[0]["text"] == "پرونده شما تأیید شد"
    assert await _statuses(database) == {"+989121234567": "sent", "+982122223333": "pending"}


async def test_a_refused_number_fails_and_a_gateway_outage_waits(
    database: Database, provider: FakeProvider
) -> None:
    outbox = Outbox(database)
    await outbox.put("sms", to=REFUSED_NUMBER, subject="branches", body="x")
    await outbox.put("sms", to="+989121234567", subject="branches", body="y")
    provider.down = True
    gateway = HttpSmsGateway(provider.url, TOKEN)
    sender = OutboxSender(database, gateway)
    try:
        first = await sender.send_pending()
        provider.down = False
        second = await sender.send_pending()
    finally:
        await gateway.close()

    assert (first.sent, first.deferred) == (0, 2)
    assert (second.sent, second.failed) == (1, 1)
    assert await _statuses(database) == {REFUSED_NUMBER: "failed", "+989121234567": "sent"}


async def test_an_unreachable_gateway_loses_nothing(database: Database) -> None:
    await Outbox(database).put("sms", to="+989121234567", subject="debts", body="z")
    gateway = HttpSmsGateway("http://127.0.0.1:1/sms", TOKEN, timeout_s=2)
    try:
        result = await OutboxSender(database, gateway).send_pending()
    finally:
        await gateway.close()

    assert result.deferred == 1
    assert await _statuses(database) == {"+989121234567": "pending"}


async def test_an_unknown_message_kind_is_refused(database: Database) -> None:
    with pytest.raises(ValueError, match="not one of sms, fax, email"):
        await Outbox(database).put("pigeon", to="x", subject="s", body="b")
