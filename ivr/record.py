"""Writing a call's interaction record from its session: who called, the customer recognised,
language, menus with timestamps, masked inputs, the transcript, what was looked up, outcome and
duration. Keyed by linkedid, so a later AGI session of the same call (the survey after the
agent) continues the same row instead of making a second one.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from interactions.table import Interaction
from integrations.database import Database
from ivr.session import CallSession

log = logging.getLogger(__name__)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def save(database: Database, session: CallSession) -> None:
    """Write (or continue) the call's row. Shielded, so a cancelled route still writes it."""
    await asyncio.shield(_save_once_more_if_raced(database, session))


async def _save_once_more_if_raced(database: Database, session: CallSession) -> None:
    try:
        await _insert(database, session)
        return
    except IntegrityError:
        pass  # the call already has a row (the menu before the survey): continue it
    try:
        await _save(database, session)
    except IntegrityError:
        # Another part of Tamas made the row between our look and our insert: continue it.
        await _save(database, session)


_INSERT = insert(Interaction)


async def _insert(database: Database, call: CallSession) -> None:
    """Most calls: the first and only row of the call, one INSERT and no transaction around
    it (the IVR server writes one per call ending, on the event loop every caller shares)."""
    ended_at = call.ended_at or call.clock()
    row = {
        "linkedid": call.linkedid,
        "channel": "call",
        "direction": "inbound",
        "caller_number": call.caller_number,
        "called_number": call.called_number,
        "customer_id": call.customer.customer_id if call.customer is not None else None,
        "language": call.language,
        "started_at": call.started_at,
        "ended_at": ended_at,
        "duration_s": round((ended_at - _aware(call.started_at)).total_seconds(), 3),
        "outcome": call.outcome,
        "outcome_detail": call.outcome_detail if call.outcome is not None else None,
        "menu_path": call.menu_path,
        "inputs": call.inputs,
        "transcript": call.transcript,
        "looked_up": call.looked_up,
        "queue": call.queue,
    }
    async with database.autocommit() as connection:
        await connection.execute(_INSERT, row)


async def _save(database: Database, call: CallSession) -> None:
    ended_at = call.ended_at or call.clock()
    async with database.session() as db:
        row = await db.scalar(select(Interaction).where(Interaction.linkedid == call.linkedid))
        if row is None:
            row = Interaction(
                linkedid=call.linkedid,
                channel="call",
                direction="inbound",
                caller_number=call.caller_number,
                called_number=call.called_number,
                started_at=call.started_at,
                menu_path=[],
                inputs=[],
                transcript=[],
                looked_up=[],
            )
            db.add(row)
        row.caller_number = row.caller_number or call.caller_number
        row.called_number = row.called_number or call.called_number
        if call.customer is not None:
            row.customer_id = call.customer.customer_id
        row.language = call.language
        # New lists (not appends in place) so SQLAlchemy sees the JSON columns change.
        row.menu_path = [*(row.menu_path or []), *call.menu_path]
        row.inputs = [*(row.inputs or []), *call.inputs]
        row.transcript = [*(row.transcript or []), *call.transcript]
        row.looked_up = [*(row.looked_up or []), *call.looked_up]
        row.ended_at = ended_at
        row.duration_s = round((ended_at - _aware(row.started_at)).total_seconds(), 3)
        if call.outcome is not None:
            row.outcome = call.outcome
            row.outcome_detail = call.outcome_detail
        if call.queue is not None:
            row.queue = call.queue
        await db.commit()


async def settle_queue(
    database: Database, linkedid: str, outcome: str, at: datetime | None = None
) -> bool:
    """The end of a call the IVR put in a queue: `answered_by_agent`, or `abandoned_in_queue`
    when the caller hung up waiting. Only a record still saying `queued` changes (the queue's
    own no-agent path may have ended it already); False when none did."""
    ended_at = at or datetime.now(UTC)
    async with database.session() as db:
        row = await db.execute(
            select(Interaction.started_at).where(
                Interaction.linkedid == linkedid, Interaction.outcome == "queued"
            )
        )
        started_at = row.scalar_one_or_none()
        if started_at is None:
            return False
        changed = await db.execute(
            update(Interaction)
            .where(Interaction.linkedid == linkedid, Interaction.outcome == "queued")
            .values(
                outcome=outcome,
                ended_at=ended_at,
                duration_s=round((ended_at - _aware(started_at)).total_seconds(), 3),
            )
        )
        await db.commit()
    return bool(getattr(changed, "rowcount", 0))


async def save_survey(database: Database, linkedid: str, score: int, nps: int) -> bool:
    """Store the survey's answers on the call's record; False when there is no such call."""
    async with database.session() as db:
        row = await db.scalar(select(Interaction).where(Interaction.linkedid == linkedid))
        if row is None:
            log.warning("survey answers for unknown call %s", linkedid)
            return False
        row.survey_score = score
        row.survey_nps = nps
        await db.commit()
    return True


async def load(database: Database, linkedid: str) -> Interaction | None:
    async with database.session() as db:
        return await db.scalar(select(Interaction).where(Interaction.linkedid == linkedid))
