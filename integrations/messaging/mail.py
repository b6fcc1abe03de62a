"""Email over SMTP with the standard library: one plain-text UTF-8 message per outbox row
(Persian and Russian bodies and subjects survive any mail client), STARTTLS when asked, a login
when a username is set.

smtplib blocks, so each message is delivered in a worker thread (`asyncio.to_thread`) on a
connection of its own: a few messages per call do not need a pooled connection, and a fresh
one never meets a server that dropped an idle session. The socket timeout bounds every step.

Errors, as the outbox sender needs them: the server refusing this recipient or this message
with a 5xx is permanent (the row is `failed`); a 4xx (greylisting, mailbox busy), a refused
or timed-out connection, a failed STARTTLS or login, or the server refusing our own From
address is not (the row waits: an outage or a settings mistake loses nothing once fixed)."""

from __future__ import annotations

import asyncio
import contextlib
import email.errors
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid, parseaddr

from integrations.messaging.port import GatewayError, Outgoing
from integrations.messaging.subjects import FALLBACK_LANGUAGE, title


class SmtpMailer:
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
    ) -> None:
        # `sender` is the From header: "noreply@bimeh.example" or "Bimeh <noreply@...>".
        address = parseaddr(sender)[1]
        if "@" not in address:
            raise ValueError(f"smtp_from {sender!r} is not an email address")
        self.host = host
        self.port = port
        self.sender = sender
        self.domain = address.rpartition("@")[2]
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout_s = timeout_s

    async def send(self, message: Outgoing) -> str:
        letter = self.compose(message)
        await asyncio.to_thread(self._deliver, letter)
        return str(letter["Message-ID"])

    async def close(self) -> None:
        """Nothing held between messages."""

    def compose(self, message: Outgoing) -> EmailMessage:
        letter = EmailMessage(policy=SMTP_POLICY)
        try:
            recipient = Address(addr_spec=message.to)
            if not recipient.username or not recipient.domain:
                raise ValueError("no local part or domain")
            letter["To"] = recipient
        except (ValueError, IndexError, email.errors.MessageError) as error:
            # Not str(error): it quotes the address.
            raise GatewayError(
                f"not an email address ({type(error).__name__})", permanent=True
            ) from error
        letter["From"] = self.sender
        letter["Subject"] = title(message.subject, message.language)
        letter["Date"] = formatdate(usegmt=True)
        # Our own domain, not the host's name: socket.getfqdn() can wait on DNS.
        letter["Message-ID"] = make_msgid(
            idstring=f"outbox.{message.reference}", domain=self.domain
        )
        letter.set_content(message.body, charset="utf-8")
        # After set_content, which replaces every Content-* header.
        letter["Content-Language"] = message.language or FALLBACK_LANGUAGE
        return letter

    # --- in the worker thread ------------------------------------------------------------
    def _deliver(self, letter: EmailMessage) -> None:
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        except (OSError, smtplib.SMTPException) as error:
            raise GatewayError(
                f"mail server unreachable: {_describe(error)}", permanent=False
            ) from error
        try:
            self._open_session(smtp)
            _hand_over(smtp, letter)
        finally:
            # The message is the server's once it said 250; a QUIT lost on the way must not
            # turn that into a retry and a second copy.
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.quit()
            smtp.close()

    def _open_session(self, smtp: smtplib.SMTP) -> None:
        try:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
        except (OSError, smtplib.SMTPException) as error:
            raise GatewayError(
                f"mail server session failed: {_describe(error)}", permanent=False
            ) from error


def _hand_over(smtp: smtplib.SMTP, letter: EmailMessage) -> None:
    try:
        smtp.send_message(letter)
    except smtplib.SMTPRecipientsRefused as error:
        # One recipient per message, so "all refused" is this one; the codes only, as the
        # server's text usually repeats the address.
        codes = [code for code, _text in error.recipients.values()]
        permanent = bool(codes) and all(code >= 500 for code in codes)
        raise GatewayError(f"recipient refused ({_codes(codes)})", permanent=permanent) from error
    except smtplib.SMTPDataError as error:
        raise GatewayError(
            f"message refused ({error.smtp_code})", permanent=error.smtp_code >= 500
        ) from error
    except smtplib.SMTPSenderRefused as error:
        # Our smtp_from is at fault, not the row: it waits until the setting is fixed.
        raise GatewayError(f"sender refused ({error.smtp_code})", permanent=False) from error
    except smtplib.SMTPNotSupportedError as error:
        # Raised here only for an address that needs SMTPUTF8, which this server lacks.
        raise GatewayError("address needs SMTPUTF8", permanent=True) from error
    except (OSError, smtplib.SMTPException) as error:
        raise GatewayError(f"mail server failed: {_describe(error)}", permanent=False) from error


def _codes(codes: list[int]) -> str:
    return ", ".join(str(code) for code in codes) or "no code"


def _describe(error: BaseException) -> str:
    """Enough to act on, and never the recipient: the SMTP code, not the server's text (which
    may quote the address); a socket error's own text (it is about the connection)."""
    code = getattr(error, "smtp_code", None)
    if code:
        return f"{type(error).__name__} {code}"
    if isinstance(error, OSError) and str(error):
        return f"{type(error).__name__}: {error}"
    return type(error).__name__
