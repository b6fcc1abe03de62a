"""The SQL that sums queue calls into `metrics.QueueTotals`, per bucket and queue: over the
calls themselves (`calls_sums`, any interval) or over their quarter-hour sums (`quarters_sums`,
kept at ingestion). Each column is the sum `metrics.call_totals` makes in Python, so both
give the totals the wallboard computes from the events. Statements only: no I/O but
`quarters_fit`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from supervisors.metrics import CallEnd, QueueTotals, Thresholds
from supervisors.tables import QUARTER_S, QueueCallRow, QueueQuarterRow

# What a bucket is computed from: a call's moment, or a quarter row's number.
CALL_QUARTER: ColumnElement[Any] = QueueCallRow.__table__.c.quarter
QUARTER: ColumnElement[Any] = QueueQuarterRow.__table__.c.quarter
QUARTER_MOMENT: ColumnElement[Any] = func.to_timestamp(QUARTER * QUARTER_S)
# The additive columns, in QueueTotals' order (wrap-up is applied when figures are made).
COLUMNS = (
    "offered", "answered", "answered_within_sl", "abandoned", "short_abandoned",
    "exit_timeout", "exit_key", "exit_empty", "lost", "waiting", "transfers_blind",
    "transfers_attended", "wait_answered_s", "wait_abandoned_s", "talk_s",
)  # fmt: skip


def _service_level_case(thresholds: Thresholds) -> ColumnElement[Any]:
    if not thresholds.per_queue_service_level_s:
        return literal(thresholds.service_level_s)
    return case(
        *(
            (QueueCallRow.queue == queue, seconds)
            for queue, seconds in sorted(thresholds.per_queue_service_level_s.items())
        ),
        else_=thresholds.service_level_s,
    )


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


def _sum(condition: ColumnElement[bool], value: Any) -> ColumnElement[Any]:
    return func.sum(case((condition, value), else_=0.0))


def calls_sums(
    start: datetime, end: datetime, thresholds: Thresholds, bucket: ColumnElement[Any]
) -> Any:
    """Per (bucket, queue): the sums of the calls that entered in [start, end)."""
    c = QueueCallRow
    answered = c.outcome == CallEnd.ANSWERED.value
    abandoned = c.outcome == CallEnd.ABANDONED.value
    short = thresholds.short_abandon_s
    first = int(start.timestamp()) // QUARTER_S
    last = int(end.timestamp()) // QUARTER_S
    return (
        select(
            bucket.label("bucket"),
            c.queue,
            func.count().label("offered"),
            _count(answered).label("answered"),
            _count(answered & (c.wait_s <= _service_level_case(thresholds))).label(
                "answered_within_sl"
            ),
            _count(abandoned & (c.wait_s >= short)).label("abandoned"),
            _count(abandoned & (c.wait_s < short)).label("short_abandoned"),
            _count(c.outcome == CallEnd.TIMEOUT.value).label("exit_timeout"),
            _count(c.outcome == CallEnd.KEY.value).label("exit_key"),
            _count(c.outcome == CallEnd.EMPTY.value).label("exit_empty"),
            _count(c.outcome == CallEnd.LOST.value).label("lost"),
            _count(c.outcome == CallEnd.WAITING.value).label("waiting"),
            _count(answered & (c.transfer == "blind")).label("transfers_blind"),
            _count(answered & (c.transfer == "attended")).label("transfers_attended"),
            _sum(answered, c.wait_s).label("wait_answered_s"),
            _sum(abandoned & (c.wait_s >= short), c.wait_s).label("wait_abandoned_s"),
            _sum(answered, c.talk_s).label("talk_s"),
            func.max(case((c.outcome != CallEnd.WAITING.value, c.wait_s), else_=0.0)).label(
                "longest_wait_s"
            ),
        )
        .where(
            c.quarter >= first,
            c.quarter <= last,
            c.entered_at >= start,
            c.entered_at < end,
        )
        .group_by(bucket, c.queue)
    )


def quarters_sums(start: datetime, end: datetime, bucket: ColumnElement[Any]) -> Any:
    """Per (bucket, queue): the sums of the quarter rows of [start, end) (whole quarters)."""
    q = QueueQuarterRow
    return (
        select(
            bucket.label("bucket"),
            q.queue,
            *(func.sum(getattr(q, name)).label(name) for name in COLUMNS),
            func.max(q.longest_wait_s).label("longest_wait_s"),
        )
        .where(
            q.quarter >= int(start.timestamp()) // QUARTER_S,
            q.quarter < int(end.timestamp()) // QUARTER_S,
        )
        .group_by(bucket, q.queue)
    )


async def quarters_fit(
    connection: AsyncConnection, start: datetime, end: datetime, thresholds: Thresholds
) -> bool:
    """Whether the quarter sums can give [start, end): it is made of whole quarters and
    every quarter row in it was counted with these thresholds."""
    if int(start.timestamp()) % QUARTER_S or int(end.timestamp()) % QUARTER_S:
        return False
    if start.timestamp() % 1 or end.timestamp() % 1:
        return False
    q = QueueQuarterRow
    other = await connection.scalar(
        select(q.quarter)
        .where(
            q.quarter >= int(start.timestamp()) // QUARTER_S,
            q.quarter < int(end.timestamp()) // QUARTER_S,
            q.thresholds != thresholds.key(),
        )
        .limit(1)
    )
    return other is None


def fixed_offset_s(zone: ZoneInfo, start: datetime, end: datetime) -> int | None:
    """The zone's UTC offset in seconds if it stays the same over [start, end) (Iran has
    kept +03:30 all year since 2022), else None. Looked at weekly: offsets change at most
    twice a year, and never for less than a week."""
    offsets = set()
    moment = start
    while moment < end + timedelta(days=7):
        offset = min(moment, end).astimezone(zone).utcoffset()
        offsets.add(int(offset.total_seconds()) if offset is not None else 0)
        moment += timedelta(days=7)
    return offsets.pop() if len(offsets) == 1 else None


def bucket(
    dialect: str,
    grain: str,
    zone: ZoneInfo,
    moment: ColumnElement[Any],
    quarter: ColumnElement[Any],
    start: datetime,
    end: datetime,
) -> tuple[ColumnElement[Any], str]:
    """What the SQL groups by, and its kind: nothing (grain "all"); the local hour or day
    as whole numbers from the quarter when the zone's offset is fixed over the interval
    (cheap integer arithmetic on every database); PostgreSQL's local hour or day otherwise
    (weeks and months, Jalali ones too, are unions of days); or the quarter hour."""
    if grain == "all":
        return literal(0), "all"
    offset = fixed_offset_s(zone, start, end)
    if offset is not None:
        size = 3600 if grain == "hour" else 86400
        return (quarter * QUARTER_S + offset) // size, f"fixed:{offset}:{size}"
    if dialect == "postgresql":
        return func.date_trunc(grain, func.timezone(zone.key, moment)), "local"
    return quarter, "quarter"


def bucket_start(value: Any, kind: str, zone: ZoneInfo, start: datetime) -> datetime:
    if kind == "all":
        return start
    if kind == "quarter":
        return datetime.fromtimestamp(int(value) * QUARTER_S, UTC)
    if kind.startswith("fixed:"):
        _, offset, size = kind.split(":")
        return datetime.fromtimestamp(int(value) * int(size) - int(offset), UTC)
    # A local wall time: the first of two equal ones when clocks go back.
    result: datetime = value.replace(tzinfo=zone)
    return result


def totals_of(row: Any, thresholds: Thresholds) -> QueueTotals:
    """A sums row as totals; wrap-up is the queue's per answered call."""
    answered = int(row.answered or 0)
    return QueueTotals(
        offered=int(row.offered or 0),
        answered=answered,
        answered_within_sl=int(row.answered_within_sl or 0),
        abandoned=int(row.abandoned or 0),
        short_abandoned=int(row.short_abandoned or 0),
        exit_timeout=int(row.exit_timeout or 0),
        exit_key=int(row.exit_key or 0),
        exit_empty=int(row.exit_empty or 0),
        lost=int(row.lost or 0),
        waiting=int(row.waiting or 0),
        transfers_blind=int(row.transfers_blind or 0),
        transfers_attended=int(row.transfers_attended or 0),
        wait_answered_s=float(row.wait_answered_s or 0.0),
        wait_abandoned_s=float(row.wait_abandoned_s or 0.0),
        talk_s=float(row.talk_s or 0.0),
        wrap_up_s=float(answered * thresholds.wrap_up_for(row.queue)),
        longest_wait_s=float(row.longest_wait_s or 0.0),
    )
