"""Outbound messages cannot be abused: menu 8 sends only to where the caller may have it
sent, and the outbox — the one way in for every sender — caps messages per call, per
recipient per day and per kind per day, atomically, and refuses premium, satellite and
international numbers unless the settings allow them. On a real database (SQLite and
PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from ivr_support import (
    GOLD_PHONE,
    POSTAL_CODE,
    STRANGER_PHONE,
    ScriptedCaller,
    build_customer_file,
    call_ivr,
    en,
)
from sqlalchemy import select, update

from integrations.customer_file.customers import Customer, Phone
from integrations.database import Database
from integrations.messaging.destinations import Destinations
from integrations.messaging.gateway import OutboxSender
from integrations.messaging.outbox import MessageRefused, OutboundMessage, Outbox, OutboxLimits
from integrations.messaging.port import Outgoing
from tamas.settings import Settings

SATELLITE = "+881612345678"
LONDON = "+442071234567"
FAX_ON_FILE = "+982188776655"


def menu_8_again_and_again(how: str, times: int = 20) -> ScriptedCaller:
    # "2": English; then main menu 8 (centres) and the way to send, over and over.
    return ScriptedCaller.keys("2", *([f"8{how}"] * times))


async def all_messages(database: Database) -> list[OutboundMessage]:
    async with database.session() as session:
        return list(await session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


async def test_a_scripted_call_from_a_satellite_number_writes_no_sms_and_no_fax(
    database: Database,
) -> None:
    await build_customer_file(database)
    for how in ("1", "3"):
        caller = menu_8_again_and_again(how)
        await call_ivr(database, caller, SATELLITE)
        assert en("no_mobile_on_file" if how == "1" else "no_fax_on_file") in caller.heard
    assert await all_messages(database) == []


async def test_one_call_asking_twenty_times_gets_three_messages(database: Database) -> None:
    await build_customer_file(database)
    caller = menu_8_again_and_again("1")
    session = await call_ivr(database, caller, STRANGER_PHONE)

    messages = await Outbox(database).for_call(session.linkedid)
    pending = [m for m in messages if m.status == "pending"]
    assert [(m.kind, m.to) for m in pending] == [("sms", STRANGER_PHONE)] * 3
    assert {m.refusal for m in messages if m.status == "refused"} == {"per_call"}
    assert en("message_not_sent") in caller.heard
    assert session.outcome != "self_served" or caller.heard.count(en("sms_sent")) == 3


async def test_an_identified_customers_fax_goes_to_the_fax_number_on_file(
    database: Database,
) -> None:
    await build_customer_file(database)
    async with database.session() as db:
        gold = await db.scalar(select(Customer).where(Customer.tier == "gold"))
        assert gold is not None
        db.add(Phone(customer_id=gold.id, e164=FAX_ON_FILE, kind="fax", is_primary=False))
        await db.commit()
    caller = ScriptedCaller.keys("2", "8", "3")
    session = await call_ivr(database, caller, GOLD_PHONE)

    messages = await Outbox(database).for_call(session.linkedid)
    assert [(m.kind, m.to) for m in messages] == [("fax", FAX_ON_FILE)]
    assert en("fax_sent") in caller.heard


async def test_a_stranger_cannot_have_a_fax_sent_to_the_number_they_call_from(
    database: Database,
) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "8", "3")
    # A domestic landline: a fax machine, maybe.
    session = await call_ivr(database, caller, "+982122223333")

    assert en("no_fax_on_file") in caller.heard
    assert await Outbox(database).for_call(session.linkedid) == []


async def test_a_recipient_gets_at_most_the_daily_cap_whatever_the_number_of_calls(
    database: Database,
) -> None:
    outbox = Outbox(database, OutboxLimits(per_call=3, per_recipient_per_day=2))
    for call in ("c1", "c2"):
        await outbox.put("sms", to=STRANGER_PHONE, subject="centres", body="x", linkedid=call)
    with pytest.raises(MessageRefused) as refused:
        await outbox.put("sms", to=STRANGER_PHONE, subject="centres", body="x", linkedid="c3")
    assert refused.value.reason == "per_recipient"
    await outbox.put("sms", to="+989121234567", subject="centres", body="x", linkedid="c3")

    # Yesterday's messages no longer count.
    async with database.session() as session:
        await session.execute(
            update(OutboundMessage).values(created_at=datetime.now(UTC) - timedelta(hours=25))
        )
        await session.commit()
    await outbox.put("sms", to=STRANGER_PHONE, subject="centres", body="x", linkedid="c4")


async def test_each_kind_has_its_own_daily_cap_across_all_recipients(database: Database) -> None:
    outbox = Outbox(database, OutboxLimits(per_kind_per_day={"sms": 100, "fax": 2, "email": 9}))
    await outbox.put("fax", to="+982122223333", subject="centres", body="x")
    await outbox.put("fax", to="+982122224444", subject="centres", body="x")
    with pytest.raises(MessageRefused, match="per_kind"):
        await outbox.put("fax", to="+982122225555", subject="centres", body="x")
    await outbox.put("sms", to="+989121234567", subject="centres", body="x")


async def test_a_batch_is_held_to_the_same_caps_as_one_message_at_a_time(
    database: Database,
) -> None:
    outbox = Outbox(database, OutboxLimits(per_recipient_per_day=2, per_kind_per_day={"sms": 3}))
    await outbox.put("sms", to="+989121234567", subject="centres", body="x")
    batch = [
        {"to": to, "subject": "installment_due", "body": "x"}
        for to in (
            "+989121234567",  # its second today: the last one it may have
            "+989121234567",  # a third: past the recipient's cap
            "+88216123456",  # a satellite number: never
            "+989351112233",
            "+989351112244",  # the kind's fourth today: past its cap
        )
    ]
    written = await outbox.put_many("sms", batch)
    assert [refusal for _, refusal in written] == [
        None,
        "per_recipient",
        "non_geographic",
        None,
        "per_kind",
    ]
    async with database.session() as session:
        stored = dict(
            (await session.execute(select(OutboundMessage.id, OutboundMessage.status))).all()
        )
    assert [stored[message_id] for message_id, _ in written] == [
        "pending", "refused", "refused", "pending", "refused",
    ]  # fmt: skip


async def test_requests_refused_again_and_again_leave_the_caps_as_they_were(
    database: Database,
) -> None:
    outbox = Outbox(database, OutboxLimits(per_call=1, per_recipient_per_day=2))
    await outbox.put("sms", to=STRANGER_PHONE, subject="x", body="x", linkedid="c1")
    for _ in range(10):  # an abuser pressing "SMS it" in one call: refused, kept, not counted
        with pytest.raises(MessageRefused, match="per_call"):
            await outbox.put("sms", to=STRANGER_PHONE, subject="x", body="x", linkedid="c1")

    await outbox.put("sms", to=STRANGER_PHONE, subject="x", body="x", linkedid="c2")
    with pytest.raises(MessageRefused, match="per_recipient"):
        await outbox.put("sms", to=STRANGER_PHONE, subject="x", body="x", linkedid="c3")
    statuses = [m.status for m in await all_messages(database)]
    assert statuses.count("pending") == 2 and statuses.count("refused") == 11


@pytest.mark.parametrize(
    ("to", "reason"),
    [(LONDON, "international"), (SATELLITE, "non_geographic"), ("0912", "not_a_number")],
)
async def test_international_and_satellite_numbers_are_refused_and_kept_as_evidence(
    database: Database, to: str, reason: str
) -> None:
    with pytest.raises(MessageRefused) as refused:
        await Outbox(database).put("sms", to=to, subject="centres", body="x", linkedid="c1")
    assert refused.value.reason == reason
    [message] = await all_messages(database)
    assert (message.to, message.status, message.refusal) == (to, "refused", reason)


async def test_other_countries_and_premium_numbers_when_the_settings_allow_them(
    database: Database,
) -> None:
    settings = Settings(outbound_regions=("GB",), outbound_allow_premium=True)
    outbox = Outbox(database, OutboxLimits.from_settings(settings))
    await outbox.put("sms", to=LONDON, subject="centres", body="x")
    await outbox.put("sms", to=SATELLITE, subject="centres", body="x")
    with pytest.raises(MessageRefused, match="international"):
        await outbox.put("sms", to="+33612345678", subject="centres", body="x")


def test_only_a_valid_domestic_mobile_is_a_domestic_mobile() -> None:
    home = Destinations(region="IR")
    assert home.domestic_mobile(STRANGER_PHONE)
    assert not home.domestic_mobile("+982122223333")  # a landline
    assert not home.domestic_mobile("+79161234567")  # a Russian mobile
    assert not home.domestic_mobile(SATELLITE)


async def test_concurrent_requests_never_pass_the_cap_together(database: Database) -> None:
    # Two engines on one database, as two IVR processes would have.
    other = Database(database.url)
    outboxes = [Outbox(db, OutboxLimits(per_call=3)) for db in (database, other)]

    async def ask(outbox: Outbox) -> bool:
        try:
            await outbox.put("sms", to=STRANGER_PHONE, subject="x", body="x", linkedid="c1")
        except MessageRefused:
            return False
        return True

    try:
        accepted = await asyncio.gather(*(ask(outboxes[n % 2]) for n in range(20)))
    finally:
        await other.dispose()
    pending = [m for m in await all_messages(database) if m.status == "pending"]
    assert len(pending) == sum(accepted) == 3
    assert len(await all_messages(database)) == 20


class Recorder:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, message: Outgoing) -> str:
        self.sent.append(message.to)
        return f"id-{len(self.sent)}"

    async def close(self) -> None:
        pass


async def test_refused_messages_are_never_sent(database: Database) -> None:
    outbox = Outbox(database, OutboxLimits(per_call=1))
    await outbox.put("sms", to=STRANGER_PHONE, subject="x", body="x", linkedid="c1")
    for to in (STRANGER_PHONE, LONDON):
        with pytest.raises(MessageRefused):
            await outbox.put("sms", to=to, subject="x", body="x", linkedid="c1")
    gateway = Recorder()
    await OutboxSender(database, gateway).send_pending()
    assert gateway.sent == [STRANGER_PHONE]


async def test_no_service_sends_to_a_calling_number_that_is_not_a_domestic_mobile(
    database: Database,
) -> None:
    await build_customer_file(database)
    for caller_number in ("+982122223333", SATELLITE, LONDON):
        caller = ScriptedCaller.keys("2", "2", POSTAL_CODE, "1")  # branches, then "SMS it"
        session = await call_ivr(database, caller, caller_number, linkedid=f"call-{caller_number}")
        assert await Outbox(database).for_call(session.linkedid) == []
        assert en("no_mobile_on_file") in caller.heard
        assert en("sms_sent") not in caller.heard
