"""Alerts shown on the wallboard at once, and sent by SMS or email to the supervisor on duty
through the outbox, at most once per condition (queue and kind) per its interval.

"Once per interval" holds across processes: the last time each condition was sent is a row
of `supervisor_alert_firings`, claimed by one conditional UPDATE (or the INSERT of a new
row, which the primary key lets only one writer make), so two processes seeing the same
long wait send one SMS.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import String, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from integrations.database import Base, Database, UtcDateTime
from integrations.messaging.outbox import MessageRefused, Outbox
from ivr.hours import TEHRAN
from supervisors.alerts import Alert, AlertRules, evaluate

if TYPE_CHECKING:
    from supervisors.wallboard import Wallboard

log = logging.getLogger(__name__)

EVALUATE_EVERY_S = 1.0
# A condition another process sent recently is looked at again after this long.
RECHECK_S = 60.0

_WORDS = {
    "service_level": "سطح خدمت صف {queue} امروز {value:.0%} است (هدف {threshold:.0%})",
    "abandon_rate": "نرخ رهاشدن صف {queue} امروز {value:.0%} است (سقف {threshold:.0%})",
    "longest_wait": "تماس‌گیرنده‌ای در صف {queue} {value} ثانیه منتظر است (سقف {threshold})",
    "no_agent": "در ساعت کاری هیچ کارشناسی در صف {queue} وارد نشده است",
    "ivr_errors": "خطاهای منوی تلفنی امروز: {value} (سقف {threshold})",
}


class AlertFiring(Base):
    """When each condition was last sent to the supervisor on duty."""

    __tablename__ = "supervisor_alert_firings"

    condition: Mapped[str] = mapped_column(String(128), primary_key=True)
    fired_at: Mapped[datetime] = mapped_column(UtcDateTime)
    value: Mapped[str] = mapped_column(String(32))


def alert_text(alert: Alert) -> str:
    return "Tamas: " + _WORDS[alert.kind].format(
        queue=alert.queue, value=alert.value, threshold=alert.threshold
    )


class AlertFirings:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def claim(self, alert: Alert, at: datetime) -> bool:
        """True if this caller may send `alert` now: it was never sent, or not within its
        interval. Only one of several racing callers gets True."""
        every = timedelta(minutes=alert.repeat_every_min)
        value = str(alert.value)[:32]
        async with self.database.autocommit() as connection:
            claimed = await connection.execute(
                update(AlertFiring)
                .where(AlertFiring.condition == alert.condition, AlertFiring.fired_at <= at - every)
                .values(fired_at=at, value=value)
            )
            if claimed.rowcount:
                return True
        try:
            async with self.database.autocommit() as connection:
                await connection.execute(
                    insert(AlertFiring).values(condition=alert.condition, fired_at=at, value=value)
                )
        except IntegrityError:
            return False  # sent within the interval (by us or another process)
        return True


class AlertWatch:
    """The wallboard's hook: evaluates the rules on the board about once a second, shows what
    holds, and sends what must be sent."""

    def __init__(
        self,
        rules: AlertRules,
        firings: AlertFirings | None,
        outbox: Outbox | None,
        is_open: Callable[[datetime], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.rules, self.firings, self.outbox = rules, firings, outbox
        self.is_open = is_open
        self.clock = clock
        self._evaluated_at = 0.0
        self._next_check: dict[str, float] = {}

    async def __call__(self, wallboard: Wallboard) -> None:
        now = self.clock()
        if now - self._evaluated_at < EVALUATE_EVERY_S:
            return
        self._evaluated_at = now
        at = datetime.fromtimestamp(now, TEHRAN)
        alerts = evaluate(self.rules, wallboard.queues_view(now), at, self.is_open)
        shown = [alert.as_json() for alert in alerts]
        if shown != wallboard.alerts:
            wallboard.alerts = shown
            wallboard.touch()
        for alert in alerts:
            if alert.notify and self._next_check.get(alert.condition, 0.0) <= now:
                await self._send(alert, at, now)

    async def _send(self, alert: Alert, at: datetime, now: float) -> None:
        if self.firings is None or self.outbox is None:
            return
        shift = self.rules.supervisor_on_duty(at)
        if shift is None:
            return  # nobody on duty: the board still shows it
        if not await self.firings.claim(alert, at.astimezone(UTC)):
            self._next_check[alert.condition] = now + RECHECK_S
            return
        self._next_check[alert.condition] = now + alert.repeat_every_min * 60
        text = alert_text(alert)
        for channel in alert.notify:
            to = shift.sms if channel == "sms" else shift.email
            if not to:
                continue
            try:
                await self.outbox.put(
                    channel, to=to, subject=f"Tamas alert: {alert.condition}", body=text
                )
            except MessageRefused as refused:
                log.warning("alerts: %s to %s refused: %s", alert.condition, channel, refused)
