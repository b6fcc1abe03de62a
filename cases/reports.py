"""Reports on cases for a period: complaints by category with their frequency and time to
resolve, the ISO 10002:2018 audit of the complaints' handling clause by clause, SLA compliance
per partner, and the volume by type, team and month (Jalali months in Persian). Each report is
a header and rows, for the screen, CSV or XLSX (`dialer.exports`' writers).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jdatetime
from sqlalchemy import case, func, or_, select

from cases.tables import CaseEventRow, CaseRow
from integrations.database import Database
from ivr.hours import TEHRAN

REPORTS = ("complaints", "clauses", "partners", "volume")
ASSESSMENT = ("severity", "complexity", "impact", "urgency")
# The complaint workflow's states (types.yaml, iso10002) by the standard's clause.
CLAUSES = (
    ("8.3", "receipt of complaint (with the remedy sought)", "received"),
    ("8.4", "tracking of complaint (a tracking number)", "received"),
    ("8.5", "acknowledgement of complaint", "acknowledged"),
    ("8.6", "initial assessment (severity, complexity, impact, urgency)", "assessed"),
    ("8.7", "investigation of complaints", "investigating"),
    ("8.8", "response to complaint", "responded"),
    ("8.9", "communicating the decision", "communicated"),
    ("8.10", "closing the complaint", "closed"),
)


@dataclass(frozen=True)
class Report:
    name: str
    header: list[str]
    rows: list[list[Any]]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.header, row, strict=True)) for row in self.rows]


def month_of(moment: datetime, jalali: bool) -> str:
    """`1404-07` (Jalali) or `2025-10`, on Tehran's clock."""
    local = moment.astimezone(TEHRAN)
    if jalali:
        day = jdatetime.date.fromgregorian(date=local.date())
        return f"{day.year}-{day.month:02d}"
    return f"{local.year}-{local.month:02d}"


def _hours(values: Iterable[float]) -> float | None:
    values = list(values)
    return round(statistics.median(values), 1) if values else None


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


async def _cases(
    database: Database, start: datetime, end: datetime, case_type: str | None = None
) -> list[CaseRow]:
    query = select(CaseRow).where(CaseRow.opened_at >= start, CaseRow.opened_at < end)
    if case_type is not None:
        query = query.where(CaseRow.type == case_type)
    async with database.session() as session:
        return list((await session.scalars(query.order_by(CaseRow.id))).all())


def _resolve_hours(row: CaseRow) -> float | None:
    if row.resolved_at is None:
        return None
    return (row.resolved_at - row.opened_at).total_seconds() / 3600


async def complaints(database: Database, start: datetime, end: datetime) -> Report:
    """Per category: how many, how many resolved, the median hours to resolve, breaches and
    the complainants' satisfaction."""
    groups: dict[str, list[CaseRow]] = defaultdict(list)
    for row in await _cases(database, start, end, "complaint"):
        groups[str((row.fields or {}).get("category", ""))].append(row)
    rows = []
    for category, cases in sorted(groups.items()):
        resolved = [h for h in map(_resolve_hours, cases) if h is not None]
        scores = [row.satisfaction for row in cases if row.satisfaction is not None]
        rows.append(
            [
                category,
                len(cases),
                len(resolved),
                _hours(resolved),
                sum(1 for row in cases if row.breached),
                round(statistics.mean(scores), 2) if scores else None,
            ]
        )
    header = [
        "category",
        "complaints",
        "resolved",
        "median_hours_to_resolve",
        "breached",
        "satisfaction",
    ]
    return Report("complaints", header, rows)


async def clauses(database: Database, start: datetime, end: datetime) -> Report:
    """ISO 10002:2018 clause by clause: how many of the period's complaints reached each step,
    the median hours from receipt, and the share of those that had what the clause asks."""
    cases = await _cases(database, start, end, "complaint")
    reached: dict[int, dict[str, datetime]] = {row.id: {"received": row.opened_at} for row in cases}
    if cases:
        async with database.session() as session:
            events = await session.scalars(
                select(CaseEventRow)
                .where(
                    CaseEventRow.case_id.in_(list(reached)),
                    CaseEventRow.kind == "state",
                )
                .order_by(CaseEventRow.id)
            )
            for event in events.all():
                reached[event.case_id].setdefault(str(event.data.get("to")), event.at)
    by_id = {row.id: row for row in cases}
    rows = []
    for clause, title, state in CLAUSES:
        hits = [case_id for case_id, steps in reached.items() if state in steps]
        hours = [
            (reached[case_id][state] - by_id[case_id].opened_at).total_seconds() / 3600
            for case_id in hits
        ]
        rows.append(
            [clause, title, len(cases), len(hits), _hours(hours), _met(clause, hits, by_id)]
        )
    surveyed = [row for row in cases if row.satisfaction is not None or row.nps is not None]
    rows.append(
        [
            "9.3",
            "satisfaction with the complaints-handling process",
            len(cases),
            len(surveyed),
            None,
            _share(len(surveyed), len(cases)),
        ]
    )
    header = ["clause", "step", "complaints", "reached", "median_hours_from_receipt", "met"]
    return Report("clauses", header, rows)


def _met(clause: str, hits: list[int], cases: dict[int, CaseRow]) -> float | None:
    """The share of the complaints at the step that had what the clause asks for."""
    if clause == "8.3":
        good = [i for i in hits if (cases[i].fields or {}).get("remedy_sought")]
    elif clause == "8.4":
        good = [i for i in hits if cases[i].tracking_number]
    elif clause == "8.5":
        good = [i for i in hits if "first_response" not in cases[i].breached]
    elif clause == "8.6":
        good = [i for i in hits if all((cases[i].fields or {}).get(k) for k in ASSESSMENT)]
    else:
        good = [i for i in hits if "resolution" not in cases[i].breached]
    return _share(len(good), len(hits))


async def partners(database: Database, start: datetime, end: datetime) -> Report:
    """Per partner: cases handed over, resolved, resolved within the SLA, open and late."""
    groups: dict[str, list[CaseRow]] = defaultdict(list)
    for row in await _cases(database, start, end):
        if row.partner:
            groups[row.partner].append(row)
    rows = []
    for partner, cases in sorted(groups.items()):
        resolved = [row for row in cases if row.resolved_at is not None]
        in_time = [row for row in resolved if "resolution" not in row.breached]
        late_open = [row for row in cases if row.resolved_at is None and row.breached]
        rows.append(
            [
                partner,
                len(cases),
                len(resolved),
                len(in_time),
                len(late_open),
                _share(len(in_time), len(resolved)),
                _hours(h for h in map(_resolve_hours, cases) if h is not None),
            ]
        )
    header = [
        "partner",
        "cases",
        "resolved",
        "resolved_in_sla",
        "open_breached",
        "sla_compliance",
        "median_hours_to_resolve",
    ]
    return Report("partners", header, rows)


async def volume(database: Database, start: datetime, end: datetime, jalali: bool) -> Report:
    """Per month, type and team: opened, resolved and breached."""
    counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in await _cases(database, start, end):
        figures = counts[(month_of(row.opened_at, jalali), row.type, row.team)]
        figures[0] += 1
        figures[1] += row.resolved_at is not None
        figures[2] += bool(row.breached)
    rows = [[*key, *figures] for key, figures in sorted(counts.items())]
    return Report("volume", ["month", "type", "team", "opened", "resolved", "breached"], rows)


async def team_load(database: Database, now: datetime, soon: timedelta) -> list[dict[str, Any]]:
    """Per team: open cases, those due within `soon` or passed, and those breached."""
    due = func.sum(case((CaseRow.next_due_at <= now + soon, 1), else_=0))
    breached = func.sum(case((or_(CaseRow.breached != "", CaseRow.next_due_at <= now), 1), else_=0))
    query = (
        select(CaseRow.team, func.count(), due, breached)
        .where(CaseRow.status == "open")
        .group_by(CaseRow.team)
        .order_by(CaseRow.team)
    )
    async with database.autocommit() as connection:
        rows = (await connection.execute(query)).all()
    return [
        {"team": team, "open": int(count), "due": int(near or 0), "breached": int(late or 0)}
        for team, count, near, late in rows
    ]


async def report(
    database: Database, name: str, start: datetime, end: datetime, jalali: bool = True
) -> Report:
    if name == "complaints":
        return await complaints(database, start, end)
    if name == "clauses":
        return await clauses(database, start, end)
    if name == "partners":
        return await partners(database, start, end)
    if name == "volume":
        return await volume(database, start, end, jalali)
    raise ValueError(f"no report {name!r} (reports: {', '.join(REPORTS)})")
