"""A campaign's results exported (CSV with a BOM for Excel, XLSX) with every target and its
attempts' outcomes, and the SMS that falls back, once, to the targets its calls never reached."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta

from dialer_operators_support import NOW
from openpyxl import load_workbook
from sqlalchemy import select

from dialer import kinds
from dialer.attempts import Attempts
from dialer.campaigns import Campaign, Campaigns, ClaimedTarget
from dialer.do_not_call import DoNotCallList
from dialer.exports import export_campaign
from dialer.fallback import send_fallbacks
from dialer.imports import TargetRow
from integrations.database import Database
from integrations.messaging.outbox import OutboundMessage, Outbox
from interactions.outcomes import Outcome
from interactions.records import InteractionRecords

KINDS = kinds.load()
RENEWAL = KINDS["renewal_due"]
UNREACHED = "+989121000001"
ANSWERED = "+989121000002"
PENDING = "+79161234567"
BARRED = "+989121000009"


async def campaign_called(database: Database) -> Campaign:
    """Four targets: one busy three times (retries spent), one who took an agent, one not
    answering once (still to call), one busy three times whose number then went on the
    do-not-call list."""
    campaigns = Campaigns(database)
    campaign = await campaigns.create("renewals", RENEWAL, NOW)
    fields = {"policy_number": "P-77", "end_date": "2026-12-20"}
    await campaigns.add_targets(
        campaign.id,
        [
            TargetRow(line=2, phone=UNREACHED, name="علی رضایی", language="fa", fields=fields),
            TargetRow(line=3, phone=ANSWERED, name="سارا محمدی", language="fa", fields=fields),
            TargetRow(line=4, phone=PENDING, name="Ольга", language="ru", fields=fields),
            TargetRow(line=5, phone=BARRED, name="مریم", language="fa", fields=fields),
        ],
    )
    attempts = Attempts(database, InteractionRecords(database))
    by_phone = {target.phone: target for target in await campaigns.targets(campaign.id)}
    moment = NOW

    async def call(target: ClaimedTarget, outcome: Outcome) -> None:
        nonlocal moment
        attempt = await attempts.begin(campaign, target, "worker-1", moment)
        moment += timedelta(minutes=1)
        answered = moment if outcome is Outcome.TO_AGENT else None
        await attempts.settle(
            campaign, attempt.channel_id, outcome, moment, RENEWAL.retries, answered
        )

    for _ in range(3):
        await call(by_phone[UNREACHED], Outcome.BUSY)
        await call(by_phone[BARRED], Outcome.BUSY)
    await call(by_phone[ANSWERED], Outcome.TO_AGENT)
    await call(by_phone[PENDING], Outcome.NO_ANSWER)
    await DoNotCallList(database).add(BARRED, "operator", moment)
    return campaign


async def test_csv_export_lists_every_target_with_its_attempts_for_excel(
    database: Database,
) -> None:
    campaign = await campaign_called(database)
    data = await export_campaign(database, campaign, "csv")
    assert data.startswith("\ufeff".encode())  # Excel reads it as UTF-8, not Windows-1256
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [row["phone"] for row in rows] == [UNREACHED, ANSWERED, PENDING, BARRED]
    unreached = rows[0]
    assert (unreached["name"], unreached["state"], unreached["attempts"]) == (
        "علی رضایی",
        "done",
        "3",
    )
    assert [unreached[f"attempt_{n}_outcome"] for n in (1, 2, 3)] == ["busy"] * 3
    # 09:00 UTC is 12:30 in Tehran.
    assert unreached["attempt_1_at"] == "2026-12-01 12:30:00"
    assert (unreached["policy_number"], unreached["end_date"]) == ("P-77", "2026-12-20")
    assert (rows[1]["attempt_1_outcome"], rows[1]["attempt_2_outcome"]) == ("to_agent", "")
    assert (rows[2]["state"], rows[2]["last_outcome"]) == ("pending", "no_answer")


async def test_xlsx_export_has_the_same_rows(database: Database) -> None:
    campaign = await campaign_called(database)
    book = load_workbook(io.BytesIO(await export_campaign(database, campaign, "xlsx")))
    sheet = book["renewals"]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    header = values[0]
    assert header[:7] == ["phone", "name", "language", "customer_id", "state", "attempts",
                          "last_outcome"]  # fmt: skip
    assert [row[0] for row in values[1:]] == [UNREACHED, ANSWERED, PENDING, BARRED]
    first = dict(zip(header, values[1], strict=True))
    assert (first["attempts"], first["attempt_3_outcome"]) == (3, "busy")


async def sms_to(database: Database, phone: str) -> list[OutboundMessage]:
    async with database.session() as session:
        return list(
            await session.scalars(select(OutboundMessage).where(OutboundMessage.to == phone))
        )


async def test_unreached_target_gets_one_sms_however_often_the_fallback_runs(
    database: Database,
) -> None:
    campaign = await campaign_called(database)
    outbox = Outbox(database)
    first, second = await asyncio.gather(
        send_fallbacks(database, outbox, campaign, RENEWAL, NOW),
        send_fallbacks(database, outbox, campaign, RENEWAL, NOW),
    )
    assert first.queued + second.queued == 1
    assert first.already + second.already == 1
    again = await send_fallbacks(database, outbox, campaign, RENEWAL, NOW)
    assert (again.queued, again.already) == (0, 1)

    [message] = await sms_to(database, UNREACHED)
    assert (message.kind, message.status, message.language) == ("sms", "pending", "fa")
    # The Persian text, with the end date in the Jalali calendar (20 Dec 2026 = 29 Azar 1405).
    assert message.body.startswith("علی رضایی گرامی، بیمه‌نامه P-77")
    assert "1405/09/29" in message.body
    assert message.subject == "campaign_renewal_due"
    # Reached, still to call, and on the do-not-call list: no SMS.
    for phone in (ANSWERED, PENDING, BARRED):
        assert await sms_to(database, phone) == []
    csv_rows = (await export_campaign(database, campaign, "csv")).decode("utf-8-sig")
    assert "queued" in csv_rows.splitlines()[1]
