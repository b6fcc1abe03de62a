"""SLA clocks on the Iranian calendar: the edge cases peers get wrong, with a clock the test
sets. Team hours: Saturday-Wednesday 08:00-16:00, Thursday 08:00-12:00, Friday off (Tehran)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import jdatetime
import pytest

from cases.calendar import BusinessCalendar, iranian_holidays
from cases.sla import ClockEvent, ClockEventKind, ClockName, Sla, compute_clocks
from ivr.hours import TEHRAN

H = timedelta(hours=1)
STANDARD = Sla("standard", first_response=2 * H, resolution=16 * H)
LONG = Sla("long", first_response=2 * H, resolution=24 * H)
PRIORITY = Sla("priority", first_response=1 * H, resolution=16 * H)
SHORT = Sla("short", first_response=1 * H, resolution=8 * H)


def jalali(text: str) -> datetime:
    """`1403-12-28 14:00` on Tehran's clock."""
    day, clock = text.split()
    year, month, dom = (int(part) for part in day.split("-"))
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime.combine(
        jdatetime.date(year, month, dom).togregorian(), time(hour, minute), TEHRAN
    )


def tehran(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TEHRAN)


@pytest.fixture(scope="module")
def override(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An override file that moves 1408's Eid al-Fitr a day later than the package's
    estimate (2030-02-05/06 -> 2030-02-06/07), as the official calendar might."""
    path = tmp_path_factory.mktemp("holidays") / "holidays.yaml"
    path.write_text(
        "every_year: []\n"
        "dates:\n"
        '  - {date: "1408-11-18", name: Eid al-Fitr}\n'
        '  - {date: "1408-11-19", name: Eid al-Fitr}\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def calendar(override: Path) -> BusinessCalendar:
    return BusinessCalendar(holidays=iranian_holidays(override))


def log(*entries: tuple[str, ClockEventKind] | tuple[str, ClockEventKind, Sla]) -> list[ClockEvent]:
    events = []
    for entry in entries:
        sla = entry[2] if len(entry) == 3 else None
        events.append(ClockEvent(tehran(entry[0]), entry[1], sla))
    return events


OPEN, SET, PAUSE, RESUME = (
    ClockEventKind.OPENED,
    ClockEventKind.SLA_SET,
    ClockEventKind.PAUSED,
    ClockEventKind.RESUMED,
)


@dataclass(frozen=True)
class Case:
    why: str
    events: list[ClockEvent]
    now: str
    resolution_due: str | None
    breached: bool = False


EDGE_CASES = [
    Case(
        "across Nowruz and the 29th and 30th of Esfand 1403 (a leap year): two working hours "
        "on 1403-12-28, then closed until 1404-01-05",
        log(("2025-03-18 14:00", OPEN), ("2025-03-18 14:00", SET, STANDARD)),
        "2025-03-18 15:00",
        "2025-03-26 14:00",
    ),
    Case(
        "a lunar holiday moved by a day by the override file: 1408-11-17 is worked, "
        "1408-11-19 (a Thursday) is not",
        log(("2030-02-04 15:00", OPEN), ("2030-02-04 15:00", SET, SHORT)),
        "2030-02-04 15:30",
        "2030-02-05 15:00",
    ),
    Case(
        "a pause over the weekend stops the clock from Wednesday noon to Saturday 10:00",
        log(
            ("2025-10-15 09:00", OPEN),
            ("2025-10-15 09:00", SET, STANDARD),
            ("2025-10-15 12:00", PAUSE),
            ("2025-10-18 10:00", RESUME),
        ),
        "2025-10-18 11:00",
        "2025-10-19 15:00",
    ),
    Case(
        "the SLA changed mid-case keeps the pause: 8 h counted of the new 16, not 16 of 16",
        log(
            ("2025-10-11 08:00", OPEN),
            ("2025-10-11 08:00", SET, LONG),
            ("2025-10-11 10:00", PAUSE),
            ("2025-10-12 10:00", RESUME),
            ("2025-10-13 08:00", SET, PRIORITY),
        ),
        "2025-10-13 09:00",
        "2025-10-13 16:00",
    ),
    Case(
        "an SLA shortened below the time already used is breached at once, due in the past",
        log(
            ("2025-10-11 08:00", OPEN),
            ("2025-10-11 08:00", SET, LONG),
            ("2025-10-13 08:00", SET, SHORT),
        ),
        "2025-10-13 09:00",
        "2025-10-11 16:00",
        breached=True,
    ),
    Case(
        "a case opened on Thursday afternoon starts counting on Saturday morning",
        log(("2025-10-16 13:00", OPEN), ("2025-10-16 13:00", SET, SHORT)),
        "2025-10-17 09:00",
        "2025-10-18 16:00",
    ),
]


@pytest.mark.parametrize("case", EDGE_CASES, ids=lambda case: case.why[:40])
def test_resolution_deadline_on_the_iranian_calendar(
    case: Case, calendar: BusinessCalendar
) -> None:
    clocks = compute_clocks(case.events, calendar, tehran(case.now))
    expected = tehran(case.resolution_due) if case.resolution_due else None
    assert clocks.resolution.due == expected, case.why
    assert clocks.resolution.breached is case.breached, case.why


def test_1403_is_a_leap_year_whose_esfand_has_30_days() -> None:
    assert jdatetime.date(1403, 1, 1).isleap()
    assert jalali("1403-12-30 00:00").date().isoformat() == "2025-03-20"
    assert jalali("1404-01-01 00:00").date().isoformat() == "2025-03-21"


def test_without_the_override_the_package_estimate_stands(tmp_path: Path) -> None:
    empty = tmp_path / "holidays.yaml"
    empty.write_text("every_year: []\ndates: []\n", encoding="utf-8")
    package_only = BusinessCalendar(holidays=iranian_holidays(empty))
    events = log(("2030-02-04 15:00", OPEN), ("2030-02-04 15:00", SET, SHORT))
    clocks = compute_clocks(events, package_only, tehran("2030-02-04 15:30"))
    # Monday 1 h, Tuesday and Wednesday off (estimated Eid), Thursday 4 h, Saturday 3 h.
    assert clocks.resolution.due == tehran("2030-02-09 11:00")


def test_paused_clock_has_no_deadline_and_counts_the_pause(calendar: BusinessCalendar) -> None:
    events = log(
        ("2025-10-15 09:00", OPEN), ("2025-10-15 09:00", SET, STANDARD), ("2025-10-15 12:00", PAUSE)
    )
    clocks = compute_clocks(events, calendar, tehran("2025-10-17 12:00"))
    assert clocks.resolution.paused and clocks.resolution.due is None
    assert clocks.resolution.used == 3 * H
    assert clocks.paused_wall == timedelta(days=2)
    # The first response is owed whatever the case waits for.
    assert clocks.first_response.due == tehran("2025-10-15 11:00")
    assert clocks.first_response.breached
    assert clocks.next_due == (ClockName.FIRST_RESPONSE, tehran("2025-10-15 11:00"))


def test_resolved_case_stops_both_clocks(calendar: BusinessCalendar) -> None:
    events = log(
        ("2025-10-15 09:00", OPEN),
        ("2025-10-15 09:00", SET, STANDARD),
        ("2025-10-16 10:00", ClockEventKind.RESOLVED),
    )
    clocks = compute_clocks(events, calendar, tehran("2025-10-20 09:00"))
    assert clocks.next_due is None
    assert clocks.resolution.used == 9 * H and not clocks.resolution.breached
    assert clocks.first_response.stopped_at == tehran("2025-10-16 10:00")
    assert clocks.first_response.breached  # answered a day late, by resolving


def test_reopened_case_counts_on_from_where_it_stopped(calendar: BusinessCalendar) -> None:
    events = log(
        ("2025-10-11 08:00", OPEN),
        ("2025-10-11 08:00", SET, STANDARD),
        ("2025-10-11 12:00", ClockEventKind.RESOLVED),
        ("2025-10-13 08:00", ClockEventKind.REOPENED),
    )
    clocks = compute_clocks(events, calendar, tehran("2025-10-13 09:00"))
    # 4 h used before resolving; 12 h left from Monday 08:00: Monday 8 h, Tuesday 4 h.
    assert clocks.resolution.due == tehran("2025-10-14 12:00")


def test_deadline_at_closing_time_stays_on_that_day(calendar: BusinessCalendar) -> None:
    assert calendar.add(tehran("2025-10-11 08:00"), 8 * H) == tehran("2025-10-11 16:00")
    assert calendar.business_time(tehran("2025-10-16 11:00"), tehran("2025-10-18 09:00")) == 2 * H


def test_adding_business_time_and_counting_it_back_agree(calendar: BusinessCalendar) -> None:
    """For moments across a year (holidays, weekends, Thursdays, nights) and amounts up to two
    weeks of work: counting the time between a start and start + amount gives the amount."""
    rng = random.Random(1404)
    start_of_year = tehran("2025-03-01 00:00")
    for _ in range(300):
        start = start_of_year + timedelta(minutes=rng.randrange(365 * 24 * 60))
        amount = timedelta(minutes=rng.randrange(1, 80 * 60))
        due = calendar.add(start, amount)
        assert calendar.business_time(start, due) == amount, (start, amount)
        assert calendar.is_working(due - timedelta(seconds=1)), (start, amount, due)
