"""Email over SMTP with aiosmtplib, on the event loop: one UTF-8 letter per outbox row, its
plain-text and HTML parts written from the language's template (messaging/email_templates.py,
Persian right to left), with the documents its subject calls for attached as PDF
(messaging/email_attachments.py). STARTTLS when asked, a login when a username is set.

Each letter goes on a connection of its own: a few letters per round do not need a pooled
connection, and a fresh one never meets a server that dropped an idle session. `timeout_s`
bounds every step (connect, each command, the data).

Errors, as the outbox sender needs them: the server refusing this recipient or this letter
with a 5xx is permanent (the row is `failed`); a 4xx (greylisting, mailbox busy), a refused
or timed-out connection, a failed STARTTLS or login, or the server refusing our own From
address is not (the row waits: an outage or a settings mistake loses nothing once fixed).
A server that goes silent or drops the line once the session is open leaves the letter
`uncertain`: it may have the letter, so it is not sent again by itself."""

from __future__ import annotations

import email.errors
import ssl
from collections.abc import Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid, parseaddr

import aiosmtplib

from integrations.messaging.port import GatewayError, Outgoing
from integrations.messaging.subjects import FALLBACK_LANGUAGE, title
from messaging import email_templates
from messaging.email_attachments import Attachment, AttachmentSource

# The outbox rows' provider for email: bounces are matched to rows by it (mail_inbound.py).
SMTP_PROVIDER = "smtp"


class SmtpMailer:
    provider = SMTP_PROVIDER

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        timeout_s: float = 30.0,
        attachments: AttachmentSource | None = None,
    ) -> None:
        # `sender` is the From header: "noreply@bimeh.example" or "Bimeh <noreply@...>".
        name, address = parseaddr(sender)
        if "@" not in address:
            raise ValueError(f"smtp_from {sender!r} is not an email address")
        self.host = host
        self.port = port
        self.sender = sender
        self.envelope_from = address
        self.insurer = name or address
        self.domain = address.rpartition("@")[2]
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout_s = timeout_s
        self.attachments = attachments

    async def send(self, message: Outgoing) -> str:
        documents: Sequence[Attachment] = ()
        if self.attachments is not None:
            documents = await attach(self.attachments, message)
        letter = self.compose(message, documents)
        await self.deliver(letter)
        return str(letter["Message-ID"])

    async def close(self) -> None:
        """Nothing held between letters."""

    def compose(self, message: Outgoing, documents: Sequence[Attachment] = ()) -> EmailMessage:
        letter = EmailMessage(policy=SMTP_POLICY)
        letter["To"] = _recipient(message.to)
        letter["From"] = self.sender
        subject = title(message.subject, message.language)
        letter["Subject"] = subject
        letter["Date"] = formatdate(usegmt=True)
        # Our own domain, not the host's name: socket.getfqdn() can wait on DNS.
        letter["Message-ID"] = make_msgid(
            idstring=f"outbox.{message.reference}", domain=self.domain
        )
        written = email_templates.write(
            subject,
            message.body,
            message.language or FALLBACK_LANGUAGE,
            insurer=self.insurer,
            attachments=[document.filename for document in documents],
        )
        letter.set_content(written.plain, charset="utf-8")
        letter.add_alternative(written.html, subtype="html", charset="utf-8")
        for document in documents:
            maintype, _, subtype = document.mime_type.partition("/")
            letter.add_attachment(
                document.content, maintype=maintype, subtype=subtype, filename=document.filename
            )
        # After the parts, which replace every Content-* header of the letter.
        letter["Content-Language"] = written.language
        return letter

    async def deliver(self, letter: EmailMessage) -> None:
        """Hand one composed letter to the server (one connection, closed after)."""
        smtp = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            timeout=self.timeout_s,
            start_tls=False,  # asked for explicitly below, so a server that lacks it is an error
            local_hostname=self.domain,
        )
        try:
            await smtp.connect()
        except (OSError, aiosmtplib.SMTPException) as error:
            raise GatewayError(
                f"mail server unreachable: {_describe(error)}", permanent=False
            ) from error
        try:
            await self._open_session(smtp)
            await self._hand_over(smtp, letter)
        finally:
            # The letter is the server's once it said 250; a QUIT lost on the way must not
            # turn that into a retry and a second copy.
            try:
                await smtp.quit()
            except (OSError, aiosmtplib.SMTPException):
                smtp.close()

    async def _open_session(self, smtp: aiosmtplib.SMTP) -> None:
        try:
            if self.starttls:
                await smtp.starttls(tls_context=ssl.create_default_context())
            if self.username:
                await smtp.login(self.username, self.password)
        except (OSError, aiosmtplib.SMTPException) as error:
            raise GatewayError(
                f"mail server session failed: {_describe(error)}", permanent=False
            ) from error

    async def _hand_over(self, smtp: aiosmtplib.SMTP, letter: EmailMessage) -> None:
        try:
            await smtp.send_message(letter, sender=self.envelope_from)
        except aiosmtplib.SMTPRecipientsRefused as error:
            # One recipient per letter, so "all refused" is this one; the codes only, as the
            # server's text usually repeats the address.
            codes = [refused.code for refused in error.recipients]
            permanent = bool(codes) and all(code >= 500 for code in codes)
            raise GatewayError(
                f"recipient refused ({_codes(codes)})", permanent=permanent
            ) from error
        except aiosmtplib.SMTPDataError as error:
            raise GatewayError(
                f"message refused ({error.code})", permanent=error.code >= 500
            ) from error
        except aiosmtplib.SMTPSenderRefused as error:
            # Our smtp_from is at fault, not the row: it waits until the setting is fixed.
            raise GatewayError(f"sender refused ({error.code})", permanent=False) from error
        except aiosmtplib.SMTPNotSupported as error:
            # Raised here only for an address that needs SMTPUTF8, which this server lacks.
            raise GatewayError("address needs SMTPUTF8", permanent=True) from error
        except (aiosmtplib.SMTPTimeoutError, aiosmtplib.SMTPServerDisconnected) as error:
            # The letter may be the server's already (silent after the data, or gone before
            # its 250 reached us): sending it again could deliver it twice.
            raise GatewayError(
                f"no answer from the mail server: {_describe(error)}",
                permanent=False,
                uncertain=True,
            ) from error
        except (OSError, aiosmtplib.SMTPException) as error:
            raise GatewayError(
                f"mail server failed: {_describe(error)}", permanent=False
            ) from error


async def attach(source: AttachmentSource, message: Outgoing) -> Sequence[Attachment]:
    """The documents `message` carries. A document that cannot be drawn now (the customer
    file or the database down, a font missing) holds the message back for the next round
    rather than failing it, or sending it without what it promised."""
    try:
        return await source(message.subject, message.customer_id, message.language)
    except Exception as error:
        raise GatewayError(
            f"attachment not drawn: {type(error).__name__}", permanent=False
        ) from error


def _recipient(to: str) -> Address:
    try:
        recipient = Address(addr_spec=to)
        if not recipient.username or not recipient.domain:
            raise ValueError("no local part or domain")
    except (ValueError, IndexError, email.errors.MessageError) as error:
        # Not str(error): it quotes the address.
        raise GatewayError(
            f"not an email address ({type(error).__name__})", permanent=True
        ) from error
    return recipient


def _codes(codes: list[int]) -> str:
    return ", ".join(str(code) for code in codes) or "no code"


def _describe(error: BaseException) -> str:
    """Enough to act on, and never the recipient: the SMTP code, not the server's text (which
    may quote the address); a socket error's own text (it is about the connection)."""
    code = getattr(error, "code", None)
    if isinstance(code, int) and code:
        return f"{type(error).__name__} {code}"
    if isinstance(error, OSError) and not isinstance(error, aiosmtplib.SMTPException):
        return f"{type(error).__name__}: {error}"
    return type(error).__name__
