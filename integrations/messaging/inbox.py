"""The inbox: one row per text a customer sent us, whichever way it came (a provider's pull
inbox, its push to our webhook, SMPP deliver_sm). Kept before it is acted on and once only
(unique per provider and the provider's id), so a webhook retried or an inbox read twice
answers once, and a text whose answer was not yet queued when the process stopped is taken up
again: answering (claimed by the worker that kept it) -> answered | ignored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from integrations.database import Base, Database, UtcDateTime

STATUSES = ("answering", "answered", "ignored")
# A claim older than this belongs to a worker that stopped: the text is taken up again.
CLAIM_TIMEOUT = timedelta(minutes=5)


class InboundMessage(Base):
    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint(
            "provider", "provider_message_id", name="uq_inbound_messages_provider_message"
        ),
        Index("ix_inbound_messages_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    provider_message_id: Mapped[str] = mapped_column(String(128))
    from_number: Mapped[str] = mapped_column(String(32))
    to_number: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # received, answering (since claimed_at), answered, ignored (opted out, rate-limited).
    status: Mapped[str] = mapped_column(String(16))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    keyword: Mapped[str | None] = mapped_column(String(32))
    # The outbox row of the answer.
    answer_id: Mapped[int | None] = mapped_column(Integer)


class Inbox:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def keep(
        self,
        provider: str,
        provider_message_id: str,
        from_number: str,
        body: str,
        to_number: str | None = None,
        at: datetime | None = None,
    ) -> int | None:
        """Keep a text and claim it for answering; its row id, or None when this provider's
        text was kept before (the caller then does nothing)."""
        dialect = postgresql if self.database.engine.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(InboundMessage)
            .values(
                provider=provider,
                provider_message_id=provider_message_id[:128],
                from_number=from_number[:32],
                to_number=None if to_number is None else to_number[:32],
                body=body[:2000],
                received_at=at or datetime.now(UTC),
                status="answering",
                claimed_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing(index_elements=["provider", "provider_message_id"])
            .returning(InboundMessage.id)
        )
        async with self.database.autocommit() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else int(row.id)

    async def settle(
        self, message_id: int, status: str, keyword: str | None, answer_id: int | None
    ) -> None:
        if status not in STATUSES:
            raise ValueError(f"inbox status {status!r} is not one of {STATUSES}")
        await self.database.write(
            update(InboundMessage)
            .where(InboundMessage.id == message_id)
            .values(status=status, keyword=keyword, answer_id=answer_id)
        )

    async def unanswered(self, limit: int = 100) -> list[InboundMessage]:
        """Texts claimed longer than CLAIM_TIMEOUT ago and never settled (their worker
        stopped), claimed again for this worker."""
        cutoff = datetime.now(UTC) - CLAIM_TIMEOUT
        stale = (InboundMessage.status == "answering") & (InboundMessage.claimed_at < cutoff)
        async with self.database.session() as session:
            rows = list(
                await session.scalars(
                    select(InboundMessage).where(stale).order_by(InboundMessage.id).limit(limit)
                )
            )
            taken = []
            for row in rows:
                claimed = await session.execute(
                    update(InboundMessage)
                    .where(InboundMessage.id == row.id, stale)
                    .values(claimed_at=datetime.now(UTC))
                )
                if claimed.rowcount:  # type: ignore[attr-defined]
                    taken.append(row)
            await session.commit()
        return taken

    async def load(self, message_id: int) -> InboundMessage | None:
        async with self.database.session() as session:
            return await session.get(InboundMessage, message_id)
