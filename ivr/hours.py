"""Opening hours of the contact centre, on the Iranian week and Tehran's clock.

Saturday to Wednesday a full day, Thursday a half day, Friday closed, and closed on the
official holidays listed in `holidays.yaml` (Jalali dates: the solar ones recur every year,
the lunar ones move and are listed per year from the official calendar).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import jdatetime
import yaml

TEHRAN = ZoneInfo("Asia/Tehran")
HOLIDAYS_PATH = Path(__file__).with_name("holidays.yaml")

# Python's weekday(): Monday 0 ... Sunday 6. The Iranian week starts on Saturday (5).
SATURDAY, SUNDAY, MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY = 5, 6, 0, 1, 2, 3, 4

Span = tuple[time, time]


def _default_week() -> dict[int, Span | None]:
    full = (time(8, 0), time(16, 0))
    return {
        SATURDAY: full,
        SUNDAY: full,
        MONDAY: full,
        TUESDAY: full,
        WEDNESDAY: full,
        THURSDAY: (time(8, 0), time(12, 0)),
        FRIDAY: None,
    }


@dataclass(frozen=True)
class Holidays:
    """Recurring Jalali (month, day) holidays and one-off Gregorian dates."""

    recurring: frozenset[tuple[int, int]] = frozenset()
    dates: frozenset[date] = frozenset()

    def __contains__(self, day: date) -> bool:
        if day in self.dates:
            return True
        jalali = jdatetime.date.fromgregorian(date=day)
        return (jalali.month, jalali.day) in self.recurring


class HolidaysError(ValueError):
    """The holidays file is wrong; the message names the entry."""


def load_holidays(path: Path = HOLIDAYS_PATH) -> Holidays:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    recurring: set[tuple[int, int]] = set()
    dates: set[date] = set()
    for entry in data.get("every_year", []):
        try:
            month, day = (int(part) for part in str(entry["date"]).split("-"))
            jdatetime.date(1403, month, day)  # validates month/day
        except (KeyError, ValueError) as error:
            raise HolidaysError(
                f"{path}: every_year entry {entry!r}: expected date: MM-DD (Jalali)"
            ) from error
        recurring.add((month, day))
    for entry in data.get("dates", []):
        try:
            year, month, day = (int(part) for part in str(entry["date"]).split("-"))
            dates.add(jdatetime.date(year, month, day).togregorian())
        except (KeyError, ValueError) as error:
            raise HolidaysError(
                f"{path}: dates entry {entry!r}: expected date: YYYY-MM-DD (Jalali)"
            ) from error
    return Holidays(frozenset(recurring), frozenset(dates))


@dataclass(frozen=True)
class OpeningHours:
    week: dict[int, Span | None] = field(default_factory=_default_week)
    holidays: Holidays = field(default_factory=Holidays)
    zone: ZoneInfo = TEHRAN

    def span_on(self, day: date) -> Span | None:
        if day in self.holidays:
            return None
        return self.week.get(day.weekday())

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        span = self.span_on(local.date())
        return span is not None and span[0] <= local.time() < span[1]

    def next_opening(self, at: datetime) -> datetime:
        """When the centre next opens (now, if it is open)."""
        local = at.astimezone(self.zone)
        if self.is_open(local):
            return local
        for offset in range(0, 60):
            day = local.date() + timedelta(days=offset)
            span = self.span_on(day)
            if span is None:
                continue
            opening = datetime.combine(day, span[0], self.zone)
            if opening > local:
                return opening
        raise ValueError("no opening in the next 60 days: check the opening hours and holidays")


def default_hours(week: dict[int, Span | None] | None = None) -> OpeningHours:
    """`week` (from the menu file) or the built-in one, with the official holidays."""
    if week:
        return OpeningHours(week=dict(week), holidays=load_holidays())
    return OpeningHours(holidays=load_holidays())
