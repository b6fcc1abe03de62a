"""SMS over SMPP 3.4 through aiosmpplib against a local SMSC (bench/local_smsc.py) on
loopback: bound as a transceiver, Persian split into UCS-2 parts with UDH, delivery receipts
matched by message id, customers' texts received, enquire_link kept, and the failures: bind
refused, throttling (ESME_RTHROTTLED), the link dropped mid-send, slow answers, an SMSC down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bench.local_smsc import LocalSmsc
from integrations.database import Database
from integrations.messaging import reports
from integrations.messaging.gateway import OutboxSender
from integrations.messaging.outbox import OutboundMessage, Outbox
from integrations.messaging.smpp import SmppGateway
from integrations.messaging.sms_http import DeliveryReport, InboundText

CUSTOMER = "+989121234567"
PERSIAN = "بیمه‌گذار گرامی، مانده بدهی شما ۳۸٬۰۰۰٬۰۰۰ ریال است؛ قسط بعدی ۱۴۰۵/۱۰/۰۱. " * 2


@pytest.fixture
async def smsc() -> AsyncIterator[LocalSmsc]:
    local = await LocalSmsc().start()
    try:
        yield local
    finally:
        await local.stop()


def gateway_for(
    smsc: LocalSmsc, database: Database | None = None, **options: object
) -> SmppGateway:
    async def report(found: DeliveryReport, reference: str | None) -> None:
        assert database is not None
        await reports.record(Outbox(database), "smpp", [found], reference)

    settings: dict[str, object] = {
        "sender": "3000",
        "answer_timeout_s": 1.0,
        "bind_timeout_s": 1.0,
        "reconnect_s": (0.05, 0.2),
        "on_report": report,
    }
    settings.update(options)
    return SmppGateway("127.0.0.1", smsc.port, "tamas", "secret", **settings)  # type: ignore[arg-type]


async def queue(database: Database, body: str = PERSIAN, to: str = CUSTOMER) -> int:
    return await Outbox(database).put("sms", to=to, subject="debts", body=body)


async def rows(database: Database) -> list[OutboundMessage]:
    async with database.session() as session:
        return list(await session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


async def eventually(check: object, timeout_s: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "not in time"
        await asyncio.sleep(0.02)


async def test_persian_goes_in_ucs2_parts_joined_by_udh_and_receipts_are_matched(
    database: Database, smsc: LocalSmsc
) -> None:
    await queue(database)
    gateway = gateway_for(smsc, database)
    sender = OutboxSender(database, gateway)
    try:
        assert (await sender.send_pending()).sent == 1
        assert smsc.texts() == [(CUSTOMER.lstrip("+"), PERSIAN)]
        assert len(smsc.parts) == 3 and all(part.data_coding == 0x08 for part in smsc.parts)
        [sent] = await rows(database)
        assert (sent.status, sent.provider, sent.parts) == ("sent", "smpp", 3)
        assert sent.provider_id == smsc.parts[0].message_id
        assert await smsc.deliver_all() == 3

        async def delivered() -> bool:
            [row] = await rows(database)
            return row.delivery_status == "delivered"

        for _ in range(100):
            if await delivered():
                break
            await asyncio.sleep(0.02)
        assert await delivered()
    finally:
        await sender.close()


async def test_customers_texts_arrive_whole_and_enquire_link_keeps_the_session(
    smsc: LocalSmsc,
) -> None:
    texts: list[InboundText] = []

    async def on_text(text: InboundText) -> None:
        texts.append(text)

    gateway = gateway_for(smsc, on_text=on_text, enquire_link_s=0.1)
    try:
        assert await gateway.wait_bound(2.0)
        await smsc.text_from(CUSTOMER, "بدهی")
        await eventually(lambda: texts)
        assert (texts[0].from_number, texts[0].text) == (CUSTOMER, "بدهی")
        await smsc.text_from(CUSTOMER, PERSIAN)  # a long text comes in UDH parts
        await eventually(lambda: len(texts) == 2)
        assert texts[1].text == PERSIAN
        await eventually(lambda: smsc.enquire_links >= 2)
    finally:
        await gateway.close()


async def test_throttled_parts_are_waited_out_and_each_message_sent_once(
    database: Database, smsc: LocalSmsc
) -> None:
    smsc.throttle_over_s = 2
    for n in range(4):
        await queue(database, body=f"Your installment {n} is due", to=f"+98912123450{n}")
    sender = OutboxSender(database, gateway_for(smsc, database))
    try:
        assert (await sender.send_pending()).sent == 4
    finally:
        await sender.close()
    assert smsc.throttled >= 1 and len(smsc.parts) == 4


async def test_a_refused_bind_leaves_messages_pending_until_the_smsc_takes_the_bind(
    database: Database, smsc: LocalSmsc
) -> None:
    smsc.refuse_bind = True
    await queue(database, body="debt")
    sender = OutboxSender(database, gateway_for(smsc, database))
    try:
        assert (await sender.send_pending()).deferred == 1
        assert smsc.binds >= 1 and smsc.parts == []
        smsc.refuse_bind = False
        assert (await sender.send_pending()).sent == 1
    finally:
        await sender.close()
    assert len(smsc.parts) == 1


async def test_a_link_dropped_mid_send_is_uncertain_never_resent_and_the_session_comes_back(
    database: Database, smsc: LocalSmsc
) -> None:
    smsc.drop_next = 1
    dropped = await queue(database, body="first")
    sender = OutboxSender(database, gateway_for(smsc, database))
    try:
        assert (await sender.send_pending()).uncertain == 1
        await queue(database, body="second")
        assert (await sender.send_pending()).sent == 1
    finally:
        await sender.close()
    statuses = {row.id: row.status for row in await rows(database)}
    assert statuses[dropped] == "uncertain"
    assert [text for _, text in smsc.texts()] == ["first", "second"]
    assert smsc.binds >= 2


async def test_a_slow_smsc_leaves_the_message_uncertain_and_a_dead_one_pending(
    database: Database, smsc: LocalSmsc
) -> None:
    smsc.delay_s = 1.5
    await queue(database, body="slow")
    sender = OutboxSender(database, gateway_for(smsc, database, answer_timeout_s=0.5))
    try:
        assert (await sender.send_pending()).uncertain == 1
    finally:
        await sender.close()
    port = smsc.port
    await smsc.stop()
    await queue(database, body="while down")
    sender = OutboxSender(database, gateway_for(smsc, database))
    try:
        assert (await sender.send_pending()).deferred == 1
        await smsc.start(port)
        smsc.delay_s = 0.0
        assert (await sender.send_pending()).sent == 1
    finally:
        await sender.close()
