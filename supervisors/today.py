"""Today's figures for the wallboard, read from the event store and computed by
`supervisors.metrics`: the same functions the reports use, over the same stored events, for
the day so far (midnight to midnight on the reports' clock, with the reports' thresholds), so
the board and the day's report agree.

The IVR's self-service rate of the day is the IVR report's (the interaction records' honest
outcomes). Abandoned callers are named from the customer file when their number is on file
(looked up once per number and day).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, tzinfo
from typing import Any

from customer_file.port import CustomerFile
from integrations.database import Database
from ivr.hours import TEHRAN
from supervisors import metrics
from supervisors.events import EventStore
from supervisors.reports import ivr_report
from supervisors.wallboard import TodayFigures, TodaySource

log = logging.getLogger(__name__)


def day_bounds(now: float, zone: tzinfo = TEHRAN) -> tuple[datetime, datetime]:
    """The day around `now` on the reports' clock (setting report_time_zone), as [start, end)."""
    local = datetime.fromtimestamp(now, zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def _rounded(values: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items()}


def stored_today(
    database: Database,
    customer_file: CustomerFile | None,
    thresholds: metrics.Thresholds | None = None,
    zone: tzinfo = TEHRAN,
) -> TodaySource:
    store = EventStore(database)
    limits = thresholds or metrics.Thresholds()
    names: dict[str, dict[str, Any]] = {}  # number -> customer, for one day
    named_day: list[datetime] = []

    async def customer_of(number: str) -> dict[str, Any]:
        if number in names or customer_file is None or not number:
            return names.get(number, {})
        found: dict[str, Any] = {}
        try:
            summary = await customer_file.customer_by_phone(number)
        except Exception as error:  # the board shows the number without a name
            log.warning("wallboard: customer lookup failed: %r", error)
            return {}
        if summary is not None:
            found = {
                "customer_id": summary.id,
                "customer_name": f"{summary.given_name_fa} {summary.family_name_fa}".strip(),
            }
        names[number] = found
        return found

    async def today(now: float) -> TodayFigures:
        start, end = day_bounds(now, zone)
        if named_day != [start]:
            names.clear()
            named_day[:] = [start]
        events = await store.load_interval(start, end)
        queues = metrics.queue_figures(events, start, end, limits)
        agents = metrics.agent_figures(events, start, end, limits)
        abandoned = []
        for caller in metrics.abandoned_callers(events, start, end, limits):
            abandoned.append({**caller.as_dict(), **await customer_of(caller.caller_number)})
        ivr = await ivr_report(database, start, end)
        return TodayFigures(
            queues={name: _rounded(f.as_dict()) for name, f in queues.items()},
            agents={name: _rounded(f.as_dict()) for name, f in agents.items()},
            abandoned=abandoned,
            ivr={"self_service_rate": ivr.self_service_rate, "ivr_calls_today": ivr.calls},
        )

    return today
