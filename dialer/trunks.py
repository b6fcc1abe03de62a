"""The limits a carrier and an operator set, held across every dialer worker: concurrent
channels per trunk and per campaign, and calls per second per trunk. The channels in flight are
rows (`dialer_channel_slots`), admitted in one transaction that holds the campaign's and the
trunk's rows locked (FOR UPDATE on PostgreSQL; SQLite has one writer), so two workers never
both take the last channel. This module owns both tables.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Float, ForeignKey, Index, Integer, String, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from dialer.tables import AttemptRow, CampaignRow
from integrations.database import Base, Database, UtcDateTime

# Released slots are kept this long: the calls-per-second count reads the latest admissions.
KEEP_RELEASED = timedelta(minutes=1)
# A slot whose attempt was never written, or has ended, is stale after this long (its worker
# was killed between the admission and the attempt, or before releasing it).
STALE_AFTER = timedelta(minutes=1)


class TrunkRow(Base):
    __tablename__ = "dialer_trunks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    max_channels: Mapped[int] = mapped_column(Integer)
    calls_per_second: Mapped[float] = mapped_column(Float)


class ChannelSlotRow(Base):
    __tablename__ = "dialer_channel_slots"
    __table_args__ = (
        Index("ix_dialer_channel_slots_trunk_admitted_at", "trunk", "admitted_at"),
        Index("ix_dialer_channel_slots_campaign_id_released_at", "campaign_id", "released_at"),
    )

    # The Originate's ChannelId: the attempt's key too.
    channel_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    trunk: Mapped[str] = mapped_column(ForeignKey("dialer_trunks.name", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    admitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class TrunkLimits:
    """A trunk's caps. The peer's defaults: 5 calls/s ("most SIP carriers can handle less
    than 4" is its own warning), and a channel count the carrier sells."""

    max_channels: int = 30
    calls_per_second: float = 4.0

    def per_window(self) -> tuple[timedelta, int]:
        """Calls allowed per window: 1 s for a rate of one or more; longer under one a second
        (0.5/s: one call per 2 s)."""
        if self.calls_per_second >= 1:
            return timedelta(seconds=1), math.floor(self.calls_per_second)
        if self.calls_per_second <= 0:
            return timedelta(seconds=1), 0
        return timedelta(seconds=1 / self.calls_per_second), 1


class TrunkGate:
    """Admits channels within the limits; a trunk met for the first time gets `defaults`."""

    def __init__(self, database: Database, defaults: TrunkLimits | None = None) -> None:
        self.database = database
        self.defaults = defaults or TrunkLimits()

    async def configure(self, trunk: str, limits: TrunkLimits) -> None:
        """Set a trunk's limits (creating it); calls in flight are kept."""
        async with self.database.session() as session:
            await self._ensure(session, trunk, limits)
            await session.execute(
                update(TrunkRow)
                .where(TrunkRow.name == trunk)
                .values(max_channels=limits.max_channels, calls_per_second=limits.calls_per_second)
            )
            await session.commit()

    async def admit(
        self,
        trunk: str,
        campaign_id: int,
        channel_ids: Sequence[str],
        campaign_max_channels: int,
        now: datetime,
    ) -> list[str]:
        """The first of `channel_ids` that fit now under the trunk's channels and calls per
        second and the campaign's channels, each holding a slot until `release`."""
        if not channel_ids:
            return []
        async with self.database.session() as session:
            # A write first: on SQLite it takes the one writer's lock for the whole
            # transaction; on PostgreSQL the rows below are locked campaign first, then trunk,
            # in every admission, so two never wait on each other crosswise.
            await self._ensure(session, trunk, self.defaults)
            await session.execute(
                select(CampaignRow.id).where(CampaignRow.id == campaign_id).with_for_update()
            )
            limits_row = await session.scalar(
                select(TrunkRow).where(TrunkRow.name == trunk).with_for_update()
            )
            assert limits_row is not None  # made by _ensure in this transaction
            limits = TrunkLimits(limits_row.max_channels, limits_row.calls_per_second)
            await session.execute(
                delete(ChannelSlotRow).where(
                    ChannelSlotRow.trunk == trunk,
                    ChannelSlotRow.released_at.is_not(None),
                    ChannelSlotRow.admitted_at < now - KEEP_RELEASED,
                )
            )
            window, per_window = limits.per_window()
            trunk_live = await _count(
                session, ChannelSlotRow.trunk == trunk, ChannelSlotRow.released_at.is_(None)
            )
            campaign_live = await _count(
                session,
                ChannelSlotRow.campaign_id == campaign_id,
                ChannelSlotRow.released_at.is_(None),
            )
            recent = await _count(
                session, ChannelSlotRow.trunk == trunk, ChannelSlotRow.admitted_at > now - window
            )
            room = min(
                limits.max_channels - trunk_live,
                campaign_max_channels - campaign_live,
                per_window - recent,
            )
            admitted = list(channel_ids[: max(0, room)])
            session.add_all(
                ChannelSlotRow(
                    channel_id=channel_id, trunk=trunk, campaign_id=campaign_id, admitted_at=now
                )
                for channel_id in admitted
            )
            await session.commit()
        return admitted

    async def release(self, channel_id: str) -> None:
        """The channel's call has ended (or was never placed): its slot is free."""
        await self.database.write(
            update(ChannelSlotRow)
            .where(ChannelSlotRow.channel_id == channel_id, ChannelSlotRow.released_at.is_(None))
            .values(released_at=datetime.now(UTC))
        )

    async def release_stale(self, now: datetime, stale_after: timedelta = STALE_AFTER) -> int:
        """Free the slots of calls no longer in flight whose worker died before releasing them:
        admitted over `stale_after` ago with no attempt in flight under their ChannelId (an
        attempt still unsettled keeps its slot: its Originate may be out). How many."""
        in_flight = select(AttemptRow.channel_id).where(AttemptRow.ended_at.is_(None))
        return await self.database.write(
            update(ChannelSlotRow)
            .where(
                ChannelSlotRow.released_at.is_(None),
                ChannelSlotRow.admitted_at < now - stale_after,
                ChannelSlotRow.channel_id.not_in(in_flight),
            )
            .values(released_at=now)
        )

    async def in_flight(self, trunk: str) -> int:
        async with self.database.session() as session:
            return await _count(
                session, ChannelSlotRow.trunk == trunk, ChannelSlotRow.released_at.is_(None)
            )

    @staticmethod
    async def _ensure(session: AsyncSession, trunk: str, limits: TrunkLimits) -> None:
        values = {
            "name": trunk,
            "max_channels": limits.max_channels,
            "calls_per_second": limits.calls_per_second,
        }
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        await session.execute(
            dialect.insert(TrunkRow)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["name"])
        )


async def _count(session: AsyncSession, *conditions: ColumnElement[bool]) -> int:
    count = await session.scalar(
        select(func.count()).select_from(ChannelSlotRow).where(*conditions)
    )
    return int(count or 0)
