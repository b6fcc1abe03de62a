"""The outbox: one row per message to send. Writing the request is the IVR's whole job; a
gateway adapter picks `pending` rows, sends them and marks them `sent` or `failed`. Keeping the
request in the database means a gateway outage loses nothing and the agent can see it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Integer, String, Text, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from integrations.database import Base, Database, UtcDateTime

KINDS = ("sms", "fax", "email")
# pending -> sending (claimed by one sender) -> sent | failed | pending (may be retried) |
# uncertain (the provider may have it: a timeout, an answer without its id) -> checking
# (claimed to ask the provider) -> sent | pending (the provider never got it) | uncertain.
STATUSES = ("pending", "sending", "sent", "failed", "uncertain", "checking")


class OutboundMessage(Base):
    __tablename__ = "outbound_messages"

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


_INSERT = insert(OutboundMessage).returning(OutboundMessage.id)


class Outbox:
    def __init__(self, database: Database) -> None:
        self.database = database

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
        if kind not in KINDS:
            raise ValueError(f"message kind {kind!r} is not one of {', '.join(KINDS)}")
        row = {
            "kind": kind,
            "to": to,
            "subject": subject,
            "body": body,
            "language": language,
            "linkedid": linkedid,
            "customer_id": customer_id,
            "status": "pending",
            "created_at": datetime.now(UTC),
        }
        # One INSERT ... RETURNING and no ORM unit of work: callers ask for SMS mid-call, on
        # the event loop every other call shares.
        async with self.database.autocommit() as connection:
            return int((await connection.execute(_INSERT, row)).scalar_one())

    async def for_call(self, linkedid: str) -> list[OutboundMessage]:
        async with self.database.session() as session:
            rows = await session.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.linkedid == linkedid)
                .order_by(OutboundMessage.id)
            )
            return list(rows)
