"""The insurer's text service against the real customer file, outbox, inbox, do-not-call list
and interaction records, on SQLite and PostgreSQL: a customer texts a keyword in Persian,
English or Russian (any digits) and the answer from their file is queued for them; private
answers only to numbers on the file; STOP shared with the dialer; every exchange recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from ivr_support import (
    CLAIM_CODE,
    GOLD_PHONE,
    POLICY_NUMBER,
    POSTAL_CODE,
    build_customer_file,
)
from sqlalchemy import select

from customer_file.views import CustomerRegistration, CustomerSummary
from dialer.do_not_call import DoNotCallList
from integrations.customer_file.shareholders import GeneralMeeting
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from integrations.messaging.inbox import Inbox
from integrations.messaging.outbox import OutboundMessage, Outbox
from interactions.outcomes import Outcome
from interactions.records import InteractionRecords
from interactions.table import Interaction
from messaging.text_service import TextService
from tamas.limits import FailureLimiter, MemoryFailures

STRANGER = "+989350000000"
# Another customer, with an Iranian mobile (the ivr_support one's is Russian: the outbox
# sends nothing abroad).
OTHER_PHONE = "+989120000001"


@dataclass
class Texting:
    database: Database
    service: TextService
    gold_id: int
    regular_id: int
    sent: int = 0

    async def text(self, sender: str, body: str) -> str | None:
        """Send a text as `sender`; the answer queued for them (None: none)."""
        self.sent += 1
        reply = await self.service.receive("local", f"in-{self.sent}", sender, body, "3000")
        assert reply is not None
        if reply.answer_id is None:
            return None
        async with self.database.session() as session:
            row = await session.get(OutboundMessage, reply.answer_id)
            assert row is not None and row.kind == "sms" and row.to == sender
            return row.body


def service_for(
    database: Database, per_hour: int = 30, customer_file: object = None
) -> TextService:
    limiter = FailureLimiter(MemoryFailures(), per_hour, 3600.0, secret=b"test")
    return TextService(
        customer_file or SqlCustomerFile(database),  # type: ignore[arg-type]
        Outbox(database),
        Inbox(database),
        InteractionRecords(database),
        DoNotCallList(database),
        limiter,
    )


@pytest.fixture
async def texting(database: Database) -> AsyncIterator[Texting]:
    ids = await build_customer_file(database)
    other = await SqlCustomerFile(database).register_customer(
        CustomerRegistration(family_name_fa="رضایی", language="en", phones=(OTHER_PHONE,))
    )
    yield Texting(database, service_for(database), ids.gold_id, other.id)


async def test_customer_texting_debt_in_persian_gets_the_balance_in_persian_digits(
    texting: Texting,
) -> None:
    answer = await texting.text(GOLD_PHONE, "بدهی")
    # 2 installments of 15,000,000 and a bounced cheque of 8,000,000.
    assert answer is not None and "۳۸٬۰۰۰٬۰۰۰ ریال" in answer and "قسط بعدی" in answer


@pytest.mark.parametrize(
    ("body", "expected"),
    [("Debt", "Balance: 38,000,000 Rials"), ("ДОЛГ", "Задолженность: 38\u00a0000\u00a0000")],
)
async def test_latin_and_cyrillic_keywords_are_answered_in_their_language(
    texting: Texting, body: str, expected: str
) -> None:
    answer = await texting.text(GOLD_PHONE, body)
    assert answer is not None and expected in answer


async def test_installments_and_cheques_due_are_listed_with_their_dates(texting: Texting) -> None:
    installments = await texting.text(GOLD_PHONE, "due")
    assert installments is not None and installments.startswith("Installments:")
    assert "(overdue)" in installments and installments.count("15,000,000 Rials") == 2
    cheques = await texting.text(GOLD_PHONE, "چک")
    assert cheques is not None and "چک‌های سررسید" in cheques and "برگشتی" in cheques


async def test_a_claims_status_is_told_only_to_its_holders_numbers(texting: Texting) -> None:
    persian_digits = CLAIM_CODE.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    owner = await texting.text(GOLD_PHONE, f"خسارت {persian_digits}")
    assert owner is not None and "تأیید شده" in owner and "۱٬۲۵۰٬۰۰۰٬۰۰۰" in owner
    other_customer = await texting.text(OTHER_PHONE, f"claim {CLAIM_CODE}")
    assert other_customer is not None and "not on your number" in other_customer
    stranger = await texting.text(STRANGER, f"claim {CLAIM_CODE}")
    assert stranger is not None and "not on any customer's file" in stranger
    unknown = await texting.text(GOLD_PHONE, "claim 99999999")
    assert unknown is not None and "No claim" in unknown


async def test_anyone_can_check_a_policys_authenticity_by_its_number(texting: Texting) -> None:
    genuine = await texting.text(STRANGER, f"policy {POLICY_NUMBER}")
    assert genuine is not None and "is genuine" in genuine and "Maryam" not in genuine
    fake = await texting.text(STRANGER, "استعلام ۱۲۳۴۵۶۷۸۹۰۱۲")
    assert fake is not None and "اصالت آن تأیید نمی‌شود" in fake


async def test_a_renewal_request_makes_one_callback_task_while_it_is_open(
    texting: Texting,
) -> None:
    first = await texting.text(GOLD_PHONE, "تمدید")
    again = await texting.text(GOLD_PHONE, "renew")
    assert first is not None and again is not None
    tracking = "".join(ch for ch in again if ch.isdigit())
    assert tracking and tracking in first.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    tasks = await texting.service.customer_file.callback_tasks_for_agent("nobody")
    assert [task.kind for task in tasks] == ["renewal"]


async def test_nearest_branch_by_postal_code_dividend_and_meeting_resolutions(
    texting: Texting,
) -> None:
    branch = await texting.text(STRANGER, f"branch {POSTAL_CODE}")
    assert branch is not None and branch.startswith("Azadi branch")
    dividend = await texting.text(GOLD_PHONE, "dividend")
    assert dividend is not None and "Dividend 1404: 5,400,000 Rials" in dividend
    assert await texting.text(STRANGER, "dividend") == (
        "This number is not on any customer's file; text us from your registered number."
    )
    async with texting.database.session() as session:
        session.add(
            GeneralMeeting(
                held_at=datetime.now(UTC) - timedelta(days=60),
                place_fa="تهران",
                agenda=[],
                resolutions="Dividend of 450 Rials per share approved.",
            )
        )
        await session.commit()
    meeting = await texting.text(STRANGER, "meeting")
    assert meeting is not None and "450 Rials per share approved" in meeting


async def test_faq_by_keyword_and_short_help_for_anything_else(texting: Texting) -> None:
    hours = await texting.text(STRANGER, "ساعات كاري؟")  # Arabic kaf and yeh, as some phones
    assert hours is not None and "شنبه تا چهارشنبه" in hours
    faq = await texting.text(STRANGER, "opening hours?")
    assert faq is not None and "Saturday to Wednesday" in faq
    help_text = await texting.text(STRANGER, "hello there")
    assert help_text is not None and help_text.startswith("Text: DEBT")


async def test_stop_puts_the_number_on_the_dialers_do_not_call_list(texting: Texting) -> None:
    answer = await texting.text(GOLD_PHONE, "لغو")
    assert answer is not None and "دیگر" in answer
    assert await DoNotCallList(texting.database).holds(GOLD_PHONE)


async def test_a_text_delivered_twice_is_answered_once_and_recorded_as_an_interaction(
    texting: Texting,
) -> None:
    first = await texting.service.receive("local", "dup-1", GOLD_PHONE, "debt")
    again = await texting.service.receive("local", "dup-1", GOLD_PHONE, "debt")
    assert first is not None and first.outcome == Outcome.SELF_SERVED and again is None
    async with texting.database.session() as session:
        answers = list(await session.scalars(select(OutboundMessage)))
        record = await session.scalar(select(Interaction))
    assert len(answers) == 1
    assert record is not None and record.channel == "sms" and record.customer_id == texting.gold_id
    assert record.outcome == "self_served" and record.outcome_detail == "text_debt"
    assert [line["from"] for line in record.transcript] == ["customer", "tamas"]


async def test_answers_are_rate_limited_per_number(database: Database) -> None:
    await build_customer_file(database)
    limited = Texting(database, service_for(database, per_hour=2), 0, 0)
    assert await limited.text(STRANGER, "help") is not None
    assert await limited.text(STRANGER, "help") is not None
    assert await limited.text(STRANGER, "help") is None
    assert await limited.text(GOLD_PHONE, "help") is not None  # another number: its own count


class SlowCustomerFile(SqlCustomerFile):
    async def customer_by_phone(self, phone: str) -> CustomerSummary | None:
        await asyncio.sleep(10)
        return None


async def test_a_slow_customer_file_gets_a_polite_try_later(database: Database) -> None:
    service = service_for(database, customer_file=SlowCustomerFile(database))
    service.lookup_timeout_s = 0.2
    reply = await service.receive("local", "slow-1", GOLD_PHONE, "debt")
    assert reply is not None and reply.outcome == Outcome.SYSTEM_ERROR
    assert reply.answer is not None and "later" in reply.answer


async def test_tamas_messages_text_answers_one_text_from_the_terminal(
    texting: Texting, capsys: pytest.CaptureFixture[str]
) -> None:
    from argparse import Namespace

    from integrations.messaging import command
    from tamas.settings import Settings

    settings = Settings(database_url=texting.database.url)
    args = Namespace(action="text", sender="09121110000", body="بدهی")
    assert await command.run(args, settings) == 0
    printed = capsys.readouterr().out
    assert "keyword: debt; language: fa; outcome: self_served" in printed
    assert "۳۸٬۰۰۰٬۰۰۰ ریال" in printed


async def test_a_text_whose_worker_stopped_before_answering_is_taken_up_again(
    texting: Texting,
) -> None:
    from sqlalchemy import update

    from integrations.messaging.inbox import InboundMessage

    kept = await texting.service.keep("local", "stopped-1", GOLD_PHONE, "debt")
    assert kept is not None
    assert await texting.service.take_up_unanswered() == 0  # its worker may still be at it
    await texting.database.write(
        update(InboundMessage).values(claimed_at=datetime.now(UTC) - timedelta(minutes=10))
    )
    assert await texting.service.take_up_unanswered() == 1
    assert await texting.service.take_up_unanswered() == 0
    async with texting.database.session() as session:
        row = await session.get(InboundMessage, kept[0])
        answers = list(await session.scalars(select(OutboundMessage)))
    assert row is not None and row.status == "answered" and row.answer_id == answers[0].id
    assert len(answers) == 1 and answers[0].body.startswith("Balance:")


async def test_a_number_texted_alone_is_found_as_a_claim_a_postal_code_or_a_policy(
    texting: Texting,
) -> None:
    claim = await texting.text(GOLD_PHONE, CLAIM_CODE)
    assert claim is not None and "تأیید شده" in claim
    branch = await texting.text(STRANGER, POSTAL_CODE)
    assert branch is not None and "شعبه آزادی" in branch
    policy = await texting.text(STRANGER, POLICY_NUMBER)
    assert policy is not None and "اصیل است" in policy
    nothing = await texting.text(STRANGER, "555555555")
    assert nothing is not None and nothing.startswith("راهنما")


async def test_a_code_the_customer_file_refuses_is_answered_not_put_off(texting: Texting) -> None:
    # Not a valid postal code (the customer file refuses it): no branch, not "try later".
    branch = await texting.text(STRANGER, "branch 1000012345")
    assert branch is not None and branch.startswith("No branch found")
