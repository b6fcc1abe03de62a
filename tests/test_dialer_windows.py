"""Calling windows on the person's own clock, with a controllable clock (every check passes
`now`): Iran's week and holidays, Russia's zones, numbers whose zone is unknown."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from dialer.windows import CallingWindow, Holidays, national_holidays, zones_of

TEHRAN = ZoneInfo("Asia/Tehran")
IRAN_MOBILE = "+989121234567"
MOSCOW = "+74951234567"
VLADIVOSTOK = "+74232123456"
RUSSIAN_MOBILE = "+79161234567"


def at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = TEHRAN) -> datetime:
    return datetime.combine(day, time(hour, minute), zone)


def no_holidays(country: str) -> frozenset[date]:
    return frozenset()


WINDOW = CallingWindow(start=time(9), end=time(20), holidays_of=no_holidays)
SATURDAY = date(2026, 12, 5)
THURSDAY = date(2026, 12, 3)
FRIDAY = date(2026, 12, 4)


def test_an_iranian_number_is_called_only_between_the_windows_hours_of_tehran() -> None:
    assert WINDOW.allows(IRAN_MOBILE, at(SATURDAY, 9))
    assert WINDOW.allows(IRAN_MOBILE, at(SATURDAY, 19, 59))
    assert not WINDOW.allows(IRAN_MOBILE, at(SATURDAY, 8, 59))
    assert not WINDOW.allows(IRAN_MOBILE, at(SATURDAY, 20))
    # The clock may be given in any zone: 05:30 UTC is 09:00 in Tehran.
    assert WINDOW.allows(IRAN_MOBILE, datetime(2026, 12, 5, 5, 30, tzinfo=UTC))


def test_friday_is_off_and_thursday_ends_at_noon_unless_the_kind_calls_thursday_afternoon() -> None:
    assert not WINDOW.allows(IRAN_MOBILE, at(FRIDAY, 10))
    assert WINDOW.allows(IRAN_MOBILE, at(THURSDAY, 11, 59))
    assert not WINDOW.allows(IRAN_MOBILE, at(THURSDAY, 12))
    full_thursday = CallingWindow(thursday_until=None, holidays_of=no_holidays)
    assert full_thursday.allows(IRAN_MOBILE, at(THURSDAY, 15))


def test_iranian_public_holidays_from_the_holidays_package_are_off() -> None:
    window = CallingWindow()
    birthday_of_imam_ali = date(2026, 12, 23)  # a Wednesday, lunar, from the package
    assert birthday_of_imam_ali in national_holidays("IR")
    assert not window.allows(IRAN_MOBILE, at(birthday_of_imam_ali, 10))
    assert window.allows(IRAN_MOBILE, at(date(2026, 12, 22), 10))


def test_the_insurers_holiday_file_adds_days_to_the_official_ones() -> None:
    # ivr/holidays.yaml lists 1404-01-10 (Eid al-Fitr, 30 March 2025) as an official date.
    assert date(2025, 3, 30) in national_holidays("IR")
    own_day_off = date(2026, 12, 7)
    window = CallingWindow(holidays_of=lambda country: Holidays(country, {own_day_off}))
    assert not window.allows(IRAN_MOBILE, at(own_day_off, 10))


def test_a_russian_number_is_called_on_its_own_zones_clock() -> None:
    assert zones_of(VLADIVOSTOK) == (ZoneInfo("Asia/Vladivostok"),)
    monday = date(2026, 12, 7)
    moscow_ten = at(monday, 10, zone=ZoneInfo("Europe/Moscow"))  # 17:00 in Vladivostok
    window = CallingWindow(weekdays=frozenset(range(5)), holidays_of=no_holidays)
    assert window.allows(MOSCOW, moscow_ten)
    assert window.allows(VLADIVOSTOK, moscow_ten)
    moscow_fourteen = at(monday, 14, zone=ZoneInfo("Europe/Moscow"))  # 21:00 in Vladivostok
    assert window.allows(MOSCOW, moscow_fourteen)
    assert not window.allows(VLADIVOSTOK, moscow_fourteen)


def test_a_number_of_unknown_zone_is_called_only_when_every_possible_zone_allows_it() -> None:
    assert len(zones_of(RUSSIAN_MOBILE)) > 5
    window = CallingWindow(
        start=time(8), end=time(22), weekdays=frozenset(range(7)), holidays_of=no_holidays
    )
    monday = date(2026, 12, 7)
    # 14:00 in Moscow is 23:00 in Kamchatka.
    assert not window.allows(RUSSIAN_MOBILE, at(monday, 14, zone=ZoneInfo("Europe/Moscow")))
    # With the target's own zone known, its clock alone decides.
    moscow = ZoneInfo("Europe/Moscow")
    assert window.allows(RUSSIAN_MOBILE, at(monday, 14, zone=moscow), zone=moscow)


def test_next_opening_skips_the_night_friday_and_thursday_afternoon() -> None:
    assert WINDOW.next_opening(IRAN_MOBILE, at(SATURDAY, 10)) == at(SATURDAY, 10)
    assert WINDOW.next_opening(IRAN_MOBILE, at(THURSDAY, 13)) == at(SATURDAY, 9)
    assert WINDOW.next_opening(IRAN_MOBILE, at(SATURDAY, 21)) == at(date(2026, 12, 6), 9)


def test_next_opening_is_none_when_the_window_never_opens() -> None:
    never = CallingWindow(weekdays=frozenset(), holidays_of=no_holidays)
    assert never.next_opening(IRAN_MOBILE, at(SATURDAY, 10)) is None


def test_the_insurers_official_lunar_dates_replace_the_packages_estimates_for_that_year() -> None:
    # The package estimates Eid al-Fitr 1405 (Jalali) on 10-11 March 2027; say the official
    # calendar puts it on 11-12 March, and the insurer lists it so in its file.
    official = {date(2027, 3, 11), date(2027, 3, 12)}
    estimated_only = Holidays("IR")
    corrected = Holidays("IR", official, official_years=frozenset({1405}))
    assert date(2027, 3, 10) in estimated_only
    assert date(2027, 3, 10) not in corrected
    assert date(2027, 3, 12) in corrected
    # Fixed holidays of the same year stay: Islamic Revolution Day (11 February).
    assert date(2027, 2, 11) in corrected
    # Years the file does not cover keep the package's estimates.
    assert date(2028, 2, 27) in Holidays("IR") and date(2028, 2, 27) in corrected
