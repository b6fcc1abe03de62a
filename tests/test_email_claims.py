"""Claims reported by email: a real SMTP client (aiosmtplib) delivers letters to the claims
endpoint on loopback; each becomes a case (channel email, its line of business) with a task in
the queue of that line's experts, an inbound interaction with its attachments, and an email
telling the sender the tracking number. A letter delivered twice opens one case; a letter the
case cannot be opened for now is answered 451, so the mail server delivers it again."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import aiosmtplib
import pytest
from dialer_operators_support import customer_file as write_customer_file
from sqlalchemy import select
from test_messaging_senders import FROM, MailServer, mail_server  # noqa: F401  (fixture)

from cases import types as case_types
from cases.store import CaseStore
from cases.tasks import CaseTasks
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from integrations.messaging.gateway import OutboxSender
from integrations.messaging.mail import SmtpMailer
from integrations.messaging.mail_inbound import ClaimsMailbox, serve
from integrations.messaging.outbox import OutboundMessage, Outbox
from interactions.records import InteractionRecords
from interactions.table import Interaction
from messaging import email_claims
from messaging.email_inbound import ClaimsByEmail

CLAIMS = "claims@bimeh.example"
BOUNCES = "bounces@bimeh.example"
PHOTO = b"\xff\xd8\xff\xe0 a photo of the damaged car"


@dataclasses.dataclass
class Endpoint:
    port: int
    mailbox: ClaimsMailbox
    intake: ClaimsByEmail
    customers: dict[str, int]
    database: Database


@pytest.fixture
async def endpoint(database: Database, tmp_path: Path) -> AsyncIterator[Endpoint]:
    customers = await write_customer_file(database)
    intake = ClaimsByEmail(
        CaseStore(database, case_types.load()),
        CaseTasks(database),
        InteractionRecords(database),
        email_claims.load(),
        tmp_path / "received",
        customer_file=SqlCustomerFile(database),
        outbox=Outbox(database),
    )
    mailbox = ClaimsMailbox(intake, CLAIMS, bounce_address=BOUNCES, outbox=Outbox(database))
    server = await serve(mailbox, "127.0.0.1", 0)
    try:
        yield Endpoint(server.sockets[0].getsockname()[1], mailbox, intake, customers, database)
    finally:
        server.close()
        await server.wait_closed()


def letter(subject: str, body: str, *, sender: str = "ali@mail.example") -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = CLAIMS
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="mail.example")
    message.set_content(body)
    return message


async def deliver(endpoint: Endpoint, message: EmailMessage) -> str:
    """The endpoint's answer to the letter's data (the text after the code)."""
    _rejected, answer = await aiosmtplib.send(
        message, hostname="127.0.0.1", port=endpoint.port, timeout=10
    )
    return answer


async def test_a_motor_claim_by_email_becomes_a_case_with_a_task_for_the_motor_experts(
    endpoint: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    claim = letter(
        "گزارش خسارت تصادف",
        "سلام. خودروی من دیروز تصادف کرد.\nشماره بیمه‌نامه: P-ALI-1\nشماره تماس: ۰۹۱۲۱۰۰۰۰۰۱",
    )
    claim.add_attachment(PHOTO, maintype="image", subtype="jpeg", filename="../../car.jpg")

    answer = await deliver(endpoint, claim)

    [case] = await CaseStore(endpoint.database, case_types.load()).find()
    assert answer == f"2.0.0 claim case {case.tracking_number}"
    assert (case.channel, case.type, case.fields["reason"]) == ("email", "callback", "claim")
    assert case.customer_id == endpoint.customers["ali"]
    assert case.phone == "+989121000001"
    [task] = await CaseTasks(endpoint.database).unfinished(team="claims")
    assert task.tracking_number == case.tracking_number
    assert "third_party_motor" in task.title and "P-ALI-1" in task.title
    # The letter is an inbound interaction; its photo kept inside the folder, whatever its name.
    async with endpoint.database.session() as session:
        [record] = (await session.scalars(select(Interaction))).all()
    assert (record.channel, record.direction, record.outcome) == (
        "email",
        "inbound",
        "callback_requested",
    )
    assert record.caller_number == "ali@mail.example"
    assert record.customer_id == endpoint.customers["ali"]
    [photo] = record.inputs
    assert photo["type"] == "image/jpeg" and photo["document"].endswith("/car.jpg")
    assert (endpoint.intake.attachments_dir / photo["document"]).read_bytes() == PHOTO
    # ... and the sender is told the tracking number, in Persian.
    async with endpoint.database.session() as session:
        [ack] = (await session.scalars(select(OutboundMessage))).all()
    assert (ack.kind, ack.to, ack.language) == ("email", "ali@mail.example", "fa")
    assert case.tracking_number in ack.body and "شماره پیگیری" in ack.body
    assert "ali@mail.example" not in caplog.text  # the sender's address is personal data


async def test_a_health_claim_in_english_goes_to_the_health_experts(endpoint: Endpoint) -> None:
    await deliver(
        endpoint,
        letter(
            "Claim: hospital stay",
            "I was in hospital last week, the bills are attached. Call me on +989121000002.",
            sender="sara@mail.example",
        ),
    )

    [task] = await CaseTasks(endpoint.database).unfinished(team="health")
    assert "health" in task.title
    assert await CaseTasks(endpoint.database).unfinished(team="claims") == []


async def test_the_policy_named_tells_the_line_when_the_words_do_not(endpoint: Endpoint) -> None:
    # P-ALI-2 is a fire policy; the letter itself names no line.
    await deliver(endpoint, letter("خسارت", "لطفاً رسیدگی کنید. بیمه‌نامه P-ALI-2"))

    [task] = await CaseTasks(endpoint.database).unfinished(team="adjusters")
    assert "fire" in task.title


async def test_a_letter_delivered_twice_opens_one_case(endpoint: Endpoint) -> None:
    claim = letter("Car accident", "Third party claim, policy P-ALI-1, phone 09121000001")

    first = await deliver(endpoint, claim)
    again = await deliver(endpoint, claim)

    cases = await CaseStore(endpoint.database, case_types.load()).find()
    assert len(cases) == 1
    assert again == f"{first} (already received)"


async def test_a_letter_for_another_mailbox_is_refused(endpoint: Endpoint) -> None:
    claim = letter("Car accident", "policy P-ALI-1")
    del claim["To"]
    claim["To"] = "ceo@bimeh.example"

    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await deliver(endpoint, claim)
    assert await CaseStore(endpoint.database, case_types.load()).find() == []


async def test_a_case_that_cannot_be_opened_now_is_delivered_again_later(
    endpoint: Endpoint,
) -> None:
    claim = letter("Car accident", "Third party, policy P-ALI-1, phone 09121000001")
    rules = endpoint.intake.rules
    endpoint.intake.rules = dataclasses.replace(rules, case_type="no_such_case_type")

    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await deliver(endpoint, claim)
    assert refused.value.code == 451  # the mail server keeps the letter and tries again

    endpoint.intake.rules = rules
    answer = await deliver(endpoint, claim)

    [case] = await CaseStore(endpoint.database, case_types.load()).find()
    assert answer.endswith(case.tracking_number)


# --- bounces of our own letters ------------------------------------------------------------

DSN = """\
From: MAILER-DAEMON@mail.example
To: bounces@bimeh.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-1@mail.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.
--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example

Final-Recipient: rfc822; nobody@else.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <nobody@else.example>: user unknown

--B
Content-Type: text/rfc822-headers

From: noreply@bimeh.example
To: nobody@else.example
Message-ID: {message_id}
Subject: x

--B--
"""


async def test_a_bounce_marks_the_email_undelivered(
    endpoint: Endpoint,
    mail_server: MailServer,  # noqa: F811
) -> None:
    row = await Outbox(endpoint.database).put(
        "email", to="nobody@else.example", subject="debts", body="x"
    )
    mailer = SmtpMailer("127.0.0.1", mail_server.port, FROM, starttls=False)
    sender = OutboxSender(endpoint.database, email=mailer)
    await sender.send_pending()
    [sent] = mail_server.letters()

    await aiosmtplib.send(
        DSN.format(message_id=sent["Message-ID"]).encode(),
        sender="mailer-daemon@mail.example",
        recipients=[BOUNCES],
        hostname="127.0.0.1",
        port=endpoint.port,
    )

    async with endpoint.database.session() as session:
        message = await session.get(OutboundMessage, row)
    assert message is not None and message.provider == "smtp"
    assert (message.delivery_status, message.delivery_error) == ("undelivered", "5.1.1")
    assert await CaseStore(endpoint.database, case_types.load()).find() == []  # not a claim


# --- reading the letter ----------------------------------------------------------------------


def test_the_longer_words_of_a_line_win_and_digits_are_read_in_persian() -> None:
    rules = email_claims.load()
    marine = email_claims.read_claim(
        letter("خسارت بدنه شناور", "تلفن: ۰۲۱۸۸۷۷۶۶۵۵\nبیمه‌نامه: ۱۴۰۳/۱۲۰/۵۵۶۷"), rules
    )
    car = email_claims.read_claim(letter("خسارت بدنه", "خودروی من"), rules)
    card = email_claims.read_claim(letter("Lost card", "my card was stolen"), rules)

    assert marine.line == "marine_hull"
    assert marine.phone == "02188776655" and marine.policy_number == "1403/120/5567"
    assert car.line == "motor_hull"
    assert card.line is None  # "car" is a word, not a part of "card"
