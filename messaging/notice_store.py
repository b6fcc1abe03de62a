"""The notices table: one row per notice Tamas decided to send, keyed for good, so an event
delivered twice, a daily run repeated or a poller restarted never sends a second one; and the
core-database poller's position. This module is the tables' one owner.

A notice row is written before its message is queued (`accepted`), then points at the outbox
row (`queued`), or says why nothing was sent (`skipped`: no address, opted out; `refused` by
the outbox's caps). A process that dies between the two leaves an `accepted` row that
`Notifier.resume` finishes: it looks for the outbox row first (the message carries the
notice's key), so a message is never queued twice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from integrations.database import Base, Database, UtcDateTime, rowcount

STATUSES = ("accepted", "queued", "skipped", "refused")


class NoticeRow(Base):
    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # core:<event id>[:<customer id>] or daily:<kind>:<what>:<date>: the idempotency key.
    key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16), default="accepted", index=True)
    channel: Mapped[str | None] = mapped_column(String(8))
    message_id: Mapped[int | None] = mapped_column(Integer)
    # Why it was skipped or refused: no_address, opted_out, per_recipient...
    reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class CoreEventCursor(Base):
    """How far the poller has read a core database's event table."""

    __tablename__ = "core_event_cursors"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class Notice:
    id: int
    key: str
    kind: str
    customer_id: int | None
    status: str
    channel: str | None
    message_id: int | None
    reason: str | None


def _notice(row: Any) -> Notice:
    return Notice(
        row.id, row.key, row.kind, row.customer_id, row.status, row.channel, row.message_id,
        row.reason,
    )  # fmt: skip


class NoticeStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def accept(
        self, key: str, kind: str, customer_id: int | None, now: datetime
    ) -> Notice | None:
        """The new notice's row; None when the key is already known (sent, or being sent)."""
        row = {"key": key, "kind": kind, "customer_id": customer_id, "created_at": now}
        try:
            async with self.database.engine.begin() as connection:
                written = await connection.execute(
                    insert(NoticeRow).values(row).returning(NoticeRow.id)
                )
                notice_id = int(written.scalar_one())
        except IntegrityError:
            return None
        return Notice(notice_id, key, kind, customer_id, "accepted", None, None, None)

    async def accept_many(self, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
        """Many new notices in one statement ({key, kind, customer_id, created_at} each):
        {key: notice id} of those accepted; a key already known is left out, as `accept`
        leaves it."""
        if not rows:
            return {}
        dialect = postgresql if self.database.engine.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(NoticeRow)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(NoticeRow.id, NoticeRow.key)
        )
        async with self.database.engine.begin() as connection:
            written = await connection.execute(statement, list(rows))
            return {row.key: int(row.id) for row in written}

    async def settle_many(self, settled: Sequence[dict[str, Any]]) -> None:
        """Each {id, status, channel, message_id, reason}, in one executemany."""
        if not settled:
            return
        statement = (
            update(NoticeRow)
            .where(NoticeRow.id == bindparam("notice_id"))
            .values(
                status=bindparam("new_status"),
                channel=bindparam("new_channel"),
                message_id=bindparam("new_message_id"),
                reason=bindparam("new_reason"),
            )
        )
        async with self.database.engine.begin() as connection:
            await connection.execute(
                statement,
                [
                    {
                        "notice_id": row["id"],
                        "new_status": row["status"],
                        "new_channel": row.get("channel"),
                        "new_message_id": row.get("message_id"),
                        "new_reason": row.get("reason"),
                    }
                    for row in settled
                ],
            )

    async def known_keys(self, keys: Sequence[str]) -> set[str]:
        async with self.database.engine.connect() as connection:
            found = await connection.scalars(select(NoticeRow.key).where(NoticeRow.key.in_(keys)))
            return set(found)

    async def settle(
        self,
        notice_id: int,
        status: str,
        *,
        channel: str | None = None,
        message_id: int | None = None,
        reason: str | None = None,
    ) -> None:
        if status not in STATUSES:
            raise ValueError(f"notice status {status!r}")
        await self.database.write(
            update(NoticeRow)
            .where(NoticeRow.id == notice_id)
            .values(status=status, channel=channel, message_id=message_id, reason=reason)
        )

    async def by_key(self, key: str) -> Notice | None:
        async with self.database.engine.connect() as connection:
            row = (await connection.execute(select(NoticeRow).where(NoticeRow.key == key))).first()
            return None if row is None else _notice(row)

    async def accepted_before(self, moment: datetime, limit: int = 500) -> list[Notice]:
        """Notices accepted and never settled (their process died): for `Notifier.resume`."""
        async with self.database.engine.connect() as connection:
            rows = await connection.execute(
                select(NoticeRow)
                .where(NoticeRow.status == "accepted", NoticeRow.created_at < moment)
                .order_by(NoticeRow.id)
                .limit(limit)
            )
            return [_notice(row) for row in rows]

    async def queued_since(self, moment: datetime) -> list[Notice]:
        async with self.database.engine.connect() as connection:
            rows = await connection.execute(
                select(NoticeRow)
                .where(NoticeRow.status == "queued", NoticeRow.created_at >= moment)
                .order_by(NoticeRow.id)
            )
            return [_notice(row) for row in rows]

    # --- the poller's position -------------------------------------------------------------
    async def position(self, source: str) -> int:
        async with self.database.engine.connect() as connection:
            found = await connection.scalar(
                select(CoreEventCursor.position).where(CoreEventCursor.source == source)
            )
            return int(found or 0)

    async def advance(self, source: str, position: int, now: datetime) -> None:
        async with self.database.engine.begin() as connection:
            moved = await connection.execute(
                update(CoreEventCursor)
                .where(CoreEventCursor.source == source, CoreEventCursor.position < position)
                .values(position=position, updated_at=now)
            )
            if rowcount(moved) == 0:
                exists = await connection.scalar(
                    select(CoreEventCursor.source).where(CoreEventCursor.source == source)
                )
                if exists is None:
                    await connection.execute(
                        insert(CoreEventCursor).values(
                            source=source, position=position, updated_at=now
                        )
                    )
