"""Outbox senders against a local HTTP gateway (SQLite and PostgreSQL): two senders running at
once never send one message twice, and a gateway that times out (or answers without an id)
leaves the message uncertain, settled through the provider's status query rather than sent
again blindly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from popup_support import served
from sqlalchemy import select, update

from integrations.database import Database
from integrations.messaging.gateway import HttpSmsGateway, OutboxSender
from integrations.messaging.outbox import OutboundMessage, Outbox

TOKEN = "test-token"


@dataclass
class Gateway:
    """An SMS provider on loopback that keeps what it took by our reference, answers status
    queries, and can be slow (answering after the sender gave up) or forget to send an id."""

    taken: dict[str, list[str]] = field(default_factory=dict)  # reference -> texts taken
    delay_s: float = 0.0
    answer_after_s: float = 0.0  # take the message, then answer this late
    without_id: bool = False
    url: str = ""

    async def post(self, request: web.Request) -> web.Response:
        assert request.headers.get("Authorization") == f"Bearer {TOKEN}"
        message = await request.json()
        await asyncio.sleep(self.delay_s)
        self.taken.setdefault(message["reference"], []).append(message["text"])
        await asyncio.sleep(self.answer_after_s)
        if self.without_id:
            return web.Response(text=json.dumps({"status": "queued"}))
        return web.Response(text=json.dumps({"id": f"p-{message['reference']}"}))

    async def status(self, request: web.Request) -> web.Response:
        reference = request.query.get("reference", "")
        if reference not in self.taken:
            return web.Response(status=404, text="unknown")
        return web.Response(text=json.dumps({"id": f"p-{reference}"}))


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    fake = Gateway()
    async with served(web.post("/sms", fake.post), web.get("/sms", fake.status)) as base:
        fake.url = f"{base}/sms"
        yield fake


async def _queue(database: Database, count: int) -> list[int]:
    outbox = Outbox(database)
    return [
        await outbox.put("sms", to=f"+98912000{n:04d}", subject="claim_status", body=f"m{n}")
        for n in range(count)
    ]


async def _rows(database: Database) -> dict[int, OutboundMessage]:
    async with database.session() as session:
        return {row.id: row for row in await session.scalars(select(OutboundMessage))}


async def test_two_senders_at_once_never_send_one_message_twice(
    database: Database, gateway: Gateway
) -> None:
    ids = await _queue(database, 30)
    gateway.delay_s = 0.01
    gateways = [HttpSmsGateway(gateway.url, TOKEN), HttpSmsGateway(gateway.url, TOKEN)]
    senders = [OutboxSender(database, g, batch=10) for g in gateways]
    try:
        for _ in range(3):
            await asyncio.gather(*(sender.send_pending() for sender in senders))
    finally:
        for g in gateways:
            await g.close()

    assert sorted(gateway.taken) == sorted(str(i) for i in ids)
    assert all(len(texts) == 1 for texts in gateway.taken.values()), {
        ref: len(texts) for ref, texts in gateway.taken.items() if len(texts) > 1
    }
    rows = await _rows(database)
    assert {row.status for row in rows.values()} == {"sent"}
    assert all(row.provider_id == f"p-{row.id}" for row in rows.values())
    assert all(row.claimed_by is None for row in rows.values())


async def test_a_gateway_that_times_out_leaves_the_message_uncertain_not_resent(
    database: Database, gateway: Gateway
) -> None:
    [message_id] = await _queue(database, 1)
    gateway.answer_after_s = 1.0  # takes it, answers after the sender's 0.3 s
    sms = HttpSmsGateway(gateway.url, TOKEN, timeout_s=0.3)
    sender = OutboxSender(database, sms)
    try:
        first = await sender.send_pending()
        assert (first.sent, first.uncertain) == (0, 1)
        assert (await _rows(database))[message_id].status == "uncertain"

        gateway.answer_after_s = 0.0
        second = await sender.send_pending()  # asks the provider, who has it
    finally:
        await sms.close()

    assert second.sent == 1
    assert gateway.taken == {str(message_id): ["m0"]}  # once, never twice
    row = (await _rows(database))[message_id]
    assert (row.status, row.provider_id) == ("sent", f"p-{message_id}")


async def test_an_answer_without_an_id_is_uncertain_and_settled_by_the_status_query(
    database: Database, gateway: Gateway
) -> None:
    [message_id] = await _queue(database, 1)
    gateway.without_id = True
    sms = HttpSmsGateway(gateway.url, TOKEN)
    sender = OutboxSender(database, sms)
    try:
        assert (await sender.send_pending()).uncertain == 1
        assert (await sender.send_pending()).sent == 1
    finally:
        await sms.close()
    assert len(gateway.taken[str(message_id)]) == 1


async def test_an_uncertain_message_the_provider_never_got_is_sent_again_once(
    database: Database, gateway: Gateway
) -> None:
    [message_id] = await _queue(database, 1)
    async with database.session() as session:
        await session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message_id)
            .values(status="uncertain")
        )
        await session.commit()
    sms = HttpSmsGateway(gateway.url, TOKEN)
    try:
        result = await OutboxSender(database, sms).send_pending()
    finally:
        await sms.close()
    assert result.sent == 1
    assert gateway.taken == {str(message_id): ["m0"]}
    assert (await _rows(database))[message_id].status == "sent"


async def test_rows_held_by_a_sender_that_died_become_uncertain_then_are_settled(
    database: Database, gateway: Gateway
) -> None:
    [message_id] = await _queue(database, 1)
    dead = OutboxSender(database, HttpSmsGateway(gateway.url, TOKEN), name="dead-sender")
    assert [row.id for row in await dead._claim("sms", "pending", "sending")] == [message_id]
    # ...and it dies there, having sent nothing.
    sms = HttpSmsGateway(gateway.url, TOKEN)
    try:
        waiting = await OutboxSender(database, sms, claim_timeout_s=60).send_pending()
        assert (waiting.sent, waiting.deferred) == (0, 0)  # still held: not touched
        late = await OutboxSender(database, sms, claim_timeout_s=0).send_pending()
    finally:
        await sms.close()
    assert late.sent == 1
    assert gateway.taken == {str(message_id): ["m0"]}
