"""Notices the core system's events trigger: sent once per event however often it arrives,
in the customer's language with the amounts and Jalali dates written for them, by the first
channel they have an address for, never to a number that opted out, and followed on their
record to a final state. The webhook takes only signed, fresh requests from allowed
addresses."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from popup_support import listen, national_id
from sqlalchemy import func, select, update

from customer_file.views import CustomerRegistration
from dialer.do_not_call import DoNotCallList
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from integrations.messaging.outbox import OutboundMessage, Outbox
from interactions.records import InteractionRecords
from messaging import core_webhook, notice_kinds
from messaging.core_events import BadEvent, read_event, signature
from messaging.notice_store import NoticeStore
from messaging.notifier import Notifier
from popup_server.auth import networks
from tamas.settings import Settings

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
NAMES = {"fa": "بیمه تماس", "en": "Tamas Insurance", "ru": "Тамас Страхование"}
SECRET = "a-shared-secret-of-the-core-system"


def _settled(tracking: str = "7001", event_id: str = "ev-1") -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "claim.settled",
        "occurred_at": "2026-11-30T12:00:00+03:30",
        "customer": {"national_id": national_id("001234567")},
        "data": {"tracking_code": tracking, "amount": 125_000_000, "bank": "بانک ملت شعبه ونک"},
    }


@pytest.fixture
async def notifier(database: Database) -> Notifier:
    customers = SqlCustomerFile(database)
    await customers.register_customer(
        CustomerRegistration(
            family_name_fa="احمدی",
            given_name_fa="مریم",
            national_id=national_id("001234567"),
            phones=("09121234567",),
            emails=("maryam@example.ir",),
        )
    )
    await customers.register_customer(
        CustomerRegistration(
            family_name_fa="Smirnov",
            given_name_latin="Ivan",
            family_name_latin="Smirnov",
            national_id=national_id("007654321"),
            language="ru",
            emails=("ivan@example.ru",),
        )
    )
    return Notifier(database, customers, Outbox(database), notice_kinds.load(), NAMES)


async def _outbox(database: Database) -> list[OutboundMessage]:
    async with database.session() as session:
        return list(await session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


async def test_a_settled_claim_is_told_once_in_persian_with_the_amount_written(
    database: Database, notifier: Notifier
) -> None:
    first = await notifier.on_event(read_event(_settled()), NOW)
    again = await notifier.on_event(read_event(_settled()), NOW)
    assert (first.status, again.status) == ("queued", "duplicate")
    [message] = await _outbox(database)
    assert (message.kind, message.to, message.subject) == ("sms", "+989121234567", "claim_settled")
    assert "مریم احمدی" in message.body and "۱۲۵٬۰۰۰٬۰۰۰ ریال" in message.body
    assert "بانک ملت شعبه ونک" in message.body and "بیمه تماس" in message.body
    record = await InteractionRecords(database).load(f"outbox:{message.id}")
    assert record is not None
    assert (record.channel, record.direction, record.outcome, record.outcome_detail) == (
        "sms",
        "outbound",
        "message_queued",
        "claim_settled",
    )


async def test_an_event_missing_a_value_is_refused_and_can_be_sent_again_corrected(
    database: Database, notifier: Notifier
) -> None:
    broken = _settled()
    del broken["data"]["amount"]
    with pytest.raises(BadEvent, match=r"data\.amount"):
        await notifier.on_event(read_event(broken), NOW)
    assert await _outbox(database) == []
    assert (await notifier.on_event(read_event(_settled()), NOW)).status == "queued"


async def test_a_customer_without_a_mobile_gets_an_email_in_their_language(
    database: Database, notifier: Notifier
) -> None:
    event = _settled()
    event["customer"] = {"national_id": national_id("007654321")}
    assert (await notifier.on_event(read_event(event), NOW)).status == "queued"
    [message] = await _outbox(database)
    assert (message.kind, message.to, message.language) == ("email", "ivan@example.ru", "ru")
    assert "Ivan Smirnov" in message.body and "125\u00a0000\u00a0000 риалов" in message.body


async def test_a_number_that_opted_out_gets_no_reminder_but_still_the_security_notice(
    database: Database, notifier: Notifier
) -> None:
    await DoNotCallList(database).add("+989121234567", "sms_stop", NOW)
    skipped = await notifier.on_event(read_event(_settled()), NOW)
    assert (skipped.status, skipped.reason) == ("skipped", "opted_out")
    login = {
        "id": "ev-login",
        "type": "portal.login",
        "occurred_at": "2026-11-30T12:00:00+03:30",
        "customer": {"national_id": national_id("001234567")},
        "data": {"at": "2026-11-30T11:58:00+03:30"},
    }
    assert (await notifier.on_event(read_event(login), NOW)).status == "queued"
    [message] = await _outbox(database)
    assert message.subject == "portal_login" and "۱۴۰۵/۰۹/۰۹ ۱۱:۵۸" in message.body


async def test_an_agents_commission_goes_to_the_address_the_event_names(
    database: Database, notifier: Notifier
) -> None:
    event = {
        "id": "ev-commission-9",
        "type": "commission.settled",
        "occurred_at": "2026-11-30T12:00:00+03:30",
        "to": {"phone": "+989351112233", "name": "نمایندگی رضایی", "language": "fa"},
        "data": {"amount": "48000000", "period": "آبان ۱۴۰۵"},
    }
    assert (await notifier.on_event(read_event(event), NOW)).status == "queued"
    [message] = await _outbox(database)
    assert message.to == "+989351112233" and message.customer_id is None
    assert "نمایندگی رضایی" in message.body and "۴۸٬۰۰۰٬۰۰۰ ریال" in message.body


async def test_an_unknown_customer_or_event_type_is_said_clearly(notifier: Notifier) -> None:
    stranger = _settled()
    stranger["customer"] = {"national_id": national_id("009999999")}
    with pytest.raises(BadEvent, match="not in the customer file"):
        await notifier.on_event(read_event(stranger), NOW)
    other = _settled()
    other["type"] = "reinsurance.treaty_signed"
    assert (await notifier.on_event(read_event(other), NOW)).status == "ignored"


async def test_a_notice_left_half_done_is_finished_without_a_second_message(
    database: Database, notifier: Notifier
) -> None:
    store = NoticeStore(database)
    sent = await notifier.on_event(read_event(_settled()), NOW)
    orphan = await store.accept("core:ev-died", "claim_settled", None, NOW)
    assert orphan is not None
    # The process died after queueing the first notice's message but before saying so.
    await database.write(
        update(store_table()).where(store_table().c.key == "core:ev-1").values(status="accepted")
    )
    assert await notifier.resume(NOW + timedelta(minutes=5)) == 2
    assert (await store.by_key("core:ev-1")).status == "queued"  # type: ignore[union-attr]
    assert (await store.by_key("core:ev-died")).reason == "interrupted"  # type: ignore[union-attr]
    assert [m.id for m in await _outbox(database)] == [sent.message_id]


def store_table() -> Any:
    from messaging.notice_store import NoticeRow

    return NoticeRow.__table__


async def test_deliveries_reach_the_record_and_silence_becomes_expired(
    database: Database, notifier: Notifier
) -> None:
    delivered = await notifier.on_event(read_event(_settled("7001", "ev-a")), NOW)
    failed = await notifier.on_event(read_event(_settled("7002", "ev-b")), NOW)
    silent = await notifier.on_event(read_event(_settled("7003", "ev-c")), NOW)
    for result, status, report in (
        (delivered, "sent", "delivered"),
        (failed, "failed", None),
        (silent, "sent", None),
    ):
        await database.write(
            update(OutboundMessage)
            .where(OutboundMessage.id == result.message_id)
            .values(status=status, delivery_status=report, created_at=NOW - timedelta(hours=49))
        )
    assert await notifier.sync_deliveries(NOW, expire_after_h=48) == 3
    records = InteractionRecords(database)
    outcomes = []
    for result in (delivered, failed, silent):
        record = await records.load(f"outbox:{result.message_id}")
        assert record is not None
        outcomes.append(record.outcome)
    assert outcomes == ["delivered", "undelivered", "expired"]
    assert await notifier.sync_deliveries(NOW, expire_after_h=48) == 0


def test_a_catalogue_text_with_a_value_the_notice_lacks_points_at_its_line(
    tmp_path: Path,
) -> None:
    text = notice_kinds.DEFAULT_PATH.read_text(encoding="utf-8").replace(
        "کد رهگیری {tracking_code}", "کد رهگیری {tracking}"
    )
    with pytest.raises(notice_kinds.NoticeError, match=r"notices.yaml:\d+: .*\{tracking\}"):
        notice_kinds.parse(text)


# --- the webhook -------------------------------------------------------------------------


@pytest.fixture
async def webhook(database: Database, notifier: Notifier) -> AsyncIterator[str]:
    app = web.Application()
    app[core_webhook.NOTIFIER] = notifier
    settings = Settings(core_events_secret=SECRET)
    app[core_webhook.SETTINGS] = settings
    app[core_webhook.ALLOWED] = networks("core_events_allow", settings.core_events_allow)
    app.router.add_post("/api/core/events", core_webhook.receive_events)
    runner, base = await listen(app)
    try:
        yield base
    finally:
        await runner.cleanup()


def _signed(body: bytes, secret: str = SECRET, at: float | None = None) -> dict[str, str]:
    stamp = str(int(at if at is not None else time.time()))
    return {
        "Content-Type": "application/json",
        "X-Tamas-Timestamp": stamp,
        "X-Tamas-Signature": signature(secret, stamp, body),
    }


async def _post(base: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/api/core/events", data=body, headers=headers) as reply:
            return reply.status, await reply.json()


async def test_the_webhook_sends_a_signed_event_once_however_often_it_is_delivered(
    database: Database, webhook: str
) -> None:
    body = json.dumps({"events": [_settled()]}).encode()
    assert await _post(webhook, body, _signed(body)) == (
        200,
        {"results": [{"id": "ev-1", "status": "queued"}]},
    )
    status, reply = await _post(webhook, body, _signed(body))
    assert (status, reply["results"][0]["status"]) == (200, "duplicate")
    assert len(await _outbox(database)) == 1


async def test_the_webhook_refuses_forged_stale_and_malformed_requests(
    database: Database, webhook: str
) -> None:
    body = json.dumps(_settled()).encode()
    assert (await _post(webhook, body, _signed(body, secret="guessed")))[0] == 401
    assert (await _post(webhook, body, _signed(body, at=time.time() - 3600)))[0] == 401
    tampered = body.replace(b"125000000", b"925000000")
    assert (await _post(webhook, tampered, _signed(body)))[0] == 401
    bad = json.dumps({"events": [_settled(), {"id": "x", "type": "claim.settled"}]}).encode()
    status, reply = await _post(webhook, bad, _signed(bad))
    assert status == 400 and reply["problems"][0]["index"] == 1
    junk = b"\xff{not json"
    assert (await _post(webhook, junk, _signed(junk)))[0] == 400
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(OutboundMessage)) == 0
