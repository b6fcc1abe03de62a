"""The supervisors' event store: every queue event once (Asterisk's queue_log lines, and the
transfers CEL shows through Local channels), one row per queue call derived from them, their
sums per quarter hour and queue, and where each ingestion source stopped reading.

Each event carries an idempotent key (a hash of its queue_log line, plus how many identical
lines came just before it), so ingesting the same events twice stores them once. This module
is the one writer of the tables in `supervisors/tables.py`; `supervisors/ingest.py` feeds it,
`metrics.py` reads what `load_interval` returns, and the reports sum the calls or their
quarter sums in SQL (`supervisors/sums.py`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    case,
    delete,
    func,
    insert,
    literal,
    select,
    union,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.database import Database
from supervisors import metrics, sums
from supervisors.tables import (
    QUARTER_S,
    QUEUE_LOG,
    IngestPosition,
    QueueCallRow,
    QueueEventRow,
    QueueQuarterRow,
)

# The source of the transfers read from Asterisk's CEL (supervisors/ingest.py).
CEL = "cel"


def _key(text: str, repeat: int) -> str:
    digest = hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()
    return digest if repeat == 0 else f"{digest}:{repeat}"


@dataclass(frozen=True)
class QueueEvent:
    """One queue event: a queue_log line `epoch|callid|queue|agent|EVENT|data...`, or an event
    of ours in the same shape (`metrics.LOCAL_TRANSFER`)."""

    at: datetime
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...] = ()
    source: str = QUEUE_LOG
    # Identical lines written one after another get 1, 2...: distinct events, distinct keys.
    repeat: int = 0
    # The store's id (insertion order), which orders events of the same second.
    sequence: int = 0
    key: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", _key(self.line(), self.repeat))

    def line(self) -> str:
        """The event as a queue_log line (what its key hashes)."""
        epoch = int(self.at.timestamp())
        fields = [str(epoch), self.callid, self.queue, self.agent, self.event, *self.data]
        if self.source != QUEUE_LOG:
            fields.insert(0, self.source)
        return "|".join(fields)


class BadLine(ValueError):
    """A queue_log line that is not `epoch|callid|queue|agent|EVENT[|data...]`."""


def parse_queue_log_line(line: str, repeat: int = 0) -> QueueEvent:
    """An event from one queue_log line; its key hashes the line exactly as written."""
    line = line.rstrip("\r\n")
    parts = line.split("|")
    if len(parts) < 5 or not parts[4]:
        raise BadLine(f"queue_log line with {len(parts)} fields: {line[:80]!r}")
    try:
        # Asterisk may be set to write fractional seconds (queue_log with high-resolution time).
        at = datetime.fromtimestamp(float(parts[0]), UTC)
    except (ValueError, OverflowError) as error:
        raise BadLine(f"queue_log line with a bad time {parts[0][:20]!r}") from error
    return QueueEvent(
        at=at,
        callid=parts[1],
        queue=parts[2],
        agent=parts[3],
        event=parts[4],
        data=tuple(parts[5:]),
        repeat=repeat,
        key=_key(line, repeat),
    )


@dataclass(frozen=True)
class Position:
    source: str
    inode: int = 0
    head: str = ""
    offset: int = 0
    last_line: str = ""
    repeat: int = 0


# ---------------------------------------------------------------- the store


def _event(row: Any) -> QueueEvent:
    return QueueEvent(
        at=row.at,
        callid=row.callid,
        queue=row.queue,
        agent=row.agent,
        event=row.event,
        data=tuple(row.data.split("|")) if row.data else (),
        source=row.source,
        sequence=row.id,
        key=row.key,
    )


def _dialect(session: AsyncSession) -> Any:
    return postgresql if session.get_bind().dialect.name == "postgresql" else sqlite


_CHUNK = 500


class EventStore:
    """Every write and read of the supervisors' events, calls and ingestion positions."""

    def __init__(self, database: Database, thresholds: metrics.Thresholds | None = None) -> None:
        self.database = database
        # What the quarter-hour sums count with (the reports' thresholds, from settings).
        self.thresholds = thresholds or metrics.Thresholds()

    async def add(self, events: Sequence[QueueEvent], position: Position | None = None) -> int:
        """Store the events not stored yet, rewrite the calls they touch, and move the
        source's position, in one transaction: a crash leaves all of it or none. Returns how
        many events were new."""
        async with self.database.session() as session:
            added = await self.add_in(session, events)
            if position is not None:
                await self._save_position(session, position)
            await session.commit()
        return added

    async def add_in(self, session: AsyncSession, events: Sequence[QueueEvent]) -> int:
        dialect = _dialect(session)
        added: list[QueueEvent] = []
        for start in range(0, len(events), _CHUNK):
            chunk = events[start : start + _CHUNK]
            rows = [
                {
                    "key": event.key,
                    "at": event.at,
                    "callid": event.callid,
                    "queue": event.queue,
                    "agent": event.agent,
                    "event": event.event,
                    "data": "|".join(event.data),
                    "source": event.source,
                }
                for event in chunk
            ]
            # Parameters apart from the statement: compiled once and cached, whatever the
            # batch's size (values(rows) compiled a new statement per size: 0.5 s a batch).
            result = await session.execute(
                dialect.insert(QueueEventRow)
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(QueueEventRow.key),
                rows,
            )
            new_keys = set(result.scalars())
            added += [event for event in chunk if event.key in new_keys]
        if added:
            await self._rewrite_calls(session, added)
        return len(added)

    async def _rewrite_calls(self, session: AsyncSession, added: Sequence[QueueEvent]) -> None:
        callids = {event.callid for event in added if event.callid not in {"", "NONE"}}
        restarts = [event.at for event in added if event.event == "QUEUESTART"]
        if restarts:
            # Calls still waiting when Asterisk restarted end there (lost).
            waiting = await session.scalars(
                select(QueueCallRow.callid).where(
                    QueueCallRow.completed_at.is_(None),
                    QueueCallRow.outcome.in_([metrics.CallEnd.WAITING, metrics.CallEnd.ANSWERED]),
                    QueueCallRow.entered_at <= max(restarts),
                )
            )
            callids.update(waiting)
        if not callids:
            return
        ordered = sorted(callids)
        events: list[QueueEvent] = []
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            rows = await session.execute(
                select(QueueEventRow).where(QueueEventRow.callid.in_(chunk))
            )
            events += [_event(row) for row in rows.scalars()]
        if events:
            first = min(event.at for event in events)
            rows = await session.execute(
                select(QueueEventRow).where(
                    QueueEventRow.event == "QUEUESTART", QueueEventRow.at >= first
                )
            )
            events += [_event(row) for row in rows.scalars()]
        calls = metrics.queue_calls(events)
        before: list[metrics.QueueCall] = []
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            stored = await session.scalars(
                select(QueueCallRow).where(QueueCallRow.callid.in_(chunk))
            )
            before += [stored_call(row) for row in stored]
            await session.execute(delete(QueueCallRow).where(QueueCallRow.callid.in_(chunk)))
        values = [call_row(call) for call in calls]
        for start in range(0, len(values), _CHUNK):
            await session.execute(insert(QueueCallRow), values[start : start + _CHUNK])
        await self._count_in_quarters(session, before, calls)

    async def _count_in_quarters(
        self,
        session: AsyncSession,
        before: Sequence[metrics.QueueCall],
        after: Sequence[metrics.QueueCall],
    ) -> None:
        """Move the quarter sums by what the rewritten calls changed: their totals now, less
        their totals before."""
        changes: dict[tuple[str, int], metrics.QueueTotals] = {}
        for call, sign in [*((call, -1) for call in before), *((call, 1) for call in after)]:
            totals = metrics.call_totals(call, self.thresholds)
            if sign < 0:
                totals = metrics.QueueTotals(
                    **{name: -getattr(totals, name) for name in sums.COLUMNS}
                )
            where = (call.queue, int(call.entered_at.timestamp()) // QUARTER_S)
            changes[where] = changes.get(where, metrics.QueueTotals()).add(totals)
        rows = [
            {
                "queue": queue,
                "quarter": quarter,
                "thresholds": self.thresholds.key(),
                "longest_wait_s": totals.longest_wait_s,
                **{name: getattr(totals, name) for name in sums.COLUMNS},
            }
            for (queue, quarter), totals in sorted(changes.items())
        ]
        dialect = _dialect(session)
        greatest = func.greatest if dialect is postgresql else func.max
        q = QueueQuarterRow
        statement = dialect.insert(q)
        new = statement.excluded
        merged = {name: getattr(q, name) + getattr(new, name) for name in sums.COLUMNS}
        merged["longest_wait_s"] = greatest(q.longest_wait_s, new.longest_wait_s)
        # Counted with other thresholds before: the row no longer says which; reports sum
        # the calls until a rebuild.
        merged["thresholds"] = case((q.thresholds == new.thresholds, new.thresholds), else_="")
        upsert = statement.on_conflict_do_update(index_elements=["queue", "quarter"], set_=merged)
        for start in range(0, len(rows), _CHUNK):
            await session.execute(upsert, rows[start : start + _CHUNK])

    async def rebuild_quarters(self) -> int:
        """Count every quarter's sums again from the calls, with this store's thresholds
        (after the thresholds changed). Returns how many quarter rows there are."""
        whole = sums.calls_sums(
            datetime(1970, 1, 1, tzinfo=UTC),
            datetime(9999, 1, 1, tzinfo=UTC),
            self.thresholds,
            sums.CALL_QUARTER,
        ).add_columns(literal(self.thresholds.key()).label("thresholds"))
        names = ["quarter", "queue", *sums.COLUMNS, "longest_wait_s", "thresholds"]
        async with self.database.session() as session:
            await session.execute(delete(QueueQuarterRow))
            await session.execute(insert(QueueQuarterRow).from_select(names, whole))
            await session.commit()
            found = await session.scalar(select(func.count()).select_from(QueueQuarterRow))
        return int(found or 0)

    async def load_interval(self, start: datetime, end: datetime) -> list[QueueEvent]:
        """The events `metrics` needs for [start, end): every event of the calls that entered
        a queue in it (their ends may come later), every event within it (members, pauses),
        and Asterisk's restarts since `start`."""
        entered = select(QueueEventRow.callid).where(
            QueueEventRow.event == "ENTERQUEUE",
            QueueEventRow.at >= start,
            QueueEventRow.at < end,
        )
        ids = union(
            select(QueueEventRow.id).where(QueueEventRow.callid.in_(entered)),
            select(QueueEventRow.id).where(QueueEventRow.at >= start, QueueEventRow.at < end),
            select(QueueEventRow.id).where(
                QueueEventRow.event == "QUEUESTART", QueueEventRow.at >= start
            ),
        ).subquery()
        async with self.database.autocommit() as connection:
            rows = await connection.execute(
                select(QueueEventRow)
                .where(QueueEventRow.id.in_(select(ids.c.id)))
                .order_by(QueueEventRow.at, QueueEventRow.id)
            )
            return [_event(row) for row in rows]

    async def load_call(self, callid: str) -> list[QueueEvent]:
        """Every stored event of one queue call, in order."""
        async with self.database.autocommit() as connection:
            rows = await connection.execute(
                select(QueueEventRow)
                .where(QueueEventRow.callid == callid)
                .order_by(QueueEventRow.at, QueueEventRow.id)
            )
            return [_event(row) for row in rows]

    async def agents_seen(self, since: datetime) -> set[str]:
        """Member names that answered, rang, logged in or paused since `since`."""
        async with self.database.autocommit() as connection:
            rows = await connection.scalars(
                select(QueueEventRow.agent)
                .where(
                    QueueEventRow.event.in_(sorted(_MEMBER_EVENTS)),
                    QueueEventRow.at >= since,
                    QueueEventRow.agent != "NONE",
                )
                .distinct()
            )
            return set(rows)

    async def calls_between(self, start: datetime, end: datetime) -> list[QueueCallRow]:
        async with self.database.session() as session:
            rows = await session.scalars(
                select(QueueCallRow)
                .where(QueueCallRow.entered_at >= start, QueueCallRow.entered_at < end)
                .order_by(QueueCallRow.entered_at, QueueCallRow.id)
            )
            return list(rows)

    async def count(self) -> int:
        """How many events are stored."""
        async with self.database.autocommit() as connection:
            found = await connection.scalar(select(func.count()).select_from(QueueEventRow))
        return int(found or 0)

    # --- positions -------------------------------------------------------------------------
    async def position(self, source: str) -> Position:
        async with self.database.autocommit() as connection:
            row = (
                await connection.execute(
                    select(IngestPosition).where(IngestPosition.source == source)
                )
            ).first()
        if row is None:
            return Position(source=source)
        return Position(
            source=source,
            inode=row.inode,
            head=row.head,
            offset=row.offset,
            last_line=row.last_line,
            repeat=row.repeat,
        )

    async def save_position(self, position: Position) -> None:
        async with self.database.session() as session:
            await self._save_position(session, position)
            await session.commit()

    async def _save_position(self, session: AsyncSession, position: Position) -> None:
        values = {
            "inode": position.inode,
            "head": position.head,
            "offset": position.offset,
            "last_line": position.last_line,
            "repeat": position.repeat,
            "updated_at": datetime.now(UTC),
        }
        changed = await session.execute(
            update(IngestPosition).where(IngestPosition.source == position.source).values(values)
        )
        if not getattr(changed, "rowcount", 0):
            await session.execute(insert(IngestPosition).values(source=position.source, **values))


def stored_call(row: QueueCallRow) -> metrics.QueueCall:
    """A call as stored (what the quarter sums counted it as)."""
    return metrics.QueueCall(
        callid=row.callid,
        queue=row.queue,
        entered_at=row.entered_at,
        caller_number=row.caller_number,
        end=metrics.CallEnd(row.outcome),
        ended_at=row.ended_at,
        completed_at=row.completed_at,
        wait_s=row.wait_s,
        talk_s=row.talk_s,
        agent=row.agent,
        transfer=row.transfer,
    )


def call_row(call: metrics.QueueCall) -> dict[str, Any]:
    """A call as its `supervisor_queue_calls` row."""
    return {
        "callid": call.callid,
        "queue": call.queue,
        "entered_at": call.entered_at,
        "quarter": int(call.entered_at.timestamp()) // QUARTER_S,
        "caller_number": call.caller_number[:64],
        "outcome": call.end.value,
        "ended_at": call.ended_at,
        "completed_at": call.completed_at,
        "wait_s": call.wait_s,
        "talk_s": call.talk_s,
        "agent": call.agent[:128],
        "transfer": call.transfer,
    }


_MEMBER_EVENTS = frozenset({"CONNECT", "RINGNOANSWER", "ADDMEMBER", "PAUSE", "UNPAUSE"})


def known_agents(events: Iterable[QueueEvent]) -> set[str]:
    """Member names seen in the events (who answered, was rung, logged in or paused)."""
    return {
        event.agent
        for event in events
        if event.agent and event.agent != "NONE" and event.event in _MEMBER_EVENTS
    }
