"""`ShareholderRecords`: the insurer's shareholders on Tamas's own tables — a holder's file and
dividends, their PIN, and the next general meeting — part of the insurer's core records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BindParameter, Integer, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from customer_file.identifiers import ascii_digits, compact_digits
from customer_file.views import GeneralMeetingView, ShareholderView, from_record
from integrations.customer_file import pins
from integrations.customer_file.rows import (
    DIVIDEND_COLUMNS,
    SHAREHOLDER_COLUMNS,
    shareholder_view,
    utc,
)
from integrations.customer_file.shareholders import Dividend, GeneralMeeting, Shareholder
from integrations.customer_file.stores import Store

# A holder and their dividends in one statement: one row per dividend (or one with no
# dividend columns for a holder who has none yet).
_HOLDER_WITH_DIVIDENDS = (
    select(*SHAREHOLDER_COLUMNS, *DIVIDEND_COLUMNS)
    .outerjoin(Dividend, Dividend.shareholder_id == Shareholder.id)
    .order_by(Shareholder.id, Dividend.fiscal_year)
)
_CUSTOMER_ID: BindParameter[int] = bindparam("customer_id", type_=Integer)
_FILE_SHAREHOLDER = _HOLDER_WITH_DIVIDENDS.where(Shareholder.customer_id == _CUSTOMER_ID)
_SHAREHOLDER_BY_NUMBER = _HOLDER_WITH_DIVIDENDS.where(
    Shareholder.shareholder_number == bindparam("number")
)


def _shareholder(rows: Sequence[Any]) -> ShareholderView | None:
    """The first holder in rows of _HOLDER_WITH_DIVIDENDS, with their dividends."""
    if not rows:
        return None
    holder = rows[0]
    dividends = [row for row in rows if row.id == holder.id and row.fiscal_year is not None]
    return shareholder_view(holder, dividends)


class ShareholderRecords(Store):
    """Shareholders, their dividends, and general meetings."""

    async def of_customer(
        self, customer_id: int, connection: AsyncConnection
    ) -> ShareholderView | None:
        """The customer's holding, if they hold shares, for the agent's popup file: one indexed
        read on the file's connection."""
        rows = (await connection.execute(_FILE_SHAREHOLDER, {"customer_id": customer_id})).all()
        return _shareholder(rows)

    async def shareholder(self, shareholder_number: str) -> ShareholderView | None:
        number = compact_digits(shareholder_number)
        async with self._reading() as connection:
            rows = (await connection.execute(_SHAREHOLDER_BY_NUMBER, {"number": number})).all()
        return _shareholder(rows)

    async def verify_shareholder_pin(self, shareholder_number: str, pin: str) -> bool:
        async with self._reading() as connection:
            stored = await connection.scalar(
                select(Shareholder.pin_hash).where(
                    Shareholder.shareholder_number == compact_digits(shareholder_number)
                )
            )
        return await asyncio.to_thread(pins.verify_pin, ascii_digits(pin), stored)

    async def next_general_meeting(
        self, after: datetime | None = None
    ) -> GeneralMeetingView | None:
        moment = utc(after) if after is not None else datetime.now(UTC)
        statement = (
            select(GeneralMeeting.__table__)
            .where(GeneralMeeting.held_at > moment)
            .order_by(GeneralMeeting.held_at)
            .limit(1)
        )
        async with self._reading() as connection:
            meeting = (await connection.execute(statement)).first()
        if meeting is None:
            return None
        return from_record(GeneralMeetingView, meeting, agenda=tuple(meeting.agenda or ()))
