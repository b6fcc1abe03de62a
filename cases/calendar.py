"""A team's business hours on the Iranian calendar, and business time counted on them.

The week is Saturday to Wednesday, Thursday morning, Friday off unless a team says otherwise.
Days off are the country's public holidays as the dialer reads them (`dialer.windows.Holidays`:
the `holidays` package, whose lunar dates are estimates years ahead, plus the insurer's
override file `ivr/holidays.yaml`, whose official dates replace a year's estimates once they
are announced). Pure: no clock is read here, every function takes its moments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import jdatetime

from dialer.windows import DaysOff, Holidays, national_holidays
from ivr.hours import (
    FRIDAY,
    MONDAY,
    SATURDAY,
    SUNDAY,
    TEHRAN,
    THURSDAY,
    TUESDAY,
    WEDNESDAY,
    load_holidays,
)

Span = tuple[time, time]
ZERO = timedelta(0)
# How far add() looks for enough open hours before calling the calendar broken (a team with
# no working day at all): a year and a half covers any SLA measured in business days.
HORIZON_DAYS = 550


class CalendarError(ValueError):
    """A calendar that can never satisfy a deadline (no working hours at all)."""


def iranian_week(
    opens: time = time(8, 0), closes: time = time(16, 0), thursday_closes: time | None = time(12, 0)
) -> dict[int, tuple[Span, ...]]:
    """Saturday to Wednesday `opens`-`closes`, Thursday until `thursday_closes` (None: off)."""
    full = ((opens, closes),)
    week: dict[int, tuple[Span, ...]] = {
        day: full for day in (SATURDAY, SUNDAY, MONDAY, TUESDAY, WEDNESDAY)
    }
    week[THURSDAY] = ((opens, thursday_closes),) if thursday_closes else ()
    week[FRIDAY] = ()
    return week


def iranian_holidays(override: Path | None = None) -> DaysOff:
    """Iran's public holidays with the insurer's override file (default `ivr/holidays.yaml`,
    the file the IVR's opening hours and the dialer read)."""
    if override is None:
        return national_holidays("IR")
    own = load_holidays(override)
    official_years = frozenset(jdatetime.date.fromgregorian(date=day).year for day in own.dates)
    return Holidays("IR", own, official_years)


@dataclass(frozen=True)
class BusinessCalendar:
    """When a team works: spans per weekday (Python's numbering), minus the holidays."""

    week: Mapping[int, tuple[Span, ...]] = field(default_factory=iranian_week)
    holidays: DaysOff = field(default_factory=iranian_holidays, compare=False)
    zone: ZoneInfo = TEHRAN

    def working_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's working spans as aware moments (none on a holiday or a day off)."""
        if day in self.holidays:
            return []
        return [
            (datetime.combine(day, start, self.zone), datetime.combine(day, end, self.zone))
            for start, end in self.week.get(day.weekday(), ())
            if start < end
        ]

    def is_working(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        return any(start <= local < end for start, end in self.working_spans(local.date()))

    def business_time(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two moments (zero when `end` is not after `start`)."""
        if end <= start:
            return ZERO
        total = ZERO
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            for span_start, span_end in self.working_spans(day):
                overlap = min(span_end, end) - max(span_start, start)
                if overlap > ZERO:
                    total += overlap
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The moment `amount` of working time after `start`. A deadline that falls exactly
        on a closing time stays there (not the next opening): it is due by close of play."""
        remaining = amount
        day = start.astimezone(self.zone).date()
        for _ in range(HORIZON_DAYS):
            for span_start, span_end in self.working_spans(day):
                begin = max(span_start, start)
                if begin >= span_end:
                    continue
                if remaining <= span_end - begin:
                    return begin + remaining
                remaining -= span_end - begin
            day += timedelta(days=1)
        raise CalendarError(
            f"no {amount} of working time within {HORIZON_DAYS} days of {start.isoformat()}: "
            "check the team's hours"
        )
