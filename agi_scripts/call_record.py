"""The interaction record of a call as a FastAGI route writes it: opened when the route starts,
completed (end time, duration, outcome) in a `finally`, so a caller who hangs up mid-menu still
leaves a whole record. Keyed by Asterisk's linkedid, so several AGI sessions of one call (menu,
then queue, then survey) land on one row.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import UTC, datetime
from typing import Any

import phonenumbers
from sqlalchemy import select

from agi_scripts.channel import AgiChannel
from interactions.table import Interaction
from integrations.database import Database

log = logging.getLogger(__name__)


def normalize_number(raw: str | None, default_region: str) -> str | None:
    """Caller ID to E.164 (`09121234567`, region IR → `+989121234567`); anything that is not
    a possible number (`anonymous`, an extension) is kept as given."""
    if not raw:
        return None
    return _normalized(raw, default_region)


# Parsing a number costs about as much as the rest of a call's set-up, and callers call again.
@functools.lru_cache(maxsize=8192)
def _normalized(raw: str, default_region: str) -> str:
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        return raw
    if not phonenumbers.is_possible_number(parsed):
        return raw
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _now() -> datetime:
    return datetime.now(UTC)


class CallRecord:
    """One call's Interaction row, kept in memory and written at begin and finish."""

    def __init__(self, database: Database, linkedid: str) -> None:
        self.database = database
        self.linkedid = linkedid
        self.started_at = _now()
        self.caller_number: str | None = None
        self.called_number: str | None = None
        self.inputs: list[dict[str, Any]] = []
        self.menu_path: list[dict[str, Any]] = []
        self.finished = False

    @classmethod
    async def begin(
        cls, database: Database, channel: AgiChannel, default_region: str, menu: str
    ) -> CallRecord:
        record = cls(database, await channel.linkedid())
        record.caller_number = normalize_number(channel.caller_number, default_region)
        record.called_number = channel.headers.get("agi_dnid") or channel.headers.get(
            "agi_extension"
        )
        if record.called_number == "unknown":
            record.called_number = channel.headers.get("agi_extension")
        record.enter(menu)
        async with database.session() as session:
            row = await session.scalar(
                select(Interaction).where(Interaction.linkedid == record.linkedid)
            )
            if row is None:
                row = Interaction(
                    linkedid=record.linkedid,
                    channel="call",
                    direction="inbound",
                    caller_number=record.caller_number,
                    called_number=record.called_number,
                    started_at=record.started_at,
                    menu_path=list(record.menu_path),
                    inputs=[],
                    transcript=[],
                    looked_up=[],
                )
                session.add(row)
            else:  # a later AGI session of the same call: continue its record
                record.started_at = row.started_at
                record.inputs = list(row.inputs or [])
                record.menu_path = [*(row.menu_path or []), *record.menu_path]
            await session.commit()
        return record

    def enter(self, menu: str) -> None:
        self.menu_path.append({"menu": menu, "at": _now().isoformat()})

    def add_input(self, field: str, digits: str, **details: Any) -> None:
        self.inputs.append({"field": field, "value": digits, "at": _now().isoformat(), **details})

    async def finish(self, outcome: str, detail: str | None = None) -> None:
        """Write the end of the call. Shielded: a cancelled route still completes its row."""
        if self.finished:
            return
        self.finished = True
        await asyncio.shield(self._write_end(outcome, detail))

    async def _write_end(self, outcome: str, detail: str | None) -> None:
        ended_at = _now()
        async with self.database.session() as session:
            row = await session.scalar(
                select(Interaction).where(Interaction.linkedid == self.linkedid)
            )
            if row is None:
                log.error("interaction %s vanished before the call ended", self.linkedid)
                return
            started = row.started_at
            if started.tzinfo is None:  # SQLite hands back naive datetimes
                started = started.replace(tzinfo=UTC)
            row.ended_at = ended_at
            row.duration_s = round((ended_at - started).total_seconds(), 3)
            row.outcome = outcome
            row.outcome_detail = detail
            row.inputs = list(self.inputs)
            row.menu_path = list(self.menu_path)
            await session.commit()
