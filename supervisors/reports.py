"""Reports per queue, agent and period (hour, day, week, month; Jalali weeks and months in
Persian), IVR calls per menu and outcome, the abandoned callers, and their CSV/XLSX export.

Queue figures come from SQL sums over `supervisor_queue_calls` per (quarter hour, queue), the
rows `metrics.queue_calls` derived at ingestion, rolled up into the periods in the report's
time zone and turned into figures by `metrics.figures`: the same totals, the same formulas as
the wallboard's figures computed from the events, so they agree exactly.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import jdatetime
from sqlalchemy import select

from customer_file.port import CustomerFile, CustomerFileError
from integrations.database import Database
from interactions.outcomes import Outcome
from interactions.records import InteractionRecords
from supervisors import metrics, sums
from supervisors.events import EventStore
from supervisors.metrics import CallEnd, QueueFigures, QueueTotals, Thresholds
from supervisors.tables import QueueCallRow

log = logging.getLogger(__name__)


class Period(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    ALL = "all"


@dataclass(frozen=True)
class Calendar:
    """How periods are cut and named: the zone, and Jalali (Persian) or Gregorian."""

    zone: ZoneInfo
    jalali: bool = False

    @classmethod
    def for_language(cls, time_zone: str, language: str) -> Calendar:
        return cls(zone=ZoneInfo(time_zone), jalali=language == "fa")

    def period_start(self, moment: datetime, period: Period) -> datetime:
        """The local start of the period `moment` falls in (aware, in the report's zone)."""
        local = moment.astimezone(self.zone)
        if period is Period.HOUR:
            return local.replace(minute=0, second=0, microsecond=0)
        day = local.date()
        if period is Period.WEEK:
            # The Persian week starts on Saturday, the ISO week on Monday.
            first_weekday = 5 if self.jalali else 0
            day -= timedelta(days=(day.weekday() - first_weekday) % 7)
        elif period is Period.MONTH:
            if self.jalali:
                day = jdatetime.date.fromgregorian(date=day).replace(day=1).togregorian()
            else:
                day = day.replace(day=1)
        return datetime(day.year, day.month, day.day, tzinfo=self.zone)

    def label(self, start: datetime, period: Period) -> str:
        local = start.astimezone(self.zone)
        if self.jalali:
            shown = jdatetime.datetime.fromgregorian(datetime=local.replace(tzinfo=None))
            day = f"{shown.year:04d}-{shown.month:02d}-{shown.day:02d}"
            month = f"{shown.year:04d}-{shown.month:02d}"
        else:
            day = local.strftime("%Y-%m-%d")
            month = local.strftime("%Y-%m")
        if period is Period.HOUR:
            return f"{day} {local:%H}:00"
        if period is Period.MONTH:
            return month
        return day


@dataclass(frozen=True)
class QueueRow:
    """One queue (or "*": all) over one period."""

    period: str
    period_start: datetime
    figures: QueueFigures

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "period_start": self.period_start.isoformat(),
            **self.figures.as_dict(),
        }


async def queue_totals(
    database: Database,
    start: datetime,
    end: datetime,
    thresholds: Thresholds,
    period: Period,
    zone: ZoneInfo,
) -> list[tuple[datetime, str, QueueTotals]]:
    """(bucket start, queue, totals) for the calls that entered in [start, end): buckets
    fine enough to be summed into `period` in `zone`. From the quarter-hour sums when the
    interval is made of whole quarters and they were counted with these thresholds, else from
    the calls themselves: the same totals either way."""
    async with database.autocommit() as connection:
        dialect = connection.dialect.name
        grain = {Period.ALL: "all", Period.HOUR: "hour"}.get(period, "day")
        if await sums.quarters_fit(connection, start, end, thresholds):
            bucket, kind = sums.bucket(
                dialect, grain, zone, sums.QUARTER_MOMENT, sums.QUARTER, start, end
            )
            query = sums.quarters_sums(start, end, bucket)
        else:
            moment = QueueCallRow.__table__.c.entered_at
            bucket, kind = sums.bucket(dialect, grain, zone, moment, sums.CALL_QUARTER, start, end)
            query = sums.calls_sums(start, end, thresholds, bucket)
        rows = await connection.execute(query)
        return [
            (
                sums.bucket_start(row.bucket, kind, zone, start),
                row.queue,
                sums.totals_of(row, thresholds),
            )
            for row in rows
        ]


def roll_up(
    quarters: Iterable[tuple[datetime, str, QueueTotals]],
    period: Period,
    calendar: Calendar,
    thresholds: Thresholds,
) -> list[QueueRow]:
    """Totals of hours, days or quarter hours summed into the periods, each period's figures
    per queue and for all queues ("*")."""
    buckets: dict[datetime, dict[str, QueueTotals]] = defaultdict(dict)
    for quarter, queue, totals in quarters:
        # For the whole period every bucket starts where the interval does.
        start = quarter if period is Period.ALL else calendar.period_start(quarter, period)
        found = buckets[start].get(queue)
        buckets[start][queue] = totals if found is None else found.add(totals)
    rows = []
    for start in sorted(buckets):
        label = "" if period is Period.ALL else calendar.label(start, period)
        for figures in metrics.figures_of_totals(buckets[start], thresholds).values():
            rows.append(QueueRow(period=label, period_start=start, figures=figures))
    return rows


async def queue_report(
    database: Database,
    start: datetime,
    end: datetime,
    period: Period,
    calendar: Calendar,
    thresholds: Thresholds,
) -> list[QueueRow]:
    buckets = await queue_totals(database, start, end, thresholds, period, calendar.zone)
    return roll_up(buckets, period, calendar, thresholds)


# ---------------------------------------------------------------- agents


@dataclass(frozen=True)
class AgentRow:
    period: str
    figures: metrics.AgentFigures

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period, **self.figures.as_dict()}


def periods(
    start: datetime, end: datetime, period: Period, calendar: Calendar
) -> list[tuple[datetime, datetime]]:
    """The report's periods covering [start, end), each cut to it."""
    if period is Period.ALL:
        return [(start, end)]
    cuts = []
    cursor = start
    while cursor < end:
        begin = calendar.period_start(cursor, period)
        step = {
            Period.HOUR: timedelta(hours=1),
            Period.DAY: timedelta(days=1),
            Period.WEEK: timedelta(days=7),
            Period.MONTH: timedelta(days=32),
        }[period]
        # Wall-clock arithmetic on the zone's time: a day is a day across an offset change.
        following = calendar.period_start(begin + step, period)
        cuts.append((max(begin, start), min(following, end)))
        cursor = following
    return cuts


async def agent_report(
    store: EventStore,
    start: datetime,
    end: datetime,
    period: Period,
    calendar: Calendar,
    thresholds: Thresholds,
) -> list[AgentRow]:
    events = await store.load_interval(start, end)
    rows = []
    for begin, finish in periods(start, end, period, calendar):
        label = "" if period is Period.ALL else calendar.label(begin, period)
        for figures in metrics.agent_figures(events, begin, finish, thresholds).values():
            rows.append(AgentRow(period=label, figures=figures))
    return rows


# ---------------------------------------------------------------- abandoned callers


async def abandoned_report(
    database: Database,
    start: datetime,
    end: datetime,
    thresholds: Thresholds,
    include_short: bool = False,
    customer_file: CustomerFile | None = None,
) -> list[dict[str, Any]]:
    """Callers who abandoned, newest first, with the customer on file for their number (as
    the wallboard names them) or else the one last identified on a call from it."""
    c = QueueCallRow
    condition = [
        c.outcome == CallEnd.ABANDONED.value,
        c.entered_at >= start,
        c.entered_at < end,
    ]
    if not include_short:
        condition.append(c.wait_s >= thresholds.short_abandon_s)
    async with database.autocommit() as connection:
        rows = list(
            await connection.execute(
                select(c.callid, c.queue, c.caller_number, c.entered_at, c.ended_at, c.wait_s)
                .where(*condition)
                .order_by(c.ended_at.desc(), c.id.desc())
            )
        )
    numbers = [row.caller_number for row in rows]
    customers = await InteractionRecords(database).customers_by_number(numbers)
    names = await _names(customer_file, numbers) if customer_file is not None else {}
    return [
        {
            "callid": row.callid,
            "queue": row.queue,
            "caller_number": row.caller_number,
            "customer_id": names.get(row.caller_number, (None, None))[0]
            or customers.get(row.caller_number),
            "customer_name": names.get(row.caller_number, (None, None))[1],
            "entered_at": row.entered_at.isoformat(),
            "abandoned_at": (row.ended_at or row.entered_at).isoformat(),
            "wait_s": row.wait_s,
            "short": row.wait_s < thresholds.short_abandon_s,
        }
        for row in rows
    ]


# A list of thousands of abandoned callers is not looked up one by one in the core system.
MAX_NAME_LOOKUPS = 500


async def _names(customer_file: CustomerFile, numbers: Sequence[str]) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for number in sorted({number for number in numbers if number})[:MAX_NAME_LOOKUPS]:
        try:
            summary = await customer_file.customer_by_phone(number)
        except CustomerFileError as error:  # the list keeps the number without a name
            log.warning("abandoned callers: customer lookup failed: %s", error)
            break
        if summary is not None:
            name = f"{summary.given_name_fa} {summary.family_name_fa}".strip()
            found[number] = (summary.id, name)
    return found


# ---------------------------------------------------------------- IVR

# Calls that ended in the menus or a queue: the self-service rate's denominator
# (docs/outcomes.md). Campaign and message outcomes are not inbound calls.
_IVR_ENDS = frozenset(
    {
        Outcome.SELF_SERVED,
        Outcome.ANSWERED_BY_AGENT,
        Outcome.ABANDONED_IN_QUEUE,
        Outcome.NO_AGENT,
        Outcome.CALLBACK_REQUESTED,
        Outcome.AFTER_HOURS,
        Outcome.ABANDONED_IN_MENU,
        Outcome.NOT_FOUND,
        Outcome.NOT_VERIFIED,
        Outcome.LOCKED_OUT,
        Outcome.GAVE_UP,
        Outcome.SYSTEM_ERROR,
        Outcome.FAILED,
        Outcome.QUEUED,
    }
)


@dataclass(frozen=True)
class IvrFigures:
    calls: int
    self_served: int
    self_service_rate: float | None
    by_outcome: Mapping[str, int]
    # menu -> outcome -> calls that went through the menu and ended so
    by_menu: Mapping[str, Mapping[str, int]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "self_served": self.self_served,
            "self_service_rate": self.self_service_rate,
            "by_outcome": dict(self.by_outcome),
            "by_menu": {menu: dict(outcomes) for menu, outcomes in self.by_menu.items()},
        }


def ivr_figures(calls: Iterable[Any]) -> IvrFigures:
    """Self-service rate = self_served / calls that ended in the menus or a queue; calls per
    menu (each menu a call went through, once) and outcome."""
    by_outcome: Counter[str] = Counter()
    by_menu: dict[str, Counter[str]] = defaultdict(Counter)
    for call in calls:
        outcome = call.outcome or "unknown"
        if outcome not in _IVR_ENDS:
            continue
        by_outcome[outcome] += 1
        menus = {step.get("menu") for step in call.menu_path or () if isinstance(step, dict)}
        for menu in sorted(menu for menu in menus if menu):
            by_menu[menu][outcome] += 1
    counted = sum(by_outcome.values())
    served = by_outcome[Outcome.SELF_SERVED]
    return IvrFigures(
        calls=counted,
        self_served=served,
        self_service_rate=served / counted if counted else None,
        by_outcome=dict(sorted(by_outcome.items())),
        by_menu={
            menu: dict(sorted(outcomes.items())) for menu, outcomes in sorted(by_menu.items())
        },
    )


async def ivr_report(database: Database, start: datetime, end: datetime) -> IvrFigures:
    return ivr_figures(await InteractionRecords(database).calls_between(start, end))


# ---------------------------------------------------------------- the CLI's and the page's entry

KINDS = ("queues", "agents", "ivr", "abandoned", "lines")


class BadRequest(ValueError):
    """A report asked for with dates or options that cannot be used; the message says which."""


def interval(
    start: str, end: str, zone: ZoneInfo, jalali: bool | None = None
) -> tuple[datetime, datetime]:
    """[first day's midnight, the midnight after the last day) in the report's zone, from
    YYYY-MM-DD dates: Jalali ones with `jalali`, or when None, any year before 1700 (e.g.
    1405-09-10; no Gregorian report goes back that far)."""
    try:
        first, last = (_day(text, jalali) for text in (start, end))
    except ValueError as error:
        raise BadRequest(f"dates are YYYY-MM-DD: {error}") from None
    if last < first:
        raise BadRequest(f"the last day {end} is before the first {start}")
    return (
        datetime.combine(first, time(), zone).astimezone(UTC),
        datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC),
    )


def _day(text: str, jalali: bool | None) -> date:
    year, month, day = (int(part) for part in text.strip().split("-"))
    if jalali or (jalali is None and year < 1700):
        return jdatetime.date(year, month, day).togregorian()
    return date(year, month, day)


@dataclass(frozen=True)
class ReportRequest:
    kind: str
    start: datetime
    end: datetime
    period: Period
    calendar: Calendar
    thresholds: Thresholds
    include_short: bool = False


async def report_rows(
    database: Database, request: ReportRequest, customer_file: CustomerFile | None = None
) -> list[dict[str, Any]]:
    """The report's rows as plain dicts (what `tamas report --json`, the page's table and the
    CSV/XLSX exports show)."""
    start, end = request.start, request.end
    if request.kind == "queues":
        found = await queue_report(
            database, start, end, request.period, request.calendar, request.thresholds
        )
        return [row.as_dict() for row in found]
    if request.kind == "agents":
        agents = await agent_report(
            EventStore(database), start, end, request.period, request.calendar, request.thresholds
        )
        return [row.as_dict() for row in agents]
    if request.kind == "abandoned":
        return await abandoned_report(
            database, start, end, request.thresholds, request.include_short, customer_file
        )
    if request.kind == "ivr":
        return ivr_rows(await ivr_report(database, start, end))
    if request.kind == "lines":
        calls = await InteractionRecords(database).calls_between(start, end)
        return lines_rows(calls, request.period, request.calendar)
    raise BadRequest(f"no report {request.kind!r} (reports: {', '.join(KINDS)})")


def ivr_rows(ivr: IvrFigures) -> list[dict[str, Any]]:
    """One row per menu ("*" for every call) and outcome."""
    rows: list[dict[str, Any]] = [
        {"menu": "*", "outcome": outcome, "calls": count}
        for outcome, count in ivr.by_outcome.items()
    ]
    for menu, outcomes in ivr.by_menu.items():
        rows += [
            {"menu": menu, "outcome": outcome, "calls": count}
            for outcome, count in outcomes.items()
        ]
    return rows


# ---------------------------------------------------------------- traffic on lines


def lines_rows(calls: Iterable[Any], period: Period, calendar: Calendar) -> list[dict[str, Any]]:
    """Inbound calls per period and line called (the number dialled, "-" when unknown),
    busiest line first within each period, with the period's total ("*")."""
    counts: dict[datetime, Counter[str]] = defaultdict(Counter)
    for call in calls:
        began = call.started_at
        start = began if period is Period.ALL else calendar.period_start(began, period)
        if period is Period.ALL:
            start = datetime.fromtimestamp(0, UTC)
        counts[start][call.called_number or "-"] += 1
    rows: list[dict[str, Any]] = []
    for start in sorted(counts):
        label = "" if period is Period.ALL else calendar.label(start, period)
        per_line = counts[start]
        rows.append({"period": label, "line": "*", "calls": sum(per_line.values())})
        rows += [
            {"period": label, "line": line, "calls": calls}
            for line, calls in sorted(per_line.items(), key=lambda item: (-item[1], item[0]))
        ]
    return rows


# ---------------------------------------------------------------- export


def table(rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Column names (in first-seen order) and values of dict rows."""
    columns: list[str] = []
    for row in rows:
        for name in row:
            if name not in columns:
                columns.append(name)
    return columns, [[row.get(name) for name in columns] for row in rows]


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    columns, values = table(rows)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(values)
    return out.getvalue()


def to_xlsx(rows: Sequence[Mapping[str, Any]], title: str) -> bytes:
    from openpyxl import Workbook

    columns, values = table(rows)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(columns)
    for row in values:
        sheet.append([_cell(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return str(value)
    return value
