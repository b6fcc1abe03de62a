"""A campaign's results for a spreadsheet: every target, the fields its message said, and each
attempt's moment and outcome, as CSV (UTF-8 with a byte-order mark, which Excel on Persian
Windows needs to read it as UTF-8 rather than Windows-1256) or XLSX (openpyxl's write-only
mode, row by row). Moments are given on Tehran's clock, where the operators are."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func, select

from dialer.campaigns import Campaign
from dialer.selection import BOOKS_ZONE
from dialer.tables import AttemptRow, SmsFallbackRow, TargetRow
from integrations.database import Database

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Targets read per query: a 100,000-target campaign is a hundred reads, never all at once.
CHUNK = 1000
BOM = "\ufeff"
TARGET_COLUMNS = ("phone", "name", "language", "customer_id", "state", "attempts", "last_outcome")


@dataclass(frozen=True)
class Export:
    """The header and the rows, read chunk by chunk when iterated."""

    header: list[str]
    rows: AsyncIterator[list[Any]]


def _moment(value: datetime | None) -> str:
    return value.astimezone(BOOKS_ZONE).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _fallback(row: SmsFallbackRow | None) -> str:
    if row is None:
        return ""
    if row.refusal:
        return f"refused: {row.refusal}"
    return "queued" if row.message_id is not None else "written"


async def results(database: Database, campaign: Campaign) -> Export:
    """The campaign's targets with their attempts, in target order."""
    async with database.session() as session:
        keys: set[str] = set()
        for fields in await session.scalars(
            select(TargetRow.fields).where(TargetRow.campaign_id == campaign.id)
        ):
            keys.update(fields or {})
        most = await session.scalar(
            select(func.max(TargetRow.attempts)).where(TargetRow.campaign_id == campaign.id)
        )
    field_names = sorted(keys)
    attempts_shown = max(int(most or 0), 1)
    header = [*TARGET_COLUMNS, *field_names]
    for n in range(1, attempts_shown + 1):
        header += [f"attempt_{n}_at", f"attempt_{n}_outcome"]
    header.append("sms_fallback")

    async def rows() -> AsyncIterator[list[Any]]:
        after = 0
        while True:
            async with database.session() as session:
                targets = (
                    await session.scalars(
                        select(TargetRow)
                        .where(TargetRow.campaign_id == campaign.id, TargetRow.id > after)
                        .order_by(TargetRow.id)
                        .limit(CHUNK)
                    )
                ).all()
                if not targets:
                    return
                ids = [target.id for target in targets]
                attempts: dict[int, list[AttemptRow]] = {}
                for attempt in await session.scalars(
                    select(AttemptRow)
                    .where(AttemptRow.campaign_id == campaign.id, AttemptRow.target_id.in_(ids))
                    .order_by(AttemptRow.target_id, AttemptRow.created_at, AttemptRow.id)
                ):
                    attempts.setdefault(attempt.target_id, []).append(attempt)
                fallbacks = {
                    row.target_id: row
                    for row in await session.scalars(
                        select(SmsFallbackRow).where(SmsFallbackRow.target_id.in_(ids))
                    )
                }
            for target in targets:
                row: list[Any] = [
                    target.phone,
                    target.name or "",
                    target.language or "",
                    target.customer_id if target.customer_id is not None else "",
                    target.state,
                    target.attempts,
                    target.last_outcome or "",
                ]
                row += [(target.fields or {}).get(name, "") for name in field_names]
                made = attempts.get(target.id, [])
                for n in range(attempts_shown):
                    tried = made[n] if n < len(made) else None
                    if tried is None:
                        row += ["", ""]
                    else:
                        shown = tried.outcome or ("in_flight" if tried.ended_at is None else "")
                        row += [_moment(tried.created_at), shown]
                row.append(_fallback(fallbacks.get(target.id)))
                yield row
            after = targets[-1].id

    return Export(header, rows())


def as_csv(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def as_xlsx(header: list[str], rows: list[list[Any]], title: str) -> bytes:
    book = Workbook(write_only=True)
    # Excel's sheet names: at most 31 characters, none of []:*?/\
    sheet = book.create_sheet(title="".join(c for c in title if c not in "[]:*?/\\")[:31] or "x")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def export_campaign(database: Database, campaign: Campaign, format: str) -> bytes:
    """The campaign's results in `format` (csv or xlsx)."""
    if format not in FORMATS:
        raise ValueError(f"export format {format!r} is not one of {', '.join(FORMATS)}")
    export = await results(database, campaign)
    rows = [row async for row in export.rows]
    # Written in a worker thread: a 100,000-row workbook takes seconds of CPU that the
    # event loop, serving agents' desktops in the same process, must not wait for.
    if format == "csv":
        return await asyncio.to_thread(as_csv, export.header, rows)
    return await asyncio.to_thread(as_xlsx, export.header, rows, campaign.name)
