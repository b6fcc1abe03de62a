"""What the messaging operators see of the outbox and do to it: the queue by kind and status,
delivery rates per provider and kind, the failures, the volume per hour, and retrying a
message the provider refused or cancelling one not yet sent.

Retry and cancel are single conditional UPDATEs: a message a sender has already claimed is
neither retried nor cancelled under it, and a message whose fate is uncertain (the provider may
have it) is never retried, so nothing is sent twice."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update

from integrations.database import Database, rowcount
from integrations.messaging.outbox import FINAL_DELIVERY, OutboundMessage

CANCELLED = "cancelled"


@dataclass(frozen=True)
class DeliveryRate:
    provider: str
    kind: str
    subject: str
    sent: int
    delivered: int
    undelivered: int  # undelivered or rejected
    expired: int

    @property
    def awaiting(self) -> int:
        return self.sent - self.delivered - self.undelivered - self.expired

    @property
    def rate(self) -> float | None:
        """Delivered over those with a final word (docs/outcomes.md's delivery rate)."""
        final = self.delivered + self.undelivered + self.expired
        return None if final == 0 else self.delivered / final

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "kind": self.kind,
            "subject": self.subject,
            "sent": self.sent,
            "delivered": self.delivered,
            "undelivered": self.undelivered,
            "expired": self.expired,
            "awaiting": self.awaiting,
            "rate": self.rate,
        }


def masked(address: str) -> str:
    """+98912***4567, m***@example.ir: enough to tell messages apart on an operator's page."""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"{address[:6]}***{address[-4:]}" if len(address) > 10 else "***"


class OutboxOperations:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def queue(self) -> dict[str, dict[str, int]]:
        """{kind: {status: count}} over the whole outbox."""
        m = OutboundMessage
        async with self.database.autocommit() as connection:
            rows = await connection.execute(
                select(m.kind, m.status, func.count()).group_by(m.kind, m.status)
            )
            found: dict[str, dict[str, int]] = defaultdict(dict)
            for kind, status, count in rows:
                found[kind][status] = int(count)
        return dict(found)

    async def rates(self, since: datetime) -> list[DeliveryRate]:
        m = OutboundMessage
        final = {
            "delivered": func.sum(case((m.delivery_status == "delivered", 1), else_=0)),
            "undelivered": func.sum(
                case((m.delivery_status.in_(("undelivered", "rejected")), 1), else_=0)
            ),
            "expired": func.sum(case((m.delivery_status == "expired", 1), else_=0)),
        }
        statement = (
            select(
                func.coalesce(m.provider, "-"),
                m.kind,
                m.subject,
                func.count(),
                final["delivered"],
                final["undelivered"],
                final["expired"],
            )
            .where(m.status == "sent", m.created_at >= since)
            .group_by(m.provider, m.kind, m.subject)
            .order_by(m.kind, m.subject)
        )
        async with self.database.autocommit() as connection:
            rows = await connection.execute(statement)
            return [
                DeliveryRate(
                    str(provider), kind, subject, int(sent), int(d or 0), int(u or 0), int(e or 0)
                )
                for provider, kind, subject, sent, d, u, e in rows
            ]

    async def failures(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest messages that went wrong: refused by the provider, refused by our caps,
        uncertain, or reported undelivered."""
        m = OutboundMessage
        wrong = m.status.in_(("failed", "refused", "uncertain")) | m.delivery_status.in_(
            [s for s in FINAL_DELIVERY if s != "delivered"]
        )
        async with self.database.autocommit() as connection:
            rows = await connection.execute(
                select(
                    m.id, m.kind, m.to, m.subject, m.status, m.refusal, m.delivery_status,
                    m.delivery_error, m.provider, m.created_at,
                )
                .where(wrong)
                .order_by(m.id.desc())
                .limit(min(limit, 500))
            )  # fmt: skip
            return [
                {
                    "id": row.id,
                    "kind": row.kind,
                    "to": masked(row.to),
                    "subject": row.subject,
                    "status": row.status,
                    "why": row.refusal or row.delivery_error or row.delivery_status,
                    "delivery": row.delivery_status,
                    "provider": row.provider,
                    "created_at": row.created_at.isoformat(),
                    "retriable": row.status == "failed",
                }
                for row in rows
            ]

    async def volume(self, since: datetime, now: datetime | None = None) -> list[dict[str, Any]]:
        """Messages per hour and kind since `since`, with how many were delivered: the
        operators' chart. Hours are counted in Python over the (indexed) rows of the period,
        which keeps one query for SQLite and PostgreSQL alike."""
        m = OutboundMessage
        now = now or datetime.now(UTC)
        async with self.database.autocommit() as connection:
            rows = await connection.execute(
                select(m.kind, m.created_at, m.delivery_status).where(
                    m.created_at >= since, m.status != "refused"
                )
            )
            counts: dict[tuple[datetime, str], list[int]] = defaultdict(lambda: [0, 0])
            for kind, created_at, delivery in rows:
                hour = created_at.replace(minute=0, second=0, microsecond=0)
                counts[(hour, kind)][0] += 1
                counts[(hour, kind)][1] += delivery == "delivered"
        hours = []
        hour = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        while hour <= now:
            hours.append(hour)
            hour += timedelta(hours=1)
        kinds = sorted({kind for _, kind in counts})
        return [
            {
                "hour": hour.isoformat(),
                **{f"{kind}": counts.get((hour, kind), [0, 0])[0] for kind in kinds},
                **{f"{kind}_delivered": counts.get((hour, kind), [0, 0])[1] for kind in kinds},
            }
            for hour in hours
        ]

    async def retry(self, message_id: int) -> bool:
        """A message the provider refused goes back to `pending`; False for any other (sent,
        uncertain, refused by our caps, being sent)."""
        return await self._change(message_id, ("failed",), status="pending", refusal=None) > 0

    async def cancel(self, message_id: int) -> bool:
        """A message not yet claimed by a sender is never sent; False once it is on its way."""
        return await self._change(message_id, ("pending", "failed"), status=CANCELLED) > 0

    async def _change(self, message_id: int, allowed: tuple[str, ...], **values: Any) -> int:
        statement = (
            update(OutboundMessage)
            .where(OutboundMessage.id == message_id, OutboundMessage.status.in_(allowed))
            .values(**values)
        )
        async with self.database.autocommit() as connection:
            return rowcount(await connection.execute(statement))
