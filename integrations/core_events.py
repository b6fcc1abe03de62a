"""The core insurance system's events read from its own database: many core systems cannot
call a webhook but can write a row per event into a table (an "outbox" on their side). Tamas
reads rows after the last id it handled, in order, and hands each to the Notifier.

The table (name in `core_events_table`) has: `id` (an increasing integer), `event_id` (the
core system's id for the event, the idempotency key), `type`, `occurred_at` (ISO 8601 with its
offset) and `payload` (JSON text: {"customer": {...}, "to": {...}, "data": {...}}). The
position is stored after each event, and events are sent once by their id, so a poller killed
at any moment neither skips nor repeats a notice. A row that cannot be used is kept as a
skipped notice (`bad_event`) with the reason in the log, and the poller moves on."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from integrations.database import make_engine
from messaging.core_events import BadEvent, read_event
from messaging.notice_store import NoticeStore
from messaging.notifier import Notifier

log = logging.getLogger(__name__)

_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$")


class CoreDatabaseUnavailable(RuntimeError):
    """The core database could not be read; nothing was skipped, try again later."""


@dataclass
class PollReport:
    read: int = 0
    sent: int = 0
    duplicates: int = 0
    skipped: int = 0
    bad: list[str] = field(default_factory=list)  # "row 17: data.amount: ..."
    position: int = 0


class CoreEventTable:
    def __init__(self, url: str, table: str) -> None:
        if not _TABLE_NAME.match(table):
            raise ValueError(f"core_events_table: {table!r} is not a table name")
        self.engine = make_engine(url, pool_size=1) if "sqlite" not in url else make_engine(url)
        # The name is checked above; it cannot be a bound parameter.
        self.query = text(
            f"SELECT id, event_id, type, occurred_at, payload FROM {table} "
            "WHERE id > :after ORDER BY id LIMIT :limit"
        )

    async def after(self, position: int, limit: int = 200) -> list[Any]:
        try:
            async with self.engine.connect() as connection:
                return list(
                    await connection.execute(self.query, {"after": position, "limit": limit})
                )
        except (SQLAlchemyError, OSError) as error:
            raise CoreDatabaseUnavailable(str(error)) from error

    async def close(self) -> None:
        await self.engine.dispose()


def event_of_row(row: Any) -> dict[str, Any]:
    try:
        payload = json.loads(row.payload) if isinstance(row.payload, str) else row.payload
    except ValueError:
        raise BadEvent("payload: not JSON") from None
    if not isinstance(payload, dict):
        raise BadEvent("payload: must be a JSON object")
    occurred = row.occurred_at
    if isinstance(occurred, datetime):
        occurred = (occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC)).isoformat()
    return {**payload, "id": row.event_id, "type": row.type, "occurred_at": occurred}


class CorePoller:
    def __init__(self, table: CoreEventTable, notifier: Notifier, source: str = "core") -> None:
        self.table = table
        self.notifier = notifier
        self.store = NoticeStore(notifier.database)
        self.source = source

    async def poll_once(self, now: datetime | None = None, limit: int = 200) -> PollReport:
        """Handle the events after the stored position (at most `limit`)."""
        report = PollReport(position=await self.store.position(self.source))
        for row in await self.table.after(report.position, limit):
            report.read += 1
            moment = now or datetime.now(UTC)
            try:
                result = await self.notifier.on_event(read_event(event_of_row(row)), moment)
            except BadEvent as error:
                report.bad.append(f"row {row.id}: {error}")
                log.warning("core events: row %s of %s skipped: %s", row.id, self.source, error)
                notice = await self.store.accept(f"core:{row.event_id}", "bad_event", None, moment)
                if notice is not None:
                    await self.store.settle(notice.id, "skipped", reason="bad_event")
            else:
                if result.status == "queued":
                    report.sent += 1
                elif result.status == "duplicate":
                    report.duplicates += 1
                else:
                    report.skipped += 1
            await self.store.advance(self.source, int(row.id), moment)
            report.position = int(row.id)
        return report
