"""The outbox's fax and email senders against small local servers speaking their protocols: a
real SMTP server (aiosmtpd) on loopback, and the SMS tests' HTTP provider for faxes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import select
from test_ivr_messages import REFUSED_NUMBER, TOKEN, FakeProvider, provider  # noqa: F401  (fixture)

from integrations.database import Database
from integrations.messaging.command import sender as configured_sender
from integrations.messaging.gateway import HttpFaxGateway, OutboxSender
from integrations.messaging.mail import SmtpMailer
from integrations.messaging.outbox import OutboundMessage, Outbox
from integrations.messaging.port import Outgoing
from tamas.errors import CommandError
from tamas.settings import Settings

FROM = "Bimeh Tamas <noreply@bimeh.example>"
PERSIAN_BODY = "خسارت شما تأیید شده است.\nمبلغ: ۱۲٬۰۰۰٬۰۰۰ ریال"
RUSSIAN_BODY = "Ваш страховой случай одобрен."
# The SMTP replies the test server gives to these recipients; anyone else is accepted.
REFUSED_MAILBOX = "nobody@bimeh.example"
GREYLISTED_MAILBOX = "later@bimeh.example"


def ours(caplog: pytest.LogCaptureFixture) -> str:
    """What Tamas itself logged: the test mail server (aiosmtpd's `mail.log`) logs every
    envelope it receives, which is the peer's business, not a leak of ours."""
    return "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("mail.")
    )


# --- a mail server -----------------------------------------------------------------------
@dataclass
class MailServer:
    """What a real SMTP server on loopback received, and how to reach it."""

    port: int = 0
    received: list[Envelope] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(  # aiosmtpd calls hooks by these names
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address == REFUSED_MAILBOX:
            return "550 5.1.1 <nobody@bimeh.example>: mailbox unknown"
        if address == GREYLISTED_MAILBOX:
            return "450 4.2.0 greylisted, come back later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # aiosmtpd calls hooks by these names
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.received.append(envelope)
        return "250 OK queued"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"ivr", b"s3cret")
        if ok:
            self.logins.append(mechanism)
        return AuthResult(success=ok)

    def letters(self) -> list[EmailMessage]:
        return [
            message_from_bytes(envelope.original_content or b"", policy=policy.default)
            for envelope in self.received
        ]

    def mailer(
        self, *, starttls: bool = False, username: str = "", password: str = ""
    ) -> SmtpMailer:
        return SmtpMailer(
            "127.0.0.1",
            self.port,
            FROM,
            username=username,
            password=password,
            starttls=starttls,
            timeout_s=5.0,
        )


@pytest.fixture
async def mail_server() -> AsyncIterator[MailServer]:
    # The peer's own chatter (every SMTP line at INFO) is not what these tests read.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    mail = MailServer()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            mail,
            hostname="mail.test",
            authenticator=mail.authenticate,
            auth_require_tls=False,  # STARTTLS is off in tests
            loop=loop,
        ),
        "127.0.0.1",
        0,
    )
    mail.port = server.sockets[0].getsockname()[1]
    try:
        yield mail
    finally:
        server.close()
        await server.wait_closed()


async def _statuses(database: Database) -> dict[str, str]:
    async with database.session() as session:
        rows = await session.scalars(select(OutboundMessage))
        return {row.to: row.status for row in rows}


def _text(letter: EmailMessage) -> str:
    """The plain-text part as written: MIME carries text lines ending in CRLF, whatever the
    sender used. The letter's template puts the subject above the body and a footer below."""
    part = letter.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n").rstrip("\n")


async def _drain(database: Database, **adapters: object) -> tuple[int, int, int]:
    outbox = OutboxSender(database, **adapters)  # type: ignore[arg-type]
    try:
        result = await outbox.send_pending()
    finally:
        await outbox.close()
    return result.sent, result.failed, result.deferred


# --- email -------------------------------------------------------------------------------
async def test_a_persian_email_reaches_the_mail_server(
    database: Database, mail_server: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(database)
    row = await outbox.put(
        "email", to="ali@bimeh.example", subject="claim_status", body=PERSIAN_BODY, linkedid="c1"
    )
    await outbox.put("sms", to="+989121234567", subject="claim_status", body="x", linkedid="c1")
    caplog.set_level(logging.INFO, "integrations.messaging")

    assert await _drain(database, email=mail_server.mailer()) == (1, 0, 0)

    # SMS has no adapter here: it waits, untouched.
    assert await _statuses(database) == {"ali@bimeh.example": "sent", "+989121234567": "pending"}
    [envelope] = mail_server.received
    assert envelope.mail_from == "noreply@bimeh.example"
    assert envelope.rcpt_tos == ["ali@bimeh.example"]
    [letter] = mail_server.letters()
    assert letter["From"] == FROM
    assert letter["To"] == "ali@bimeh.example"
    assert letter["Subject"] == "وضعیت پرونده خسارت"
    assert letter["Content-Language"] == "fa"
    plain = letter.get_body(preferencelist=("plain",))
    assert plain is not None and plain.get_content_charset() == "utf-8"
    assert PERSIAN_BODY in _text(letter)
    assert f"email {row} sent, provider id {letter['Message-ID']}" in caplog.text
    assert "ali@" not in ours(caplog)


async def test_a_russian_email_after_a_login(database: Database, mail_server: MailServer) -> None:
    await Outbox(database).put(
        "email", to="ivan@bimeh.example", subject="branches", body=RUSSIAN_BODY, language="ru"
    )
    mailer = mail_server.mailer(username="ivr", password="s3cret")

    assert await _drain(database, email=mailer) == (1, 0, 0)

    assert mail_server.logins
    [letter] = mail_server.letters()
    assert letter["Subject"] == "Ближайшие филиалы и агентства"
    assert RUSSIAN_BODY in _text(letter)


async def test_an_unknown_subject_gets_the_generic_one(mail_server: MailServer) -> None:
    message = Outgoing(
        to="ali@bimeh.example", subject="new_service", body="b", language="en", reference="7"
    )
    await mail_server.mailer().send(message)

    assert mail_server.letters()[0]["Subject"] == "A message from your insurer"


async def test_a_refused_recipient_fails_and_a_greylisted_one_waits(
    database: Database, mail_server: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(database)
    await outbox.put("email", to=REFUSED_MAILBOX, subject="centres", body="x")
    await outbox.put("email", to=GREYLISTED_MAILBOX, subject="centres", body="y")

    assert await _drain(database, email=mail_server.mailer()) == (0, 1, 1)

    assert await _statuses(database) == {REFUSED_MAILBOX: "failed", GREYLISTED_MAILBOX: "pending"}
    assert "recipient refused (550)" in caplog.text
    assert "@bimeh.example" not in ours(caplog)


async def test_a_mail_server_that_is_down_loses_nothing(
    database: Database, unused_tcp_port: int
) -> None:
    await Outbox(database).put("email", to="ali@bimeh.example", subject="debts", body="z")
    mailer = SmtpMailer("127.0.0.1", unused_tcp_port, FROM, starttls=False, timeout_s=2)

    assert await _drain(database, email=mailer) == (0, 0, 1)
    assert await _statuses(database) == {"ali@bimeh.example": "pending"}


async def test_a_mail_server_that_never_answers_times_out_and_waits(database: Database) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never greets
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    await Outbox(database).put("email", to="ali@bimeh.example", subject="debts", body="z")
    try:
        mailer = SmtpMailer("127.0.0.1", port, FROM, starttls=False, timeout_s=0.5)
        assert await _drain(database, email=mailer) == (0, 0, 1)
    finally:
        server.close()
    assert await _statuses(database) == {"ali@bimeh.example": "pending"}


async def test_starttls_the_server_does_not_offer_waits(
    database: Database, mail_server: MailServer
) -> None:
    await Outbox(database).put("email", to="ali@bimeh.example", subject="debts", body="z")

    assert await _drain(database, email=mail_server.mailer(starttls=True)) == (0, 0, 1)
    assert mail_server.received == []


async def test_a_broken_address_fails_without_reaching_the_server(
    database: Database, mail_server: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(database)
    await outbox.put("email", to="ali@bimeh.example\r\nBcc: all@else.example", subject="x", body="")
    await outbox.put("email", to="not-an-address", subject="x", body="")
    await outbox.put("email", to="  ", subject="x", body="")

    assert await _drain(database, email=mail_server.mailer()) == (0, 3, 0)
    assert mail_server.received == []
    assert "not-an-address" not in ours(caplog) and "else.example" not in ours(caplog)


# --- fax: the SMS tests' provider, as the protocol is the same plus a subject ----------------
async def test_a_fax_is_sent_with_the_providers_id(
    database: Database,
    provider: FakeProvider,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    row = await Outbox(database).put(
        "fax", to="+982122223333", subject="general_meeting_invitation", body=PERSIAN_BODY
    )
    caplog.set_level(logging.INFO, "integrations.messaging")

    assert await _drain(database, fax=HttpFaxGateway(provider.url, TOKEN)) == (1, 0, 0)

    assert provider.received == [
        {
            "to": "+982122223333",
            "text": PERSIAN_BODY,
            "subject": "دعوت‌نامه مجمع عمومی",
            "reference": str(row),
        }
    ]
    assert f"fax {row} sent, provider id p-1" in caplog.text
    assert await _statuses(database) == {"+982122223333": "sent"}


async def test_a_refused_fax_fails_and_a_provider_error_waits(
    database: Database,
    provider: FakeProvider,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox = Outbox(database)
    await outbox.put("fax", to=REFUSED_NUMBER, subject="centres", body="x")
    await outbox.put("fax", to="+982122223333", subject="centres", body="y")
    provider.down, provider.down_status = True, 500
    first = await _drain(database, fax=HttpFaxGateway(provider.url, TOKEN))
    provider.down = False
    second = await _drain(database, fax=HttpFaxGateway(provider.url, TOKEN))

    assert first == (0, 0, 2)  # 500: both wait
    assert second == (1, 1, 0)  # 400 for the refused number: failed
    assert await _statuses(database) == {REFUSED_NUMBER: "failed", "+982122223333": "sent"}
    assert "fax refused (400): invalid receptor <recipient>" in caplog.text
    assert REFUSED_NUMBER.lstrip("+") not in ours(caplog)


# --- the sender ----------------------------------------------------------------------------
class Exploding:
    """An adapter with a bug: the row it chokes on fails, the round goes on."""

    async def send(self, message: Outgoing) -> str:
        if message.body == "boom":
            raise RuntimeError(f"cannot handle {message.to}")
        return "ok-1"

    async def close(self) -> None:
        pass


async def test_a_row_the_adapter_chokes_on_fails_and_the_round_goes_on(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(database)
    await outbox.put("sms", to="+989120000001", subject="debts", body="boom")
    await outbox.put("sms", to="+989120000002", subject="debts", body="fine")

    assert await _drain(database, sms=Exploding()) == (1, 1, 0)
    assert await _statuses(database) == {"+989120000001": "failed", "+989120000002": "sent"}
    assert "RuntimeError" in caplog.text and "+98912" not in ours(caplog)


async def test_messages_send_builds_the_configured_adapters(database: Database) -> None:
    nothing = configured_sender(Settings(), database)
    everything = configured_sender(
        Settings(
            sms_gateway_url="http://127.0.0.1:1/sms",
            fax_gateway_url="http://127.0.0.1:1/fax",
            smtp_host="127.0.0.1",
            smtp_from=FROM,
        ),
        database,
    )

    assert nothing.kinds == ()
    assert everything.kinds == ("sms", "fax", "email")
    with pytest.raises(CommandError, match="smtp_from"):
        configured_sender(Settings(smtp_host="127.0.0.1"), database)
