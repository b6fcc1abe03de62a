"""SLA clocks of a case, recomputed from its event log: first response and resolution.

A clock counts business time (the team's `BusinessCalendar`) from the case's opening. Pause
states (waiting for the customer, waiting for a document) stop the resolution clock; the first
response is owed whatever the case waits for. Nothing is kept between computations but the log:
a changed SLA, a new holiday in the calendar or a pause entered late all give new deadlines from
the same events, and the time already counted (pauses excluded) is never lost, because it is
counted again from the log rather than carried in a field that an SLA change would reset.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cases.calendar import ZERO, BusinessCalendar


class ClockEventKind(StrEnum):
    OPENED = "opened"
    SLA_SET = "sla_set"
    PAUSED = "paused"
    RESUMED = "resumed"
    RESPONDED = "responded"
    RESOLVED = "resolved"
    REOPENED = "reopened"


class ClockName(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


@dataclass(frozen=True)
class Sla:
    """Targets in business time; None: that clock is not measured for the case."""

    name: str
    first_response: timedelta | None
    resolution: timedelta | None


@dataclass(frozen=True)
class ClockEvent:
    """One event of the case's log that moves a clock. `sla` only on SLA_SET."""

    at: datetime
    kind: ClockEventKind
    sla: Sla | None = None


@dataclass(frozen=True)
class Clock:
    name: ClockName
    target: timedelta | None
    used: timedelta  # business time counted so far (to `now`, or to the stop)
    due: datetime | None  # when the target is reached; None when stopped or unmeasured
    stopped_at: datetime | None
    paused: bool
    breached: bool

    @property
    def running(self) -> bool:
        return self.stopped_at is None and not self.paused and self.target is not None

    @property
    def remaining(self) -> timedelta | None:
        return None if self.target is None else self.target - self.used


@dataclass(frozen=True)
class Clocks:
    first_response: Clock
    resolution: Clock
    sla: Sla | None
    paused_wall: timedelta  # wall-clock time spent paused, for reports

    @property
    def next_due(self) -> tuple[ClockName, datetime] | None:
        """The earliest deadline still running: what the scan looks for."""
        running = [(c.due, c.name) for c in (self.first_response, self.resolution) if c.due]
        if not running:
            return None
        due, name = min(running)
        return name, due


class ClockLogError(ValueError):
    """An event log no clock can be read from (no opening, events before it)."""


def compute_clocks(
    events: Iterable[ClockEvent], calendar: BusinessCalendar, now: datetime
) -> Clocks:
    """Both clocks at `now` from the log (in the order recorded; equal moments keep it)."""
    log = sorted(events, key=lambda event: event.at)
    if not log or log[0].kind is not ClockEventKind.OPENED:
        raise ClockLogError("a case's clock log starts with its opening")
    opened_at = log[0].at
    sla: Sla | None = None
    responded_at: datetime | None = None
    resolved_at: datetime | None = None
    # The resolution clock's running periods: closed ones, and the open one's start.
    segments: list[tuple[datetime, datetime]] = []
    running_since: datetime | None = opened_at
    paused_since: datetime | None = None
    paused_wall = ZERO
    for event in log[1:]:
        at = event.at
        if event.kind is ClockEventKind.SLA_SET:
            sla = event.sla
        elif event.kind is ClockEventKind.PAUSED:
            if running_since is not None:
                segments.append((running_since, at))
                running_since = None
            if paused_since is None and resolved_at is None:
                paused_since = at
        elif event.kind is ClockEventKind.RESUMED:
            if paused_since is not None:
                paused_wall += at - paused_since
                paused_since = None
                running_since = at
        elif event.kind is ClockEventKind.RESPONDED:
            responded_at = responded_at or at
        elif event.kind is ClockEventKind.RESOLVED:
            responded_at = responded_at or at
            if running_since is not None:
                segments.append((running_since, at))
                running_since = None
            if paused_since is not None:
                paused_wall += at - paused_since
                paused_since = None
            resolved_at = resolved_at or at
        elif event.kind is ClockEventKind.REOPENED:
            if resolved_at is not None:
                resolved_at = None
                running_since = at
        elif event.kind is ClockEventKind.OPENED:
            raise ClockLogError("a case is opened once")
    if paused_since is not None:
        paused_wall += max(now - paused_since, ZERO)
    first = _first_response(calendar, opened_at, responded_at, sla, now)
    resolution = _resolution(
        calendar, segments, running_since, resolved_at, paused_since is not None, sla, now
    )
    return Clocks(first, resolution, sla, paused_wall)


def _first_response(
    calendar: BusinessCalendar,
    opened_at: datetime,
    responded_at: datetime | None,
    sla: Sla | None,
    now: datetime,
) -> Clock:
    target = sla.first_response if sla else None
    end = responded_at or now
    used = calendar.business_time(opened_at, end)
    due = calendar.add(opened_at, target) if target is not None else None
    breached = target is not None and used > target
    return Clock(
        ClockName.FIRST_RESPONSE,
        target,
        used,
        due if responded_at is None else None,
        responded_at,
        False,
        breached,
    )


def _resolution(
    calendar: BusinessCalendar,
    segments: list[tuple[datetime, datetime]],
    running_since: datetime | None,
    resolved_at: datetime | None,
    paused: bool,
    sla: Sla | None,
    now: datetime,
) -> Clock:
    target = sla.resolution if sla else None
    periods = list(segments)
    if running_since is not None:
        periods.append((running_since, max(now, running_since)))
    used = ZERO
    crossed: datetime | None = None  # when the counted time reached the target
    for start, end in periods:
        length = calendar.business_time(start, end)
        if target is not None and crossed is None and used + length >= target:
            crossed = calendar.add(start, target - used)
        used += length
    due: datetime | None = None
    if target is not None and running_since is not None:
        # Still running: due where the count reaches the target (in the past if it did).
        if crossed is not None:
            due = crossed
        else:
            done = used - calendar.business_time(running_since, max(now, running_since))
            due = calendar.add(running_since, target - done)
    # Breached once more business time was used than allowed: a deadline at Thursday's close
    # is not breached over the weekend, only from Saturday's opening.
    breached = target is not None and used > target
    return Clock(ClockName.RESOLUTION, target, used, due, resolved_at, paused, breached)
