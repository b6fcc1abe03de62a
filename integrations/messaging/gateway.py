"""Sending the outbox: the SMS and fax gateway adapters over HTTP, and the sender that drains
pending rows through whichever adapters are configured (email goes over SMTP: mail.py).

Both gateways speak a plain JSON protocol most Iranian and Russian SMS and fax providers offer
in some form (or that a small bridge in front of one can): `POST <url>` with a bearer token
and `{"to": "+98912...", "text": "...", "reference": "42"}` (a fax also carries `"subject"`,
the cover line), answered `2xx {"id": "..."}`. A 4xx answer means the provider refused the
message (bad number, banned text): it is marked `failed`. Anything else (5xx, timeout,
connection refused) leaves it `pending` for the next round, so an outage loses nothing. A kind
with no adapter configured is not even read: its rows wait in the outbox.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select

from integrations.database import Database
from integrations.messaging.http_json import JsonGateway
from integrations.messaging.outbox import OutboundMessage
from integrations.messaging.port import Adapter, GatewayError, Outgoing
from integrations.messaging.subjects import title

log = logging.getLogger(__name__)

Status = Literal["sent", "failed", "pending"]


class HttpSmsGateway(JsonGateway):
    what = "SMS"

    def payload(self, message: Outgoing) -> dict[str, str]:
        return {"to": message.to, "text": message.body, "reference": message.reference}


class HttpFaxGateway(JsonGateway):
    what = "fax"

    def payload(self, message: Outgoing) -> dict[str, str]:
        return {
            "to": message.to,
            "text": message.body,
            "subject": title(message.subject, message.language),
            "reference": message.reference,
        }


@dataclass
class Round:
    sent: int = 0
    failed: int = 0
    deferred: int = 0


class OutboxSender:
    """Drains pending messages through one adapter per kind, a batch per kind at a time."""

    def __init__(
        self,
        database: Database,
        sms: Adapter | None = None,
        *,
        fax: Adapter | None = None,
        email: Adapter | None = None,
        batch: int = 100,
    ) -> None:
        self.database = database
        self.adapters: dict[str, Adapter] = {
            kind: adapter
            for kind, adapter in (("sms", sms), ("fax", fax), ("email", email))
            if adapter is not None
        }
        self.batch = batch

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds this sender sends; the others wait in the outbox."""
        return tuple(self.adapters)

    async def send_pending(self) -> Round:
        result = Round()
        # A batch per kind, so a mail server that is down (every email deferred) cannot fill
        # the batch and hold back SMS queued behind its backlog.
        for kind, adapter in self.adapters.items():
            await self._send_kind(kind, adapter, result)
        return result

    async def _send_kind(self, kind: str, adapter: Adapter, result: Round) -> None:
        async with self.database.session() as session:
            pending = list(
                await session.scalars(
                    select(OutboundMessage)
                    .where(OutboundMessage.status == "pending", OutboundMessage.kind == kind)
                    .order_by(OutboundMessage.id)
                    .limit(self.batch)
                )
            )
            for message in pending:
                status = await self._send_one(adapter, message)
                if status == "pending":
                    result.deferred += 1
                    continue
                message.status = status
                if status == "sent":
                    message.sent_at = datetime.now(UTC)
                    result.sent += 1
                else:
                    result.failed += 1
                # One commit per message: a crash mid-batch re-sends nothing already sent.
                await session.commit()

    async def _send_one(self, adapter: Adapter, message: OutboundMessage) -> Status:
        """The row's new status. The recipient is personal data: log lines name the row."""
        if not (message.to or "").strip():
            log.warning("%s %s not sent: no recipient", message.kind, message.id)
            return "failed"
        outgoing = Outgoing(
            to=message.to.strip(),
            subject=message.subject or "",
            body=message.body or "",
            language=message.language or "",
            reference=str(message.id),
        )
        try:
            provider_id = await adapter.send(outgoing)
        except GatewayError as error:
            log.warning("%s %s not sent: %s", message.kind, message.id, error)
            return "failed" if error.permanent else "pending"
        except Exception as error:
            # A row the adapter cannot even handle must not stop the round nor come back every
            # round. No traceback: exception texts can quote the recipient.
            log.error("%s %s broken, not sent: %s", message.kind, message.id, type(error).__name__)
            return "failed"
        log.info("%s %s sent, provider id %s", message.kind, message.id, provider_id)
        return "sent"

    async def run(self, interval_s: float = 5.0) -> None:
        """Send, wait, repeat, until cancelled."""
        while True:
            try:
                await self.send_pending()
            except Exception:
                log.exception("outbox round failed; trying again in %.0f s", interval_s)
            await asyncio.sleep(interval_s)

    async def close(self) -> None:
        for adapter in self.adapters.values():
            await adapter.close()
