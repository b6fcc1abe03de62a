"""The customer hears about their case at the steps that matter, by the channel they chose:
received (with the tracking number), assigned to a person, resolved, and the satisfaction
question after closing; nothing when they said so; a refusal by the outbox never stops a step."""

from __future__ import annotations

from sqlalchemy import select

from cases import types
from cases.notices import CaseNotices, NotifyBy
from cases.store import CaseChannel, CaseRequest, CaseStore
from integrations.database import Database
from integrations.messaging.outbox import OutboundMessage, Outbox, OutboxLimits


async def _sent(database: Database) -> list[OutboundMessage]:
    async with database.session() as session:
        query = select(OutboundMessage).order_by(OutboundMessage.id)
        return list((await session.scalars(query)).all())


def store_of(database: Database, limits: OutboxLimits | None = None) -> CaseStore:
    notices = CaseNotices(Outbox(database, limits))
    return CaseStore(database, types.load(), notices=notices)


async def test_customer_is_told_received_assigned_resolved_and_asked(database: Database) -> None:
    store = store_of(database)
    request = CaseRequest("callback", CaseChannel.IVR, "ivr", "", {"reason": "claim"},
                          phone="09121234567", language="en")  # fmt: skip
    case = await store.open_case(request)
    number = case.tracking_number
    await store.assign(number, "supervisor:1", owner="101")
    await store.assign(number, "supervisor:1", owner="101")  # the same person: told once
    await store.move(number, "in_progress", "agent:101")
    await store.move(number, "resolved", "agent:101")
    await store.move(number, "closed", "agent:101")
    sent = await _sent(database)
    assert [m.subject for m in sent] == ["case_received", "case_assigned", "case_resolved",
                                         "case_survey"]  # fmt: skip
    assert {m.to for m in sent} == {"+989121234567"} and {m.kind for m in sent} == {"sms"}
    assert sent[0].body == f"We have your request. Tracking number: {number}"
    assert sent[3].body.endswith("Reply with 1 to 5.")


async def test_persian_by_default_email_when_chosen_nothing_when_refused(
    database: Database,
) -> None:
    store = store_of(database)
    fields = {"remedy_sought": "refund", "category": "delay"}
    await store.open_case(CaseRequest("complaint", CaseChannel.SMS, "customer", "", fields,
                                      phone="09121234567"))  # fmt: skip
    await store.open_case(CaseRequest("complaint", CaseChannel.WEB, "customer", "", fields,
                                      phone="09121234567", notify_by=NotifyBy.EMAIL,
                                      email="reza@example.ir"))  # fmt: skip
    await store.open_case(CaseRequest("complaint", CaseChannel.WEB, "customer", "", fields,
                                      phone="09121234567", notify_by=NotifyBy.NONE))  # fmt: skip
    sent = await _sent(database)
    assert [(m.kind, m.to) for m in sent] == [
        ("sms", "+989121234567"),
        ("email", "reza@example.ir"),
    ]
    assert sent[0].body.startswith("درخواست شما ثبت شد")


async def test_a_refused_notice_does_not_stop_the_case(database: Database) -> None:
    store = store_of(database, OutboxLimits(per_recipient_per_day=1))
    request = CaseRequest("callback", CaseChannel.IVR, "ivr", "", {"reason": "claim"},
                          phone="09121234567")  # fmt: skip
    first = await store.open_case(request)
    second = await store.open_case(request)  # its notice is past the recipient's cap
    assert second.tracking_number != first.tracking_number
    statuses = [m.status for m in await _sent(database)]
    assert statuses == ["pending", "refused"]
