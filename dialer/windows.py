"""When a person may be called: a campaign's calling window, read on the person's own clock.

The clock is the person's time zone, found from their number (phonenumbers' time-zone data:
Iran's one zone, Russia's eleven by area code). A Russian mobile number does not say where its
owner lives (it maps to every zone from Kaliningrad to Kamchatka), so such a person may be
called only when the window is open in every zone they could be in, unless the target carries
its own zone (from the customer file or the import). Days off are the window's weekdays (the
Iranian week: Friday off, Thursday afternoon off unless the kind says otherwise) and the
country's public holidays: the `holidays` package's (Iran's lunar holidays estimated years
ahead), plus, for Iran, the insurer's own list that the IVR's opening hours use
(`ivr/holidays.yaml`, through `ivr.hours`), which adds its own days and the official dates of
the lunar ones once announced. Every function takes `now`: the clock is the caller's to set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays as holiday_tables
import jdatetime
import phonenumbers
from phonenumbers import timezone as number_zones

from ivr.hours import (
    MONDAY,
    SATURDAY,
    SUNDAY,
    TEHRAN,
    THURSDAY,
    TUESDAY,
    WEDNESDAY,
    load_holidays,
)

# Saturday to Thursday, the Iranian working week.
IRANIAN_WEEK = frozenset({SATURDAY, SUNDAY, MONDAY, TUESDAY, WEDNESDAY, THURSDAY})
# How far ahead next_opening looks before saying there is no time to call.
HORIZON_DAYS = 30
# How the holidays package names a lunar date it could only estimate.
ESTIMATED = "(estimated)"


class DaysOff(Protocol):
    def __contains__(self, day: date, /) -> bool: ...


class Holidays:
    """A country's public holidays from the `holidays` package, plus the insurer's own.

    The package estimates lunar holidays years ahead, and an estimate can be a day off. Once
    the insurer's file lists a Jalali year's official dates (`official_years`), that year's
    estimates give way to the file: a day the package only estimated is then a holiday only
    if the file says so.
    """

    def __init__(
        self,
        country: str,
        extra: DaysOff = frozenset(),
        official_years: frozenset[int] = frozenset(),
    ) -> None:
        self.country = country
        self.extra = extra
        self.official_years = official_years
        self._years: dict[int, Mapping[date, str]] = {}

    def __contains__(self, day: date, /) -> bool:
        if day in self.extra:
            return True
        names = self._table(day.year).get(day)
        if names is None:
            return False
        if jdatetime.date.fromgregorian(date=day).year not in self.official_years:
            return True
        # Superseded unless one of the day's holidays is a fixed (not estimated) one.
        return any(ESTIMATED not in name for name in names.split("; "))

    def _table(self, year: int) -> Mapping[date, str]:
        table = self._years.get(year)
        if table is None:
            try:
                table = holiday_tables.country_holidays(self.country, years=year)
            except NotImplementedError:  # a country the package does not know: no holidays
                table = {}
            self._years[year] = table
        return table


@lru_cache(maxsize=32)
def national_holidays(country: str) -> Holidays:
    """The holidays people in `country` do not want calls on; Iran's include the insurer's
    file of official dates (the one the IVR's opening hours read)."""
    if country == "IR":
        own = load_holidays()
        years = frozenset(jdatetime.date.fromgregorian(date=day).year for day in own.dates)
        return Holidays("IR", own, years)
    return Holidays(country)


def zones_of(number: str, default: ZoneInfo = TEHRAN) -> tuple[ZoneInfo, ...]:
    """Every time zone the owner of an E.164 number may be in (one for most numbers)."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return (default,)
    names = [name for name in number_zones.time_zones_for_number(parsed) if name != "Etc/Unknown"]
    return tuple(ZoneInfo(name) for name in names) or (default,)


def country_of(number: str, default: str = "IR") -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number)) or default
    except phonenumbers.NumberParseException:
        return default


@dataclass(frozen=True)
class CallingWindow:
    """The hours of a campaign's calls, in the person's local time. `thursday_until` ends
    Thursday early (the Iranian half day); None calls Thursday like any other weekday."""

    start: time = time(9, 0)
    end: time = time(20, 0)
    weekdays: frozenset[int] = IRANIAN_WEEK
    thursday_until: time | None = time(12, 0)
    skip_holidays: bool = True
    holidays_of: Callable[[str], DaysOff] = field(
        default=national_holidays, compare=False, repr=False
    )

    def span_on(self, day: date, country: str) -> tuple[time, time] | None:
        if day.weekday() not in self.weekdays:
            return None
        if self.skip_holidays and day in self.holidays_of(country):
            return None
        end = self.end
        if day.weekday() == THURSDAY and self.thursday_until is not None:
            end = min(end, self.thursday_until)
        return (self.start, end) if self.start < end else None

    def open_in(self, zone: ZoneInfo, country: str, now: datetime) -> bool:
        local = now.astimezone(zone)
        span = self.span_on(local.date(), country)
        return span is not None and span[0] <= local.time() < span[1]

    def allows(self, number: str, now: datetime, zone: ZoneInfo | None = None) -> bool:
        """May the owner of `number` be called at `now`? `zone`: their known time zone."""
        country = country_of(number)
        zones = (zone,) if zone is not None else zones_of(number)
        return all(self.open_in(each, country, now) for each in zones)

    def next_opening(
        self, number: str, now: datetime, zone: ZoneInfo | None = None
    ) -> datetime | None:
        """The first moment from `now` the person may be called (`now` itself when allowed);
        None when the window never opens in the next HORIZON_DAYS (e.g. no common hours)."""
        zones = (zone,) if zone is not None else zones_of(number)
        # The allowed moments begin at `now` or at the opening of a day's window in one of the
        # zones, so those are the only candidates to try, in order.
        for candidate in sorted({now, *self._openings(zones, now)}):
            if candidate >= now and self.allows(number, candidate, zone):
                return candidate
        return None

    def _openings(self, zones: Iterable[ZoneInfo], now: datetime) -> Iterable[datetime]:
        for zone in zones:
            first = now.astimezone(zone).date()
            for offset in range(HORIZON_DAYS + 1):
                day = first + timedelta(days=offset)
                yield datetime.combine(day, self.start, zone)


# Every hour of every day, holidays included: the window of the sandbox's tests, benchmarks
# and demo runs, which must call whenever they run.
ALWAYS_OPEN = CallingWindow(
    start=time(0, 0),
    end=time(23, 59, 59),
    weekdays=frozenset(range(7)),
    thursday_until=None,
    skip_holidays=False,
)
