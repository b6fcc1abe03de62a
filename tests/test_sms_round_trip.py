"""A customer's text round trip, end to end, on SQLite and PostgreSQL: the text arrives (read
from the provider's pull inbox, or pushed to the app's webhook with its shared secret), the
answer from the customer file is queued in the outbox, sent through the local provider, and
its delivery report (polled, or pushed) is matched to it; the exchange is an interaction.
The same over SMPP: the text as deliver_sm, the answer as submit_sm, the receipt matched."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp
from ivr_support import GOLD_PHONE, build_customer_file
from popup_support import serving
from sqlalchemy import select

from bench.local_sms_gateway import API_KEY, LocalSmsGateway
from bench.local_smsc import LocalSmsc
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from integrations.messaging import sms_profiles
from integrations.messaging.gateway import OutboxSender
from integrations.messaging.outbox import OutboundMessage, Outbox
from integrations.messaging.smpp import SmppGateway
from integrations.messaging.sms_http import ProfileGateway
from interactions.table import Interaction
from messaging import sms_channel
from tamas.settings import Settings

SECRET = "webhook-secret"


async def answers(database: Database) -> list[OutboundMessage]:
    async with database.session() as session:
        return list(await session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


async def test_debt_texted_to_the_pull_inbox_is_answered_sent_and_its_report_matched(
    database: Database, sms_provider: LocalSmsGateway
) -> None:
    await build_customer_file(database)
    settings = Settings(
        sms_gateway_url=sms_provider.url, sms_gateway_token=API_KEY, sms_profile="iran_rest",
        sms_sender="3000", sms_rate_per_s=50,
    )  # fmt: skip
    adapter = sms_channel.http_gateway(settings)
    assert adapter is not None
    service = sms_channel.text_service(settings, database, SqlCustomerFile(database))
    sender = OutboxSender(database, adapter)
    try:
        sms_provider.text_from(GOLD_PHONE, "بدهی")
        polled = await sms_channel.poll_once(adapter, service, Outbox(database))
        assert polled.texts == 1
        assert (await sender.send_pending()).sent == 1
        [taken] = sms_provider.taken.values()
        assert taken.to == "09121110000" and "مانده بدهی" in taken.text
        sms_provider.deliver_all()
        assert (await sms_channel.poll_once(adapter, service, Outbox(database))).reports == 1
    finally:
        await sender.close()
    [answer] = await answers(database)
    assert answer.provider == "iran_rest" and answer.provider_id == taken.provider_id
    assert answer.delivery_status == "delivered"
    async with database.session() as session:
        record = await session.scalar(select(Interaction).where(Interaction.channel == "sms"))
    assert record is not None and record.outcome == "self_served"


async def test_texts_and_reports_pushed_to_the_webhook_need_the_secret_and_count_once(
    database: Database, sms_provider: LocalSmsGateway
) -> None:
    await build_customer_file(database)
    settings = Settings(sms_webhook_secret=SECRET)
    text = {"id": "push-1", "from": GOLD_PHONE, "to": "3000", "text": "debt"}
    async with serving(database, settings=settings) as app, aiohttp.ClientSession() as client:
        inbound = f"{app.base}/api/messaging/sms/generic/inbound"
        async with client.post(inbound, json=text) as refused:
            assert refused.status == 401
        for expected in ("answered", "duplicate"):
            async with client.post(
                inbound, json=text, headers={"X-Tamas-Secret": SECRET}
            ) as pushed:
                assert pushed.status == 200
                assert (await pushed.json())["status"] == expected
        [answer] = await answers(database)
        assert answer.body.startswith("Balance:")

        generic = sms_profiles.load()["generic"]
        adapter = ProfileGateway(generic, f"{sms_provider.url}/generic", API_KEY)
        sender = OutboxSender(database, adapter)
        try:
            assert (await sender.send_pending()).sent == 1
        finally:
            await sender.close()
        [taken] = sms_provider.taken.values()
        report = {"id": taken.provider_id, "status": "delivered", "secret": SECRET}
        async with client.get(f"{app.base}/api/messaging/sms/generic/reports", params=report) as r:
            assert r.status == 200 and (await r.json())["matched"] == 1
    [answer] = await answers(database)
    assert answer.delivery_status == "delivered"


async def test_debt_texted_over_smpp_is_answered_and_its_receipt_matched(
    database: Database,
) -> None:
    await build_customer_file(database)
    smsc = await LocalSmsc().start()
    settings = Settings(
        smpp_host="127.0.0.1", smpp_port=smsc.port, smpp_system_id="tamas",
        smpp_password="secret", sms_sender="3000",
    )  # fmt: skip
    adapter = sms_channel.sms_adapter(settings, database)
    assert isinstance(adapter, SmppGateway)
    sender = OutboxSender(database, adapter)
    try:
        assert await adapter.wait_bound(2.0)
        await smsc.text_from(GOLD_PHONE, "долг")
        rows: list[OutboundMessage] = []
        await until(lambda: len(rows) == 1, rows, database)
        assert (await sender.send_pending()).sent == 1
        [(to, text)] = smsc.texts()
        assert to == GOLD_PHONE.lstrip("+") and text.startswith("Задолженность:")
        await smsc.deliver_all()
        await until(lambda: rows[0].delivery_status == "delivered", rows, database)
    finally:
        await sender.close()
        await smsc.stop()


async def until(check: Callable[[], bool], rows: list[OutboundMessage], database: Database) -> None:
    """Wait until `check` holds on the outbox's rows, read again every few milliseconds."""
    for _ in range(200):
        rows[:] = await answers(database)
        if rows and check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not in time")


async def test_a_provider_pushing_form_fields_is_read_by_its_profiles_names(
    database: Database,
) -> None:
    await build_customer_file(database)
    settings = Settings(sms_webhook_secret=SECRET)
    text = {"messageid": "881", "from": GOLD_PHONE, "to": "3000", "message": "قسط"}
    async with serving(database, settings=settings) as app, aiohttp.ClientSession() as client:
        base = f"{app.base}/api/messaging/sms/iran_rest"
        params = {"secret": SECRET}
        async with client.post(f"{base}/inbound", data=text, params=params) as pushed:
            assert pushed.status == 200 and (await pushed.json())["status"] == "answered"
        [answer] = await answers(database)
        assert answer.body.startswith("اقساط:")
        async with database.session() as session:
            row = await session.get(OutboundMessage, answer.id)
            assert row is not None
            row.status, row.provider, row.provider_id = "sent", "iran_rest", "77"
            await session.commit()
        report = {"messageid": "77", "status": "11"}  # 11: undelivered
        async with client.post(f"{base}/reports", data=report, params=params) as pushed:
            assert (await pushed.json())["matched"] == 1
        async with client.post(f"{base}/reports", data={"messageid": "77"}, params=params) as bad:
            assert bad.status == 400
    [answer] = await answers(database)
    assert (answer.delivery_status, answer.delivery_error) == ("undelivered", "11")
