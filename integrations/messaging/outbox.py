"""The outbox: one row per message to send. Writing the request is the IVR's whole job; a
gateway adapter picks `pending` rows, sends them and marks them `sent` or `failed`. Keeping the
request in the database means a gateway outage loses nothing and the agent can see it.

`Outbox.put` is the one way in, so it is where messages are capped (per call, per recipient
in 24 hours, per kind in 24 hours) and destinations checked (destinations.py). The cap holds
across processes and concurrent calls: in one transaction the row is written, the rows that
count against each cap are counted with it, and it becomes `refused` if one is passed;
writers of one kind take turns (PostgreSQL: a transaction-scoped advisory lock per kind;
SQLite: its one write lock, taken by the INSERT), so no two counts miss each other and no
sender sees the row before it is settled. A refused row stays, with why: the security team
sees what was asked for."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import (
    ColumnElement,
    Index,
    Integer,
    String,
    Text,
    and_,
    case,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapped, mapped_column

from integrations.database import Base, Database, UtcDateTime
from integrations.messaging.destinations import Destinations

if TYPE_CHECKING:
    from tamas.settings import Settings

KINDS = ("sms", "fax", "email")
# pending -> sending (claimed by one sender) -> sent | failed | pending (may be retried) |
# uncertain (the provider may have it: a timeout, an answer without its id) -> checking
# (claimed to ask the provider) -> sent | pending (the provider never got it) | uncertain.
STATUSES = ("pending", "sending", "sent", "failed", "uncertain", "checking")
# Or refused (past a cap, or to a destination not allowed): never sent, kept as evidence.
REFUSED = "refused"
DAY = timedelta(hours=24)


class OutboundMessage(Base):
    __tablename__ = "outbound_messages"
    # The caps count a recipient's and a kind's messages of the last 24 hours.
    __table_args__ = (
        Index("ix_outbound_messages_to_created_at", "to", "created_at"),
        Index("ix_outbound_messages_kind_created_at", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    # E.164 number for SMS and fax, an address for email.
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(64))  # what it is: claim_status, branches...
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2), default="fa")
    linkedid: Mapped[str | None] = mapped_column(String(64), index=True)
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Which sender holds the row (sending or checking) since when; the provider's id once sent.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    provider_id: Mapped[str | None] = mapped_column(String(128))
    # Why the outbox refused it: per_call, per_recipient, per_kind, or a destination refusal
    # (international, premium, non_geographic, not_a_number).
    refusal: Mapped[str | None] = mapped_column(String(32))


class MessageRefused(Exception):
    """The outbox did not accept the message (it is kept as `refused`, with `reason`)."""

    def __init__(self, reason: str, message_id: int) -> None:
        super().__init__(f"message {message_id} refused: {reason}")
        self.reason = reason
        self.message_id = message_id


@dataclass(frozen=True)
class OutboxLimits:
    """The caps, and where messages may go (settings `outbox_*` and `outbound_*`)."""

    per_call: int = 3
    per_recipient_per_day: int = 5
    per_kind_per_day: Mapping[str, int] = field(
        default_factory=lambda: {"sms": 5000, "fax": 500, "email": 5000}
    )
    destinations: Destinations = field(default_factory=Destinations)

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboxLimits:
        return cls(
            per_call=settings.outbox_per_call,
            per_recipient_per_day=settings.outbox_per_recipient_per_day,
            per_kind_per_day={
                "sms": settings.outbox_sms_per_day,
                "fax": settings.outbox_fax_per_day,
                "email": settings.outbox_email_per_day,
            },
            destinations=Destinations(
                region=settings.default_region,
                regions=settings.outbound_regions,
                allow_premium=settings.outbound_allow_premium,
            ),
        )


_INSERT = insert(OutboundMessage).returning(OutboundMessage.id)


def _lock_key(kind: str) -> int:
    """The advisory lock writers of one kind take turns on: a fixed 63-bit number per kind."""
    return 0x7A4D0000 + KINDS.index(kind)


class Outbox:
    def __init__(self, database: Database, limits: OutboxLimits | None = None) -> None:
        self.database = database
        self.limits = limits or OutboxLimits()
        # Writers of one kind also take turns within the process, before taking a connection:
        # waiting on the advisory lock would hold one from the pool every caller's lookup
        # shares. Measured (bench agi_server_load, 500 calls each asking an SMS): the waiting
        # transactions drained the pool and caller lookups took over 3 s; with this, 9 ms p99.
        self._turns: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()

    def _turn(self, kind: str) -> asyncio.Lock:
        """This process's lock for writers of `kind`, on the running event loop."""
        turns = self._turns.setdefault(asyncio.get_running_loop(), {})
        return turns.setdefault(kind, asyncio.Lock())

    async def put(
        self,
        kind: str,
        *,
        to: str,
        subject: str,
        body: str,
        language: str = "fa",
        linkedid: str | None = None,
        customer_id: int | None = None,
    ) -> int:
        """Queue a message; its row id. Raises MessageRefused (after keeping the row as
        `refused`) past a cap or for a destination not allowed."""
        if kind not in KINDS:
            raise ValueError(f"message kind {kind!r} is not one of {', '.join(KINDS)}")
        now = datetime.now(UTC)
        refusal = self.limits.destinations.refusal(kind, to.strip())
        row = {
            "kind": kind,
            "to": to,
            "subject": subject,
            "body": body,
            "language": language,
            "linkedid": linkedid,
            "customer_id": customer_id,
            "status": "pending" if refusal is None else REFUSED,
            "refusal": refusal,
            "created_at": now,
        }
        # Plain statements and no ORM unit of work: callers ask for SMS mid-call, on the
        # event loop every other call shares.
        async with self._turn(kind), self.database.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(select(func.pg_advisory_xact_lock(_lock_key(kind))))
            message_id = int((await connection.execute(_INSERT, row)).scalar_one())
            if refusal is None:
                refusal = await self._cap_reached(connection, kind, to, linkedid, now)
                if refusal is not None:
                    await connection.execute(
                        update(OutboundMessage)
                        .where(OutboundMessage.id == message_id)
                        .values(status=REFUSED, refusal=refusal)
                    )
        if refusal is not None:
            raise MessageRefused(refusal, message_id)
        return message_id

    async def _cap_reached(
        self, connection: AsyncConnection, kind: str, to: str, linkedid: str | None, now: datetime
    ) -> str | None:
        """The first cap the new (already written) row goes past, or None."""
        day_ago = now - DAY
        recent = OutboundMessage.created_at > day_ago
        same_call = OutboundMessage.linkedid == linkedid if linkedid else false()
        same_recipient = and_(OutboundMessage.to == to, recent)
        same_kind = and_(OutboundMessage.kind == kind, recent)

        def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        counts = (
            await connection.execute(
                select(count(same_call), count(same_recipient), count(same_kind)).where(
                    OutboundMessage.status != REFUSED,
                    or_(same_call, same_recipient, same_kind),
                )
            )
        ).one()
        per_call, per_recipient, per_kind = (int(value) for value in counts)
        if linkedid and per_call > self.limits.per_call:
            return "per_call"
        if per_recipient > self.limits.per_recipient_per_day:
            return "per_recipient"
        if per_kind > self.limits.per_kind_per_day.get(kind, 0):
            return "per_kind"
        return None

    async def for_call(self, linkedid: str) -> list[OutboundMessage]:
        async with self.database.session() as session:
            rows = await session.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.linkedid == linkedid)
                .order_by(OutboundMessage.id)
            )
            return list(rows)
