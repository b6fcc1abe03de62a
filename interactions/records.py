"""The one writer (and reader) of the `interactions` table. A call's record is keyed by
Asterisk's linkedid, which every channel of the call shares, so the parts of one call (the
menus, then the queue's end, the survey, the agent's disposition and notes) land on one row,
whichever process writes them and in whatever order.

The IVR hands a whole `CallPart` at the end of each of its AGI sessions (one INSERT for most
calls, no transaction around it: the IVR server writes one per call ending, on the event loop
every caller shares); a later session of the same call continues the row. Writes are shielded
from cancellation, so a caller hanging up mid-menu still leaves a whole record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from customer_file.views import InteractionView, from_record
from integrations.database import Database, rowcount
from integrations.prepared_reads import PreparedRead, reading
from interactions.outcomes import Outcome
from interactions.table import Interaction

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class CallPart:
    """What one AGI session of a call adds to the call's record."""

    linkedid: str
    caller_number: str | None
    called_number: str | None = None
    started_at: datetime = field(default_factory=utc_now)
    ended_at: datetime | None = None
    customer_id: int | None = None
    language: str | None = None
    # None: this part says nothing of how the call ended (a survey after the agent).
    outcome: Outcome | None = None
    outcome_detail: str | None = None
    menu_path: list[dict[str, Any]] = field(default_factory=list)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    looked_up: list[dict[str, Any]] = field(default_factory=list)
    queue: str | None = None
    channel: str = "call"
    direction: str = "inbound"


@dataclass
class MessagePart:
    """One message to or from a person (SMS, email, fax) as an interaction. `key` names it for
    good (`outbox:<id>` for what we send, `sms-in:<provider id>` for what we receive): a
    delivery report or a retry settles the same row, never a second one."""

    key: str
    channel: str  # sms, email, fax
    direction: str  # inbound, outbound
    address: str  # their number or email address
    outcome: Outcome
    customer_id: int | None = None
    language: str | None = None
    # What it was about: the notice kind, the keyword answered, the outbox subject.
    detail: str | None = None
    text: str | None = None
    at: datetime = field(default_factory=utc_now)
    # What came with it (a received fax's pages as PDF, an email's attachments), kept as the
    # record's inputs: [{"document": "fax/received/1.pdf", "type": "application/pdf", ...}].
    documents: list[dict[str, Any]] = field(default_factory=list)


def _message_row(part: MessagePart) -> dict[str, Any]:
    inbound = part.direction == "inbound"
    return {
        "linkedid": part.key,
        "channel": part.channel,
        "direction": part.direction,
        "caller_number": part.address if inbound else None,
        "called_number": None if inbound else part.address,
        "customer_id": part.customer_id,
        "language": part.language,
        "started_at": part.at,
        "ended_at": None if not part.outcome.settled else part.at,
        "duration_s": None,
        "outcome": part.outcome,
        "outcome_detail": part.detail,
        "menu_path": [],
        "inputs": list(part.documents),
        "transcript": [] if part.text is None else [{"text": part.text[:1000]}],
        "looked_up": [],
        "queue": None,
    }


def _duration_s(started_at: datetime, ended_at: datetime) -> float:
    return round((ended_at - started_at).total_seconds(), 3)


# Not the inputs and transcript: the largest columns, which no view shows.
VIEW_COLUMNS = (
    Interaction.linkedid,
    Interaction.channel,
    Interaction.direction,
    Interaction.caller_number,
    Interaction.customer_id,
    Interaction.started_at,
    Interaction.duration_s,
    Interaction.outcome,
    Interaction.queue,
    Interaction.agent,
    Interaction.disposition,
    Interaction.notes,
    Interaction.menu_path,
    Interaction.looked_up,
)

# "Last 10 calls" on a popup: newest first straight from (customer_id, started_at).
RECENT_FOR_CUSTOMER = (
    select(*VIEW_COLUMNS)
    .where(Interaction.customer_id == bindparam("customer_id"))
    .order_by(Interaction.started_at.desc())
    .limit(bindparam("limit"))
)

# The row the IVR writes once per call, prepared on the driver (integrations/prepared_reads.py):
# through SQLAlchemy's execution it cost about 1 ms of CPU on the event loop every caller shares.
_INSERT_COLUMNS = (
    "linkedid", "channel", "direction", "caller_number", "called_number", "customer_id",
    "language", "started_at", "ended_at", "duration_s", "outcome", "outcome_detail",
    "menu_path", "inputs", "transcript", "looked_up", "queue",
)  # fmt: skip
_INSERT = insert(Interaction)
_INSERT_CALL = PreparedRead(
    _INSERT.values(
        {
            name: bindparam(name, type_=Interaction.__table__.c[name].type)
            for name in _INSERT_COLUMNS
        }
    ).inline()
)


def view(row: Any) -> InteractionView:
    """A row of `VIEW_COLUMNS` as the customer file's view."""
    return from_record(
        InteractionView,
        row,
        menu_path=tuple(row.menu_path or ()),
        looked_up=tuple(row.looked_up or ()),
    )


class InteractionRecords:
    """Every read and write of interaction records, over one database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    # --- writes ----------------------------------------------------------------------------
    async def save_call(self, part: CallPart) -> None:
        """Write the part as the call's row, or continue the row an earlier part made."""
        await asyncio.shield(self._save_call(part))

    async def _save_call(self, part: CallPart) -> None:
        try:
            await self._insert(part)
            return
        except IntegrityError:
            pass  # the call already has a row (the menu before the survey): continue it
        try:
            await self._continue(part)
        except IntegrityError:
            # Another process made the row between our look and our insert: continue it.
            await self._continue(part)

    async def _insert(self, part: CallPart) -> None:
        ended_at = part.ended_at or utc_now()
        row = {
            "linkedid": part.linkedid,
            "channel": part.channel,
            "direction": part.direction,
            "caller_number": part.caller_number,
            "called_number": part.called_number,
            "customer_id": part.customer_id,
            "language": part.language,
            "started_at": part.started_at,
            "ended_at": ended_at,
            "duration_s": _duration_s(part.started_at, ended_at),
            "outcome": part.outcome,
            "outcome_detail": part.outcome_detail if part.outcome is not None else None,
            "menu_path": part.menu_path,
            "inputs": part.inputs,
            "transcript": part.transcript,
            "looked_up": part.looked_up,
            "queue": part.queue,
        }
        async with reading(self.database) as writer:
            await writer.run(_INSERT_CALL, row)

    async def _continue(self, part: CallPart) -> None:
        ended_at = part.ended_at or utc_now()
        async with self.database.session() as db:
            row = await db.scalar(select(Interaction).where(Interaction.linkedid == part.linkedid))
            if row is None:
                row = Interaction(
                    linkedid=part.linkedid,
                    channel=part.channel,
                    direction=part.direction,
                    caller_number=part.caller_number,
                    called_number=part.called_number,
                    started_at=part.started_at,
                    menu_path=[],
                    inputs=[],
                    transcript=[],
                    looked_up=[],
                )
                db.add(row)
            row.caller_number = row.caller_number or part.caller_number
            row.called_number = row.called_number or part.called_number
            if part.customer_id is not None:
                row.customer_id = part.customer_id
            if part.language is not None:
                row.language = part.language
            # New lists (not appends in place) so SQLAlchemy sees the JSON columns change.
            row.menu_path = [*(row.menu_path or []), *part.menu_path]
            row.inputs = [*(row.inputs or []), *part.inputs]
            row.transcript = [*(row.transcript or []), *part.transcript]
            row.looked_up = [*(row.looked_up or []), *part.looked_up]
            row.ended_at = ended_at
            row.duration_s = _duration_s(row.started_at, ended_at)
            if part.outcome is not None:
                row.outcome = part.outcome
                row.outcome_detail = part.outcome_detail
            if part.queue is not None:
                row.queue = part.queue
            await db.commit()

    async def settle_queue(
        self, linkedid: str, outcome: Outcome, at: datetime | None = None
    ) -> bool:
        """The end of a call the IVR put in a queue: `answered_by_agent`, or
        `abandoned_in_queue` when the caller hung up waiting. Only a record still saying
        `queued` changes (the queue's own no-agent path may have ended it already); False
        when none did."""
        ended_at = at or utc_now()
        still_queued = (Interaction.linkedid == linkedid, Interaction.outcome == Outcome.QUEUED)
        async with self.database.session() as db:
            started_at = (
                await db.execute(select(Interaction.started_at).where(*still_queued))
            ).scalar_one_or_none()
            if started_at is None:
                return False
            changed = await db.execute(
                update(Interaction)
                .where(*still_queued)
                .values(
                    outcome=outcome,
                    ended_at=ended_at,
                    duration_s=_duration_s(started_at, ended_at),
                )
            )
            await db.commit()
        return rowcount(changed) > 0

    async def save_survey(self, linkedid: str, score: int, nps: int) -> bool:
        """The survey's answers on the call's record; False when there is no such call."""
        statement = (
            update(Interaction)
            .where(Interaction.linkedid == linkedid)
            .values(survey_score=score, survey_nps=nps)
        )
        if await self.database.write(statement) == 0:
            log.warning("survey answers for unknown call %s", linkedid)
            return False
        return True

    async def save_disposition(
        self, linkedid: str, agent: str, disposition: str, notes: str | None = None
    ) -> bool:
        """The agent's disposition and notes. False when no interaction has this linkedid, or
        another agent handled it."""
        statement = (
            update(Interaction)
            .where(
                Interaction.linkedid == linkedid,
                or_(Interaction.agent.is_(None), Interaction.agent == agent),
            )
            .values(agent=agent, disposition=disposition[:64], notes=notes)
        )
        return await self.database.write(statement) > 0

    async def save_message(self, part: MessagePart) -> bool:
        """Record a message; False when its key is already recorded (a webhook delivered twice,
        a message retried): the first record stands and is settled by `settle_message`."""
        try:
            async with reading(self.database) as writer:
                await writer.run(_INSERT_CALL, _message_row(part))
        except IntegrityError:
            return False
        return True

    async def save_messages(self, parts: Sequence[MessagePart]) -> None:
        """Many new messages in one INSERT (the daily run's notices, each keyed by its fresh
        outbox row, so none is recorded yet)."""
        await self.import_records([_message_row(part) for part in parts])

    async def settle_message(
        self, key: str, outcome: Outcome, at: datetime | None = None, detail: str | None = None
    ) -> bool:
        """Where the message got to (sent, delivered, undelivered, expired). A final outcome is
        never overwritten by a passing one arriving late (a `sent` after the `delivered`
        report); False when no such message is recorded or it is already final."""
        passing = [code.value for code in Outcome if not code.settled]
        values: dict[str, Any] = {"outcome": outcome}
        if outcome.settled:
            values["ended_at"] = at or utc_now()
        if detail is not None:
            values["outcome_detail"] = detail[:128]
        statement = (
            update(Interaction)
            .where(Interaction.linkedid == key, Interaction.outcome.in_(passing))
            .values(**values)
        )
        return await self.database.write(statement) > 0

    async def import_records(
        self, records: Sequence[Mapping[str, Any]], connection: AsyncConnection | None = None
    ) -> None:
        """Whole past records in one INSERT (demo data, benchmarks, records brought over from
        another contact-centre system); on `connection` inside the caller's transaction."""
        if not records:
            return
        if connection is not None:
            await connection.execute(_INSERT, list(records))
            return
        async with self.database.autocommit() as own:
            await own.execute(_INSERT, list(records))

    # --- reads -----------------------------------------------------------------------------
    async def load(self, linkedid: str) -> Interaction | None:
        """The whole record (`.as_record()` gives what `tamas call` prints)."""
        async with self.database.session() as db:
            return await db.scalar(select(Interaction).where(Interaction.linkedid == linkedid))

    async def ivr_summary(self, linkedid: str) -> dict[str, Any] | None:
        """What the caller did in the IVR before the queue, for the agent's card: identified
        or not, path, lookups. Only the columns the card shows, without building an ORM
        object: this runs as every call starts ringing."""
        statement = select(
            Interaction.customer_id,
            Interaction.language,
            Interaction.menu_path,
            Interaction.inputs,
            Interaction.looked_up,
            Interaction.outcome,
        ).where(Interaction.linkedid == linkedid)
        async with self.database.autocommit() as connection:
            row = (await connection.execute(statement)).first()
        if row is None:
            return None
        return {
            "identified": row.customer_id is not None,
            "identified_by": _identified_by(row.customer_id, row.looked_up),
            "customer_id": row.customer_id,
            "language": row.language,
            "menu_path": list(row.menu_path or []),
            "inputs": list(row.inputs or []),
            "looked_up": list(row.looked_up or []),
            "outcome": row.outcome,
        }

    async def recent_for_customer(
        self,
        customer_id: int,
        limit: int = 10,
        reader: AsyncConnection | AsyncSession | None = None,
    ) -> list[InteractionView]:
        """The customer's latest interactions, newest first; on `reader` when the caller reads
        a whole customer file on one connection."""
        parameters = {"customer_id": customer_id, "limit": limit}
        if reader is not None:
            return [view(row) for row in await reader.execute(RECENT_FOR_CUSTOMER, parameters)]
        async with self.database.autocommit() as connection:
            rows = await connection.execute(RECENT_FOR_CUSTOMER, parameters)
            return [view(row) for row in rows]

    async def for_agent(self, agent: str, limit: int = 20) -> list[InteractionView]:
        """The calls an agent handled, newest first (from (agent, started_at))."""
        statement = (
            select(*VIEW_COLUMNS)
            .where(Interaction.agent == agent)
            .order_by(Interaction.started_at.desc())
            .limit(limit)
        )
        async with self.database.autocommit() as connection:
            return [view(row) for row in await connection.execute(statement)]

    async def calls_between(self, start: datetime, end: datetime) -> list[Any]:
        """Inbound calls that began in [start, end) with the line called, their outcome, menus
        and queue (the supervisors' IVR and lines reports, the self-service rate)."""
        async with self.database.autocommit() as connection:
            rows = await connection.execute(
                select(
                    Interaction.linkedid,
                    Interaction.started_at,
                    Interaction.called_number,
                    Interaction.outcome,
                    Interaction.outcome_detail,
                    Interaction.menu_path,
                    Interaction.queue,
                ).where(
                    Interaction.channel == "call",
                    Interaction.direction == "inbound",
                    Interaction.started_at >= start,
                    Interaction.started_at < end,
                )
            )
            return list(rows)

    async def customers_by_number(self, numbers: Sequence[str]) -> dict[str, int]:
        """The customer last identified on a call from each number (abandoned-caller lists)."""
        found: dict[str, int] = {}
        wanted = sorted({number for number in numbers if number})
        async with self.database.autocommit() as connection:
            for start in range(0, len(wanted), 500):
                rows = await connection.execute(
                    select(Interaction.caller_number, Interaction.customer_id)
                    .where(
                        Interaction.caller_number.in_(wanted[start : start + 500]),
                        Interaction.customer_id.is_not(None),
                    )
                    .order_by(Interaction.started_at)
                )
                found.update({row.caller_number: row.customer_id for row in rows})
        return found


def _identified_by(customer_id: int | None, looked_up: list[dict[str, Any]] | None) -> str | None:
    """How the IVR identified the caller: "pin" (a secret was checked) or "caller_id" (only
    the number matched, which can be spoofed; also said of records older than the field)."""
    if customer_id is None:
        return None
    for item in looked_up or []:
        if item.get("kind") == "customer" and item.get("ref") == str(customer_id):
            return str(item.get("identified_by") or "caller_id")
    return "caller_id"
