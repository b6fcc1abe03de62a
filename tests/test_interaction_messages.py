"""Messages as interaction records: one row per message key, however often it is recorded,
settled by its delivery report, and never set back by a late passing status."""

from __future__ import annotations

from integrations.database import Database
from interactions.outcomes import Outcome
from interactions.records import InteractionRecords, MessagePart


def _sms(key: str = "outbox:7") -> MessagePart:
    return MessagePart(
        key=key,
        channel="sms",
        direction="outbound",
        address="+989121234567",
        outcome=Outcome.SENT,
        customer_id=3,
        language="fa",
        detail="installment_due",
        text="قسط شما ۱۰ آذر سررسید می‌شود",
    )


async def test_a_message_recorded_twice_keeps_one_record(database: Database) -> None:
    records = InteractionRecords(database)
    assert await records.save_message(_sms())
    assert not await records.save_message(_sms())
    row = await records.load("outbox:7")
    assert row is not None
    assert (row.channel, row.direction, row.called_number) == ("sms", "outbound", "+989121234567")
    assert row.outcome == "sent" and row.ended_at is None


async def test_a_delivery_report_settles_the_message_and_a_late_sent_does_not_undo_it(
    database: Database,
) -> None:
    records = InteractionRecords(database)
    await records.save_message(_sms())
    assert await records.settle_message("outbox:7", Outcome.DELIVERED)
    assert not await records.settle_message("outbox:7", Outcome.SENT)
    assert not await records.settle_message("outbox:7", Outcome.UNDELIVERED)
    row = await records.load("outbox:7")
    assert row is not None
    assert row.outcome == "delivered" and row.ended_at is not None


async def test_an_inbound_text_is_kept_under_the_senders_number(database: Database) -> None:
    records = InteractionRecords(database)
    part = MessagePart(
        key="sms-in:abc",
        channel="sms",
        direction="inbound",
        address="+989121234567",
        outcome=Outcome.ANSWERED,
        detail="debt",
        text="بدهی",
    )
    assert await records.save_message(part)
    row = await records.load("sms-in:abc")
    assert row is not None
    assert row.caller_number == "+989121234567" and row.outcome == "answered"
    assert row.ended_at is not None
