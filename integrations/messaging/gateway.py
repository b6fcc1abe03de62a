"""Sending the outbox: the SMS and fax gateway adapters over HTTP, and the sender that drains
pending rows through whichever adapters are configured (email goes over SMTP: mail.py).

Both gateways speak a plain JSON protocol most Iranian and Russian SMS and fax providers offer
in some form (or that a small bridge in front of one can): `POST <url>` with a bearer token
and `{"to": "+98912...", "text": "...", "reference": "42"}` (a fax also carries `"subject"`,
the cover line), answered `2xx {"id": "..."}`. A 4xx answer means the provider refused the
message (bad number, banned text): it is marked `failed`. A 5xx or a refused connection leaves
it `pending` for the next round, so an outage loses nothing. A timeout or an answer without
the provider's id leaves it `uncertain`: the provider may have it, so it is not sent again
until the provider's status query says it never got it (http_json.py). A kind with no adapter
configured is not even read: its rows wait in the outbox.

Several senders may run at once (two `tamas messages` processes, a restart overlapping the old
one): each claims its batch in one UPDATE before sending (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, so the others take the next rows; SQLite runs the UPDATE under its write lock), so
no message is sent twice. A sender that dies holding rows leaves them `sending`; after
`claim_timeout_s` they become `uncertain` and are settled through the status query.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Row, select, update

from integrations.database import Database
from integrations.messaging.http_json import JsonGateway
from integrations.messaging.outbox import OutboundMessage
from integrations.messaging.port import Adapter, GatewayError, Outgoing
from integrations.messaging.subjects import title
from messaging import sms_text

log = logging.getLogger(__name__)

Status = Literal["sent", "failed", "pending", "uncertain"]
# A claim older than this belongs to a sender that died: whatever it was doing is uncertain.
CLAIM_TIMEOUT_S = 600.0
_CLAIMED = (
    OutboundMessage.id,
    OutboundMessage.kind,
    OutboundMessage.to,
    OutboundMessage.subject,
    OutboundMessage.body,
    OutboundMessage.language,
    OutboundMessage.customer_id,
)


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
    uncertain: int = 0


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
        claim_timeout_s: float = CLAIM_TIMEOUT_S,
        name: str | None = None,
    ) -> None:
        self.database = database
        self.adapters: dict[str, Adapter] = {
            kind: adapter
            for kind, adapter in (("sms", sms), ("fax", fax), ("email", email))
            if adapter is not None
        }
        self.batch = batch
        self.claim_timeout_s = claim_timeout_s
        # Written on the rows this sender holds, so one sender never settles another's.
        self.name = name or f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds this sender sends; the others wait in the outbox."""
        return tuple(self.adapters)

    async def send_pending(self) -> Round:
        result = Round()
        await self._expire_claims()
        # A batch per kind, so a mail server that is down (every email deferred) cannot fill
        # the batch and hold back SMS queued behind its backlog; the kinds side by side, as a
        # fax holds its line for half a minute a page: a batch of faxes must not hold SMS.
        await asyncio.gather(
            *(self._kind_round(kind, adapter, result) for kind, adapter in self.adapters.items())
        )
        return result

    async def _kind_round(self, kind: str, adapter: Adapter, result: Round) -> None:
        await self._reconcile_kind(kind, adapter, result)
        await self._send_kind(kind, adapter, result)

    async def _claim(self, kind: str, status: str, claimed: str) -> list[Any]:
        """Take up to a batch of `status` rows of `kind` for this sender, in one statement."""
        chosen = (
            select(OutboundMessage.id)
            .where(OutboundMessage.status == status, OutboundMessage.kind == kind)
            .order_by(OutboundMessage.id)
            # An adapter may take fewer at a time (a fax line: one, as each holds the line for
            # minutes and a claim held past claim_timeout_s would count as a dead sender's).
            .limit(min(self.batch, getattr(self.adapters.get(kind), "batch", self.batch)))
            # Rows another sender is claiming right now are skipped, not waited for.
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(chosen), OutboundMessage.status == status)
            .values(status=claimed, claimed_by=self.name, claimed_at=datetime.now(UTC))
            .returning(*_CLAIMED)
        )
        async with self.database.autocommit() as connection:
            rows = list((await connection.execute(claim)).all())
        return sorted(rows, key=lambda row: row.id)

    async def _settle(
        self,
        row_id: int,
        status: Status,
        provider_id: str | None = None,
        taken_by: tuple[str | None, int | None] = (None, None),
        confirmed: bool = False,
    ) -> None:
        values: dict[str, Any] = {"status": status, "claimed_by": None, "claimed_at": None}
        if status == "sent":
            values.update(sent_at=datetime.now(UTC), provider_id=provider_id)
            # Which provider profile took it and in how many parts: its delivery reports are
            # matched by (provider, provider_id) (outbox.record_delivery).
            provider, parts = taken_by
            if provider is not None:
                values.update(provider=provider, parts=parts)
            if confirmed:
                values.update(delivery_status="delivered", delivered_at=values["sent_at"])
        async with self.database.autocommit() as connection:
            await connection.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id == row_id, OutboundMessage.claimed_by == self.name)
                .values(**values)
            )

    async def _expire_claims(self) -> None:
        """Rows held past the claim timeout: their sender died mid-send (or mid-check)."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self.claim_timeout_s)
        async with self.database.autocommit() as connection:
            expired = await connection.execute(
                update(OutboundMessage)
                .where(
                    OutboundMessage.status.in_(("sending", "checking")),
                    OutboundMessage.claimed_at < cutoff,
                )
                .values(status="uncertain", claimed_by=None, claimed_at=None)
            )
        if expired.rowcount:
            log.warning(
                "outbox: %d messages left by a stopped sender are uncertain", expired.rowcount
            )

    async def _send_kind(self, kind: str, adapter: Adapter, result: Round) -> None:
        for row in await self._claim(kind, "pending", "sending"):
            status, provider_id = await self._send_one(adapter, row)
            # One write per message: a crash mid-batch re-sends nothing already sent.
            # An adapter whose hand-over is the recipient's own confirmation (a fax: the
            # receiving machine acknowledged every page) has the delivery with the send.
            confirmed = bool(getattr(adapter, "confirms_delivery", False))
            await self._settle(row.id, status, provider_id, _taken_by(adapter, row), confirmed)
            if status == "sent":
                result.sent += 1
            elif status == "failed":
                result.failed += 1
            elif status == "uncertain":
                result.uncertain += 1
            else:
                result.deferred += 1

    async def _reconcile_kind(self, kind: str, adapter: Adapter, result: Round) -> None:
        """Ask the provider about each uncertain message: sent (it has it), or pending again
        (it never got it); still uncertain when it cannot tell, or cannot be asked."""
        find = getattr(adapter, "find", None)
        if find is None:
            return  # no status query: an uncertain message waits for a person to decide
        for row in await self._claim(kind, "uncertain", "checking"):
            try:
                provider_id = await find(str(row.id))
            except GatewayError as error:
                log.warning("%s %s still uncertain: %s", kind, row.id, error)
                await self._settle(row.id, "uncertain")
                continue
            if provider_id is None:
                log.info("%s %s never reached the provider; sending again", kind, row.id)
                await self._settle(row.id, "pending")
            else:
                log.info("%s %s had reached the provider, id %s", kind, row.id, provider_id)
                await self._settle(row.id, "sent", provider_id, _taken_by(adapter, row))
                result.sent += 1

    async def _send_one(self, adapter: Adapter, message: Row[Any]) -> tuple[Status, str | None]:
        """The row's new status and the provider's id. The recipient is personal data: log
        lines name the row."""
        if not (message.to or "").strip():
            log.warning("%s %s not sent: no recipient", message.kind, message.id)
            return "failed", None
        outgoing = Outgoing(
            to=message.to.strip(),
            subject=message.subject or "",
            body=message.body or "",
            language=message.language or "",
            reference=str(message.id),
            customer_id=message.customer_id,
        )
        try:
            provider_id = await adapter.send(outgoing)
        except GatewayError as error:
            log.warning("%s %s not sent: %s", message.kind, message.id, error)
            if error.permanent:
                return "failed", None
            return ("uncertain" if error.uncertain else "pending"), None
        except Exception as error:
            # A row the adapter cannot even handle must not stop the round nor come back every
            # round. No traceback: exception texts can quote the recipient.
            log.error("%s %s broken, not sent: %s", message.kind, message.id, type(error).__name__)
            return "failed", None
        log.info("%s %s sent, provider id %s", message.kind, message.id, provider_id)
        return "sent", provider_id

    async def run(self, interval_s: float = 5.0) -> None:
        """Send, wait, repeat, until cancelled: each kind in a loop of its own, so an SMS
        queued while a batch of faxes goes out waits seconds, not the whole batch."""
        await asyncio.gather(
            *(self._run_kind(kind, adapter, interval_s) for kind, adapter in self.adapters.items())
        )

    async def _run_kind(self, kind: str, adapter: Adapter, interval_s: float) -> None:
        while True:
            try:
                await self._expire_claims()
                await self._kind_round(kind, adapter, Round())
            except Exception:
                log.exception("outbox %s round failed; trying again in %.0f s", kind, interval_s)
            await asyncio.sleep(interval_s)

    async def close(self) -> None:
        for adapter in self.adapters.values():
            await adapter.close()


def _taken_by(adapter: Adapter, row: Row[Any]) -> tuple[str | None, int | None]:
    """The provider profile's name and the message's parts, for adapters that name their
    provider (SMS profiles and SMPP: messaging/sms_text.py counts the parts)."""
    provider = getattr(adapter, "provider", None)
    if provider is None:
        return None, None
    parts = sms_text.count(row.body or "").parts if row.kind == "sms" else 1
    return str(provider), parts
