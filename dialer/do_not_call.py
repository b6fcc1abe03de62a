"""The one writer of the do-not-call list: numbers no campaign calls, whatever its kind. A
person gets on it by pressing 9 in a campaign call, by texting STOP, or by an operator."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.tables import DoNotCallRow
from integrations.database import Database

REASONS = ("opted_out", "sms_stop", "operator")


async def add_in(
    session: AsyncSession,
    phone: str,
    reason: str,
    now: datetime,
    source: str | None = None,
) -> None:
    """Put `phone` on the list within the caller's transaction (kept as first added)."""
    if reason not in REASONS:
        raise ValueError(f"unknown do-not-call reason {reason!r}")
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(DoNotCallRow)
        .values(phone=phone, reason=reason, added_at=now, source=source)
        .on_conflict_do_nothing(index_elements=["phone"])
    )


class DoNotCallList:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def add(self, phone: str, reason: str, now: datetime, source: str | None = None) -> None:
        async with self.database.session() as session:
            await add_in(session, phone, reason, now, source)
            await session.commit()

    async def remove(self, phone: str) -> bool:
        """Take a number off the list (the person asked to be called again)."""
        return (
            await self.database.write(delete(DoNotCallRow).where(DoNotCallRow.phone == phone)) > 0
        )

    async def holds(self, phone: str) -> bool:
        async with self.database.autocommit() as connection:
            found = await connection.scalar(
                select(DoNotCallRow.phone).where(DoNotCallRow.phone == phone)
            )
        return found is not None

    async def holding(self, phones: Iterable[str]) -> set[str]:
        """Those of `phones` on the list, in one query per thousand (a daily run's page)."""
        wanted = sorted(set(phones))
        found: set[str] = set()
        async with self.database.autocommit() as connection:
            for start in range(0, len(wanted), 1000):
                rows = await connection.scalars(
                    select(DoNotCallRow.phone).where(
                        DoNotCallRow.phone.in_(wanted[start : start + 1000])
                    )
                )
                found.update(rows)
        return found
