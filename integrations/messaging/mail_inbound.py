"""The SMTP endpoint claims are mailed to: aiosmtpd on loopback (`inbound_smtp_host`,
`inbound_smtp_port`), behind the insurer's own mail server, which relays the claims mailbox
(`inbound_claims_address`) to it, and the bounces of our own letters (`inbound_bounce_address`:
each failed delivery marks its outbox row undelivered, messaging/email_bounces.py). SMTP rather
than polling a mailbox over IMAP: the mail server pushes each letter as it arrives, and the
protocol already says what to do when we cannot take it now (a 451 makes the mail server keep
the letter and deliver it again later).

Only those two addresses are accepted (550 for any other), letters are capped in size, and
the letter's own Message-ID keys it, so a delivery repeated after a lost 250 opens no second
case (messaging/email_inbound.py)."""

from __future__ import annotations

import asyncio
import logging
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import parseaddr
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from integrations.messaging.mail import SMTP_PROVIDER
from integrations.messaging.outbox import Outbox
from messaging.email_bounces import read_bounce
from messaging.email_inbound import ClaimsByEmail, IntakeUnavailable

log = logging.getLogger(__name__)

MAX_LETTER_BYTES = 20 * 1024 * 1024  # photos of a damaged car, a scanned police report


class ClaimsMailbox:
    """aiosmtpd's handler: the RCPT and DATA hooks (aiosmtpd calls them by these names)."""

    def __init__(
        self,
        intake: ClaimsByEmail,
        address: str,
        *,
        bounce_address: str = "",
        outbox: Outbox | None = None,
    ) -> None:
        if "@" not in address:
            raise ValueError(f"inbound_claims_address {address!r} is not an email address")
        if bounce_address and "@" not in bounce_address:
            raise ValueError(f"inbound_bounce_address {bounce_address!r} is not an address")
        self.intake = intake
        self.address = address.strip().lower()
        self.bounce_address = bounce_address.strip().lower()
        self.outbox = outbox

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        mailbox = parseaddr(address)[1].strip().lower()
        if mailbox != self.address and not (self.bounce_address and mailbox == self.bounce_address):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        letter = message_from_bytes(raw, policy=default_policy)
        if self.bounce_address and self._for(envelope) == {self.bounce_address}:
            return await self._bounce(letter)
        if not isinstance(letter, EmailMessage) or not letter.get("Message-ID"):
            return "550 5.6.0 a letter needs a Message-ID"
        try:
            intake = await self.intake.take(letter)
        except IntakeUnavailable as error:
            log.warning("claim letter not taken now: %s", error)
            return "451 4.3.0 cannot take the claim now, try again later"
        except ValueError as error:
            log.warning("claim letter refused: %s", error)
            return "550 5.6.0 unreadable letter"
        seen = " (already received)" if intake.duplicate else ""
        return f"250 2.0.0 claim case {intake.tracking_number}{seen}"

    def _for(self, envelope: Envelope) -> set[str]:
        return {parseaddr(rcpt)[1].strip().lower() for rcpt in envelope.rcpt_tos}

    async def _bounce(self, letter: Any) -> str:
        """A bounce of one of our letters: its row's delivery status. Whatever it is, the
        mail server is told 250 (a bounce is never bounced back)."""
        if self.outbox is None or not isinstance(letter, EmailMessage):
            return "250 2.0.0 noted"
        for bounce in read_bounce(letter):
            row = await self.outbox.record_delivery(
                SMTP_PROVIDER,
                bounce.provider_id,
                bounce.status,
                error=bounce.code,
                reference=str(bounce.outbox_id),
            )
            log.info("bounce for email %s: %s %s", row, bounce.status, bounce.code)
        return "250 2.0.0 noted"


async def serve(
    mailbox: ClaimsMailbox, host: str, port: int, hostname: str = "tamas.claims"
) -> asyncio.Server:
    """Start listening; the caller closes the returned server."""
    # aiosmtpd logs every command at INFO, senders' and recipients' addresses included:
    # personal data our logs do not keep.
    logging.getLogger("mail.log").setLevel(max(logging.WARNING, logging.root.level))
    loop = asyncio.get_running_loop()

    def protocol() -> Any:
        return SMTP(
            mailbox,
            hostname=hostname,
            data_size_limit=MAX_LETTER_BYTES,
            enable_SMTPUTF8=True,
            loop=loop,
        )

    return await loop.create_server(protocol, host, port)
