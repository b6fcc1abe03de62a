"""The one writer of campaign attempts. An attempt is written before its Originate is sent,
with the ChannelId the Originate will carry, so a worker killed between the two leaves a row
that says a call may be in flight (counted as such, never dialled again blindly), and every
later event of the call, and the interaction record (Asterisk makes the ChannelId the call's
linkedid), matches it. Settling an attempt settles its target (retry or done), puts an opt-out
on the do-not-call list, and records the call as an outbound interaction through its owner.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from dialer import do_not_call
from dialer.campaigns import Campaign, ClaimedTarget, settle_target
from dialer.retries import PersonHistory, RetryPolicy
from dialer.tables import AttemptRow, CampaignRow, DoNotCallRow, TargetRow
from integrations.database import Database
from interactions.outcomes import Outcome
from interactions.records import CallPart, InteractionRecords

# A person picked up: the denominator of the abandon rate.
ANSWERED = frozenset(
    {
        Outcome.MESSAGE_PLAYED,
        Outcome.TO_AGENT,
        Outcome.CALLBACK_REQUESTED,
        Outcome.ABANDONED,
        Outcome.OPTED_OUT,
        Outcome.HUNG_UP,
        Outcome.NO_AGENT,
    }
)


class PersonInCall(Exception):
    """The number has a call in flight already (from this campaign or another)."""


class UnknownAttempt(LookupError):
    """No attempt in flight has this ChannelId (unknown, or settled already)."""


@dataclass(frozen=True)
class Attempt:
    channel_id: str
    campaign_id: int
    target_id: int
    phone: str
    created_at: datetime


@dataclass(frozen=True)
class CallOf:
    """Who an attempt in flight calls and about what: what the campaign call's route says."""

    channel_id: str
    campaign: str
    kind: str
    mode: str
    phone: str
    name: str | None
    language: str | None
    customer_id: int | None
    fields: dict[str, Any]


@dataclass(frozen=True)
class InFlight:
    """An attempt written and not settled, with what its call wrote on it so far."""

    channel_id: str
    campaign_id: int
    worker: str
    created_at: datetime
    answered_at: datetime | None
    result: str | None
    amd_status: str | None


@dataclass(frozen=True)
class Settled:
    """A settled attempt's times and outcome (what pacing learns from)."""

    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    outcome: str


def new_channel_id() -> str:
    """Fixed width and random: Asterisk refuses a ChannelId that prefixes a live one."""
    return f"dialer-{uuid.uuid4()}"


class Attempts:
    """Every write (and the reads) of the `campaign_attempts` table."""

    def __init__(self, database: Database, records: InteractionRecords) -> None:
        self.database = database
        self.records = records

    async def begin(
        self,
        campaign: Campaign,
        target: ClaimedTarget,
        worker: str,
        now: datetime,
        channel_id: str | None = None,
    ) -> Attempt:
        """Write the attempt (in flight) before its Originate goes out; PersonInCall when the
        number already has a call in flight, which the database refuses. `channel_id`: one
        chosen beforehand (e.g. admitted by the trunk gate), else a new one."""
        attempt = Attempt(
            channel_id=channel_id or new_channel_id(),
            campaign_id=campaign.id,
            target_id=target.id,
            phone=target.phone,
            created_at=now,
        )
        async with self.database.session() as session:
            session.add(
                AttemptRow(
                    campaign_id=campaign.id,
                    target_id=target.id,
                    channel_id=attempt.channel_id,
                    phone=target.phone,
                    mode=campaign.mode,
                    worker=worker,
                    created_at=now,
                )
            )
            try:
                await session.commit()
            except IntegrityError:
                raise PersonInCall(target.phone) from None
        return attempt

    async def settle(
        self,
        campaign: Campaign,
        channel_id: str,
        outcome: Outcome,
        ended_at: datetime,
        retries: RetryPolicy,
        answered_at: datetime | None = None,
        ours: bool = False,
    ) -> datetime | None:
        """End the attempt with its outcome; returns when its target is due again (None:
        the target is done). `ours`: Tamas's own failure cut the call (Asterisk stopping, AMI
        lost): the target is due again at once and the attempt is not counted against it."""
        async with self.database.session() as session:
            row = await session.scalar(
                select(AttemptRow)
                .where(AttemptRow.channel_id == channel_id, AttemptRow.ended_at.is_(None))
                .with_for_update()
            )
            if row is None:
                raise UnknownAttempt(channel_id)
            target = await session.get_one(TargetRow, row.target_id)
            row.ended_at, row.answered_at, row.outcome = ended_at, answered_at, outcome.value
            if ours:
                next_try_at: datetime | None = ended_at
            else:
                next_try_at = retries.next_try(outcome, target.attempts + 1, ended_at)
            customer_id, language, phone = target.customer_id, target.language, target.phone
            started_at = row.created_at
            await settle_target(session, row.target_id, outcome, next_try_at, counted=not ours)
            if outcome is Outcome.OPTED_OUT:
                await do_not_call.add_in(session, phone, "opted_out", ended_at, campaign.name)
            await session.commit()
        await self.records.save_call(
            CallPart(
                linkedid=channel_id,
                caller_number=None,
                called_number=phone,
                started_at=started_at,
                ended_at=ended_at,
                customer_id=customer_id,
                language=language,
                outcome=outcome,
                outcome_detail=campaign.name,
                direction="outbound",
            )
        )
        return next_try_at

    async def history_of(self, phone: str) -> PersonHistory:
        """What every campaign's attempts (and the do-not-call list) say about `phone`."""
        async with self.database.session() as session:
            listed = await session.scalar(
                select(DoNotCallRow.phone).where(DoNotCallRow.phone == phone)
            )
            in_flight = await session.scalar(
                select(func.count())
                .select_from(AttemptRow)
                .where(AttemptRow.phone == phone, AttemptRow.ended_at.is_(None))
            )
            # A call Tamas's own failure cut (`failed`) does not start the gap between calls.
            last_ended = await session.scalar(
                select(func.max(AttemptRow.ended_at)).where(
                    AttemptRow.phone == phone, AttemptRow.outcome != Outcome.FAILED.value
                )
            )
            last_abandoned = await session.scalar(
                select(func.max(AttemptRow.ended_at)).where(
                    AttemptRow.phone == phone,
                    AttemptRow.outcome == Outcome.ABANDONED.value,
                )
            )
        return PersonHistory(
            do_not_call=listed is not None,
            in_flight=bool(in_flight),
            last_call_ended_at=_aware(last_ended),
            last_abandoned_at=_aware(last_abandoned),
        )

    async def outcome_counts(
        self, campaign_id: int, since: datetime | None = None
    ) -> dict[str, int]:
        """Settled attempts of the campaign by outcome (ended from `since`), and `in_flight`
        for those written and not settled (their Originate may be out)."""
        ended = select(AttemptRow.outcome, func.count()).where(
            AttemptRow.campaign_id == campaign_id, AttemptRow.ended_at.is_not(None)
        )
        if since is not None:
            ended = ended.where(AttemptRow.ended_at >= since)
        async with self.database.session() as session:
            rows = await session.execute(ended.group_by(AttemptRow.outcome))
            counts = {str(outcome): count for outcome, count in rows}
            if since is None:
                counts["in_flight"] = (
                    await session.scalar(
                        select(func.count())
                        .select_from(AttemptRow)
                        .where(AttemptRow.campaign_id == campaign_id, AttemptRow.ended_at.is_(None))
                    )
                    or 0
                )
        return counts

    async def mark_answered(self, channel_id: str, at: datetime) -> None:
        await self.database.write(
            update(AttemptRow).where(AttemptRow.channel_id == channel_id).values(answered_at=at)
        )

    async def note(
        self,
        channel_id: str,
        *,
        result: Outcome | None = None,
        amd_status: str | None = None,
        answered_at: datetime | None = None,
    ) -> None:
        """What the call did so far, written on the attempt in flight while the call runs
        (a worker restarted after a crash settles the attempt from it)."""
        values: dict[str, Any] = {}
        if result is not None:
            values["result"] = result.value
        if amd_status:
            values["amd_status"] = amd_status[:16]
        if answered_at is not None:
            values["answered_at"] = answered_at
        if values:
            await self.database.write(
                update(AttemptRow)
                .where(AttemptRow.channel_id == channel_id, AttemptRow.ended_at.is_(None))
                .values(**values)
            )

    async def call_of(self, channel_id: str) -> CallOf | None:
        """The attempt in flight with this ChannelId, its target and campaign; None when
        there is none (settled already, or a call the dialer did not place)."""
        async with self.database.autocommit() as connection:
            row = (
                await connection.execute(
                    select(
                        AttemptRow.channel_id,
                        CampaignRow.name.label("campaign"),
                        CampaignRow.kind,
                        CampaignRow.mode,
                        TargetRow.phone,
                        TargetRow.name,
                        TargetRow.language,
                        TargetRow.customer_id,
                        TargetRow.fields,
                    )
                    .join(TargetRow, TargetRow.id == AttemptRow.target_id)
                    .join(CampaignRow, CampaignRow.id == AttemptRow.campaign_id)
                    .where(AttemptRow.channel_id == channel_id, AttemptRow.ended_at.is_(None))
                )
            ).first()
        return None if row is None else CallOf(**row._asdict())

    async def noted(self, channel_id: str) -> InFlight | None:
        """The attempt in flight with this ChannelId and what its call wrote on it."""
        found = await self.in_flight(channel_id=channel_id)
        return found[0] if found else None

    async def in_flight(
        self, campaign_id: int | None = None, channel_id: str | None = None
    ) -> list[InFlight]:
        """Attempts written and not settled (of one campaign, or all), oldest first."""
        query = select(
            AttemptRow.channel_id,
            AttemptRow.campaign_id,
            AttemptRow.worker,
            AttemptRow.created_at,
            AttemptRow.answered_at,
            AttemptRow.result,
            AttemptRow.amd_status,
        ).where(AttemptRow.ended_at.is_(None))
        if campaign_id is not None:
            query = query.where(AttemptRow.campaign_id == campaign_id)
        if channel_id is not None:
            query = query.where(AttemptRow.channel_id == channel_id)
        async with self.database.session() as session:
            rows = await session.execute(query.order_by(AttemptRow.id))
            return [InFlight(**row._asdict()) for row in rows]

    async def settled_since(self, campaign_id: int, since: datetime) -> list[Settled]:
        """The campaign's attempts that ended from `since`, oldest first."""
        async with self.database.session() as session:
            rows = await session.execute(
                select(
                    AttemptRow.created_at,
                    AttemptRow.answered_at,
                    AttemptRow.ended_at,
                    AttemptRow.outcome,
                )
                .where(AttemptRow.campaign_id == campaign_id, AttemptRow.ended_at >= since)
                .order_by(AttemptRow.ended_at)
            )
            return [Settled(**row._asdict()) for row in rows]


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands an aggregate's moment back without its zone; Tamas stores UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
