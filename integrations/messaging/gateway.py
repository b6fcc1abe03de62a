"""Sending the outbox: an SMS gateway adapter over HTTP, and the sender that drains pending
rows through it.

The gateway speaks a plain JSON protocol most Iranian and Russian SMS providers offer in some
form (or that a small bridge in front of one can): `POST <url>` with a bearer token and
`{"to": "+98912...", "text": "...", "reference": "42"}`, answered `2xx {"id": "..."}`. A 4xx
answer means the provider refused the message (bad number, banned text): it is marked
`failed`. Anything else (5xx, timeout, connection refused) leaves it `pending` for the next
round, so a gateway outage loses nothing. Fax and email wait for their own adapters.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import aiohttp
from sqlalchemy import select

from integrations.database import Database
from integrations.messaging.outbox import OutboundMessage

log = logging.getLogger(__name__)


class GatewayError(Exception):
    """The message could not be handed over; `permanent` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class SmsGateway(Protocol):
    async def send(self, to: str, text: str, reference: str) -> str:
        """Hand one SMS over; return the provider's id for it. Raises GatewayError."""
        ...


class HttpSmsGateway:
    def __init__(self, url: str, token: str, timeout_s: float = 10.0) -> None:
        self.url = url
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def send(self, to: str, text: str, reference: str) -> str:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        headers = {"Authorization": f"Bearer {self.token}"}
        payload = {"to": to, "text": text, "reference": reference}
        try:
            async with self._session.post(self.url, json=payload, headers=headers) as response:
                if 400 <= response.status < 500:
                    detail = (await response.text())[:200]
                    raise GatewayError(f"refused ({response.status}): {detail}", permanent=True)
                if response.status >= 300:
                    raise GatewayError(f"gateway answered {response.status}", permanent=False)
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise GatewayError(
                f"gateway unreachable: {type(error).__name__}", permanent=False
            ) from error
        except ValueError as error:  # the body was not JSON
            raise GatewayError("gateway answered without a JSON body", permanent=False) from error
        if not isinstance(body, dict) or not body.get("id"):
            raise GatewayError(
                f"gateway answered without an id: {str(body)[:100]}", permanent=False
            )
        return str(body["id"])

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


@dataclass
class Round:
    sent: int = 0
    failed: int = 0
    deferred: int = 0


class OutboxSender:
    """Drains pending SMS through a gateway, a batch at a time."""

    def __init__(self, database: Database, sms: SmsGateway, batch: int = 100) -> None:
        self.database = database
        self.sms = sms
        self.batch = batch

    async def send_pending(self) -> Round:
        result = Round()
        async with self.database.session() as session:
            pending = list(
                await session.scalars(
                    select(OutboundMessage)
                    .where(OutboundMessage.status == "pending", OutboundMessage.kind == "sms")
                    .order_by(OutboundMessage.id)
                    .limit(self.batch)
                )
            )
            for message in pending:
                try:
                    await self.sms.send(message.to, message.body, str(message.id))
                except GatewayError as error:
                    # The number is personal data: log the row, not the recipient.
                    log.warning("SMS %s not sent: %s", message.id, error)
                    if error.permanent:
                        message.status = "failed"
                        result.failed += 1
                    else:
                        result.deferred += 1
                    continue
                message.status = "sent"
                message.sent_at = datetime.now(UTC)
                result.sent += 1
                # One commit per message: a crash mid-batch re-sends nothing already sent.
                await session.commit()
            await session.commit()
        return result

    async def run(self, interval_s: float = 5.0) -> None:
        """Send, wait, repeat, until cancelled."""
        while True:
            try:
                await self.send_pending()
            except Exception:
                log.exception("outbox round failed; trying again in %.0f s", interval_s)
            await asyncio.sleep(interval_s)
