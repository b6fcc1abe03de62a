"""Emails over aiosmtplib against a real SMTP server on loopback (aiosmtpd): the letter's
plain and HTML parts from the language's template (Persian right to left), the debt
statement attached as a PDF read back in logical order, and the server's failures: a refused
recipient, a server that is down, one that is slow, one that goes silent after the letter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from dialer_operators_support import TODAY
from dialer_operators_support import customer_file as write_customer_file
from sqlalchemy import select
from test_email_documents import assert_reads
from test_messaging_senders import (  # noqa: F401  (mail_server is a fixture)
    FROM,
    REFUSED_MAILBOX,
    MailServer,
    mail_server,
)

from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from integrations.messaging.gateway import OutboxSender
from integrations.messaging.mail import SmtpMailer
from integrations.messaging.outbox import OutboundMessage, Outbox
from integrations.messaging.port import Outgoing
from messaging import documents, email_templates, written
from messaging.email_attachments import StatementAttachments
from tamas.settings import Settings


def fonts() -> documents.Fonts:
    settings = Settings()
    return documents.Fonts.from_paths(settings.document_font, settings.document_font_bold)


def _part(letter: EmailMessage, subtype: str) -> str:
    part = letter.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content())


async def _drain(database: Database, mailer: SmtpMailer) -> tuple[int, int, int, int]:
    sender = OutboxSender(database, email=mailer)
    try:
        result = await sender.send_pending()
    finally:
        await sender.close()
    return result.sent, result.failed, result.deferred, result.uncertain


async def _status(database: Database) -> str:
    async with database.session() as session:
        [row] = (await session.scalars(select(OutboundMessage))).all()
        return row.status


# --- what the letter looks like ------------------------------------------------------------


async def test_a_persian_debt_email_is_right_to_left_with_its_statement_attached(
    database: Database,
    mail_server: MailServer,  # noqa: F811
) -> None:
    customers = await write_customer_file(database)
    ali = customers["ali"]
    debt = await SqlCustomerFile(database).debts(ali)
    first = debt.next_installments[0]
    await Outbox(database).put(
        "email",
        to="ali@bimeh.example",
        subject="debts",
        body=f"مانده بدهی شما {written.amount(debt.balance_rials, 'fa')} است.",
        customer_id=ali,
    )
    attachments = StatementAttachments(
        SqlCustomerFile(database), fonts(), header="بیمه تمس", today=lambda: TODAY
    )
    mailer = SmtpMailer("127.0.0.1", mail_server.port, FROM, starttls=False, timeout_s=5)
    mailer.attachments = attachments

    assert await _drain(database, mailer) == (1, 0, 0, 0)

    [letter] = mail_server.letters()
    assert letter["Subject"] == "مانده بدهی و سررسیدها"
    assert letter["Content-Language"] == "fa"
    html = _part(letter, "html")
    assert '<html lang="fa" dir="rtl">' in html and "text-align:right" in html
    assert "مانده بدهی شما" in _part(letter, "plain")
    [pdf] = list(letter.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == "صورت‌حساب-بدهی.pdf"
    assert "پیوست: صورت‌حساب-بدهی.pdf" in _part(letter, "plain")
    content = pdf.get_content()
    assert isinstance(content, bytes)
    assert_reads(
        content,
        "صورت‌حساب بدهی",
        "علی رضایی گرامی،",
        f"مانده بدهی {written.amount(debt.balance_rials, 'fa')}",
        f"سررسید گذشته {written.amount(debt.overdue_rials, 'fa')}",
        f"قسط {written.number(first.sequence, 'fa')} بیمه‌نامه {first.policy_number}، "
        f"سررسید {written.date(first.due_date, 'fa')}",
    )


def test_english_and_russian_letters_are_left_to_right() -> None:
    mailer = SmtpMailer("127.0.0.1", 25, FROM)
    for language, subject in (
        ("en", "Your claim status"),
        ("ru", "Статус вашего страхового случая"),
    ):
        letter = mailer.compose(
            Outgoing(
                to="a@bimeh.example",
                subject="claim_status",
                body="Approved.",
                language=language,
                reference="1",
            )
        )
        assert letter["Subject"] == subject
        assert f'<html lang="{language}" dir="ltr">' in _part(letter, "html")
        assert list(letter.iter_attachments()) == []


def test_the_body_is_text_in_the_html_part_never_markup() -> None:
    letter = SmtpMailer("127.0.0.1", 25, FROM).compose(
        Outgoing(
            to="a@bimeh.example",
            subject="centres",
            body='<a href="http://evil.example">پرداخت</a>\n<script>x()</script>',
            language="fa",
            reference="2",
        )
    )
    html = _part(letter, "html")

    assert "<script>" not in html and "<a href" not in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html


def test_templates_without_a_language_fall_back_to_persian() -> None:
    letter = email_templates.write("عنوان", "متن", "de", insurer="بیمه")

    assert letter.language == "fa" and letter.direction == "rtl"


# --- the server's failures -----------------------------------------------------------------


async def test_a_refused_recipient_fails_for_good(
    database: Database,
    mail_server: MailServer,  # noqa: F811
) -> None:
    await Outbox(database).put("email", to=REFUSED_MAILBOX, subject="debts", body="x")
    mailer = SmtpMailer("127.0.0.1", mail_server.port, FROM, starttls=False, timeout_s=5)

    assert await _drain(database, mailer) == (0, 1, 0, 0)
    assert await _status(database) == "failed"


async def test_a_server_that_is_down_loses_nothing(
    database: Database, unused_tcp_port: int
) -> None:
    await Outbox(database).put("email", to="ali@bimeh.example", subject="debts", body="x")
    mailer = SmtpMailer("127.0.0.1", unused_tcp_port, FROM, starttls=False, timeout_s=2)

    assert await _drain(database, mailer) == (0, 0, 1, 0)
    assert await _status(database) == "pending"


class SlowServer:
    """Has each letter once its data arrived, and takes `pause_s` to say so."""

    def __init__(self, pause_s: float) -> None:
        self.pause_s = pause_s
        self.received: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        await asyncio.sleep(self.pause_s)
        return "250 OK queued"


@pytest.fixture
async def slow_server() -> AsyncIterator[tuple[SlowServer, int]]:
    handler = SlowServer(0.0)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="slow.test", loop=loop), "127.0.0.1", 0
    )
    try:
        yield handler, server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def test_a_slow_server_within_the_timeout_gets_the_letter(
    database: Database, slow_server: tuple[SlowServer, int]
) -> None:
    handler, port = slow_server
    handler.pause_s = 0.5
    await Outbox(database).put("email", to="ali@bimeh.example", subject="debts", body="x")
    mailer = SmtpMailer("127.0.0.1", port, FROM, starttls=False, timeout_s=3)

    assert await _drain(database, mailer) == (1, 0, 0, 0)
    assert len(handler.received) == 1


async def test_a_server_silent_after_the_letter_leaves_it_uncertain_not_resent(
    database: Database, slow_server: tuple[SlowServer, int]
) -> None:
    handler, port = slow_server
    handler.pause_s = 2.0  # it takes the letter, and answers after we stopped waiting
    await Outbox(database).put("email", to="ali@bimeh.example", subject="debts", body="x")
    mailer = SmtpMailer("127.0.0.1", port, FROM, starttls=False, timeout_s=0.5)

    assert await _drain(database, mailer) == (0, 0, 0, 1)
    assert await _status(database) == "uncertain"  # a person decides: it may have gone
    assert len(handler.received) == 1
    assert await _drain(database, mailer) == (0, 0, 0, 0)  # never sent a second time


async def test_a_statement_that_cannot_be_drawn_now_holds_the_letter_back(
    database: Database,
    mail_server: MailServer,  # noqa: F811
) -> None:
    await Outbox(database).put(
        "email", to="ali@bimeh.example", subject="debts", body="x", customer_id=1
    )

    async def customer_file_down(subject: str, customer_id: int | None, language: str) -> list:
        raise ConnectionRefusedError("the core system is down")

    mailer = SmtpMailer(
        "127.0.0.1", mail_server.port, FROM, starttls=False, attachments=customer_file_down
    )

    assert await _drain(database, mailer) == (0, 0, 1, 0)  # waits: not failed, not sent bare
    assert mail_server.received == []
