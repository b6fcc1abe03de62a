"""The one writer of campaigns and their targets: create a campaign from a kind, add imported
targets, let dialer workers claim due targets, and settle a target after an attempt.

Workers share a campaign through the database alone: a claim is one UPDATE over the due
targets that PostgreSQL picks with `FOR UPDATE SKIP LOCKED` (rows another worker is claiming
are skipped, not waited for) and SQLite runs under its write lock, so two workers never get
the same target.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dialer import imports
from dialer.kinds import CampaignKind
from dialer.tables import THIRTY_DAYS_S, AttemptRow, CampaignRow, TargetRow
from integrations.database import Database
from interactions.outcomes import Outcome
from tamas.errors import CommandError

STATES = ("draft", "running", "paused", "stopped", "finished")
# What an operator's action does: the states it applies to, and the state it leads to.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "start": (frozenset({"draft"}), "running"),
    "pause": (frozenset({"running"}), "paused"),
    "resume": (frozenset({"paused"}), "running"),
    "stop": (frozenset({"draft", "running", "paused"}), "stopped"),
}


class WrongState(CommandError):
    """The action does not apply to the campaign's present state."""

    def __init__(self, name: str, action: str, state: str) -> None:
        allowed = " or ".join(sorted(TRANSITIONS[action][0]))
        super().__init__(
            f"cannot {action} campaign {name!r}: it is {state} (only a campaign {allowed} can)"
        )


class CampaignExists(CommandError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a campaign named {name!r} exists already: choose another name")


class UnknownCampaign(CommandError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no campaign named {name!r} (tamas campaign create makes one)")


@dataclass(frozen=True)
class Campaign:
    id: int
    name: str
    kind: str
    mode: str
    state: str
    created_at: datetime
    abandon_target: float
    abandon_window_s: int


@dataclass(frozen=True)
class ClaimedTarget:
    """A target a worker now holds, with what the call needs."""

    id: int
    campaign_id: int
    phone: str
    name: str | None
    language: str | None
    customer_id: int | None
    time_zone: str | None
    fields: dict[str, Any]
    attempts: int


_CLAIMED = (
    TargetRow.id,
    TargetRow.campaign_id,
    TargetRow.phone,
    TargetRow.name,
    TargetRow.language,
    TargetRow.customer_id,
    TargetRow.time_zone,
    TargetRow.fields,
    TargetRow.attempts,
)


def _campaign(row: CampaignRow) -> Campaign:
    return Campaign(
        id=row.id,
        name=row.name,
        kind=row.kind,
        mode=row.mode,
        state=row.state,
        created_at=row.created_at,
        abandon_target=row.abandon_target,
        abandon_window_s=row.abandon_window_s,
    )


class Campaigns:
    """Every write (and the reads) of the `campaigns` and `campaign_targets` tables."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def create(
        self,
        name: str,
        kind: CampaignKind,
        now: datetime,
        abandon_target: float = 0.03,
        abandon_window_s: int = THIRTY_DAYS_S,
    ) -> Campaign:
        if not 0 <= abandon_target < 1:
            raise CommandError(f"abandon target {abandon_target} must be in [0, 1): 0.03 is 3%")
        row = CampaignRow(
            name=name,
            kind=kind.name,
            mode=kind.mode.value,
            state="draft",
            created_at=now,
            abandon_target=abandon_target,
            abandon_window_s=abandon_window_s,
        )
        async with self.database.session() as session:
            session.add(row)
            try:
                await session.commit()
            except IntegrityError:
                raise CampaignExists(name) from None
            return _campaign(row)

    async def named(self, name: str) -> Campaign:
        async with self.database.session() as session:
            row = await session.scalar(select(CampaignRow).where(CampaignRow.name == name))
        if row is None:
            raise UnknownCampaign(name)
        return _campaign(row)

    async def change_state(self, name: str, action: str) -> Campaign:
        """Apply an operator's action (start, pause, resume, stop) in one conditional UPDATE,
        so two operators (or an operator and a worker finishing it) cannot both win."""
        if action not in TRANSITIONS:
            raise ValueError(f"unknown campaign action {action!r} ({', '.join(TRANSITIONS)})")
        sources, state = TRANSITIONS[action]
        async with self.database.session() as session:
            row = await session.scalar(
                update(CampaignRow)
                .where(CampaignRow.name == name, CampaignRow.state.in_(sorted(sources)))
                .values(state=state)
                .returning(CampaignRow)
            )
            await session.commit()
        if row is not None:
            return _campaign(row)
        raise WrongState(name, action, (await self.named(name)).state)

    async def running(self) -> list[Campaign]:
        return await self.all(state="running")

    async def all(self, state: str | None = None) -> list[Campaign]:
        query = select(CampaignRow).order_by(CampaignRow.id)
        if state is not None:
            query = query.where(CampaignRow.state == state)
        async with self.database.session() as session:
            return [_campaign(row) for row in await session.scalars(query)]

    async def finish(self, campaign_id: int) -> bool:
        """A running campaign with nothing left to call becomes finished (not one an
        operator paused or stopped meanwhile)."""
        changed = await self.database.write(
            update(CampaignRow)
            .where(CampaignRow.id == campaign_id, CampaignRow.state == "running")
            .values(state="finished")
        )
        return changed > 0

    async def release_stale_claims(self, claimed_before: datetime) -> int:
        """Targets a worker claimed before `claimed_before` and never called (it died between
        the claim and writing the attempt) become due again; a target with an attempt in
        flight stays claimed, as its call may be live."""
        calling = select(AttemptRow.target_id).where(AttemptRow.ended_at.is_(None))
        return await self.database.write(
            update(TargetRow)
            .where(
                TargetRow.state == "dialing",
                TargetRow.claimed_at < claimed_before,
                TargetRow.id.not_in(calling),
            )
            .values(state="pending", claimed_by=None, claimed_at=None)
        )

    async def set_state(self, campaign_id: int, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"unknown campaign state {state!r}")
        await self.database.write(
            update(CampaignRow).where(CampaignRow.id == campaign_id).values(state=state)
        )

    async def add_targets(
        self, campaign_id: int, targets: Iterable[imports.TargetRow]
    ) -> tuple[int, int]:
        """Add targets not yet in the campaign: (added, already in the campaign)."""
        async with self.database.session() as session:
            present = set(
                await session.scalars(
                    select(TargetRow.phone).where(TargetRow.campaign_id == campaign_id)
                )
            )
            added = known = 0
            for target in targets:
                if target.phone in present:
                    known += 1
                    continue
                present.add(target.phone)
                session.add(
                    TargetRow(
                        campaign_id=campaign_id,
                        phone=target.phone,
                        name=target.name,
                        language=target.language,
                        customer_id=target.customer_id,
                        time_zone=target.time_zone,
                        fields=dict(target.fields),
                        state="pending",
                        attempts=0,
                    )
                )
                added += 1
            await session.commit()
        return added, known

    async def claim(
        self, campaign_id: int, worker: str, now: datetime, limit: int = 10
    ) -> list[ClaimedTarget]:
        """Take up to `limit` due targets of the campaign for `worker`, in one statement."""
        due = (
            select(TargetRow.id)
            .where(
                TargetRow.campaign_id == campaign_id,
                TargetRow.state == "pending",
                or_(TargetRow.next_try_at.is_(None), TargetRow.next_try_at <= now),
            )
            .order_by(TargetRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            # A CTE, evaluated once: as `id IN (subquery)` PostgreSQL may run the LIMITed
            # subquery again for each row it scans, and claimed twice the limit (seen).
            .cte("due")
        )
        claim = (
            update(TargetRow)
            .where(TargetRow.id == due.c.id, TargetRow.state == "pending")
            .values(state="dialing", claimed_by=worker, claimed_at=now)
            .returning(*_CLAIMED)
        )
        async with self.database.autocommit() as connection:
            rows = (await connection.execute(claim)).all()
        return sorted(
            (ClaimedTarget(**row._asdict()) for row in rows), key=lambda target: target.id
        )

    async def release(self, target_id: int, next_try_at: datetime | None) -> None:
        """Give back a claimed target that was not called: due again at `next_try_at`, or
        skipped for good when None (the number is on the do-not-call list)."""
        values: dict[str, Any] = {"claimed_by": None, "claimed_at": None}
        if next_try_at is None:
            values.update(state="skipped")
        else:
            values.update(state="pending", next_try_at=next_try_at)
        await self.database.write(
            update(TargetRow).where(TargetRow.id == target_id).values(**values)
        )

    async def target_counts(self, campaign_id: int) -> dict[str, int]:
        """How many of the campaign's targets are in each state."""
        async with self.database.session() as session:
            rows = await session.execute(
                select(TargetRow.state, func.count())
                .where(TargetRow.campaign_id == campaign_id)
                .group_by(TargetRow.state)
            )
            return {state: count for state, count in rows}

    async def targets(self, campaign_id: int, limit: int = 10) -> list[ClaimedTarget]:
        """The campaign's first targets, as a worker would get them (for a preview)."""
        async with self.database.session() as session:
            rows = await session.execute(
                select(*_CLAIMED)
                .where(TargetRow.campaign_id == campaign_id)
                .order_by(TargetRow.id)
                .limit(limit)
            )
            return [ClaimedTarget(**row._asdict()) for row in rows]


async def settle_target(
    session: AsyncSession,
    target_id: int,
    outcome: Outcome,
    next_try_at: datetime | None,
    counted: bool = True,
) -> None:
    """After an attempt (in the attempt's transaction): due again at `next_try_at`, or done.
    `counted=False`: the attempt was cut by Tamas's own failure and is not one of the
    target's attempts."""
    await session.execute(
        update(TargetRow)
        .where(TargetRow.id == target_id)
        .values(
            state="pending" if next_try_at is not None else "done",
            next_try_at=next_try_at,
            attempts=TargetRow.attempts + (1 if counted else 0),
            last_outcome=outcome.value,
            claimed_by=None,
            claimed_at=None,
        )
    )
