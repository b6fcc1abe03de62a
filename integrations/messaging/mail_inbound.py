"""The SMTP endpoint claims are mailed to: aiosmtpd on loopback (`inbound_smtp_host`,
`inbound_smtp_port`), behind the insurer's own mail server, which relays the claims mailbox
(`inbound_claims_address`) to it. SMTP rather than polling a mailbox over IMAP: the mail server
pushes each letter as it arrives, and the protocol already says what to do when we cannot take
it now (a 451 makes the mail server keep the letter and deliver it again later).

Only the claims address is accepted (550 for any other), letters are capped in size, and
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

from messaging.email_inbound import ClaimsByEmail, IntakeUnavailable

log = logging.getLogger(__name__)

MAX_LETTER_BYTES = 20 * 1024 * 1024  # photos of a damaged car, a scanned police report


class ClaimsMailbox:
    """aiosmtpd's handler: the RCPT and DATA hooks (aiosmtpd calls them by these names)."""

    def __init__(self, intake: ClaimsByEmail, address: str) -> None:
        if "@" not in address:
            raise ValueError(f"inbound_claims_address {address!r} is not an email address")
        self.intake = intake
        self.address = address.strip().lower()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if parseaddr(address)[1].strip().lower() != self.address:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        letter = message_from_bytes(raw, policy=default_policy)
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


async def serve(
    mailbox: ClaimsMailbox, host: str, port: int, hostname: str = "tamas.claims"
) -> asyncio.Server:
    """Start listening; the caller closes the returned server."""
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
