"""Whether a claimed target is called now, later (and from when), or never: the kind's calling
window on the person's clock and the bounds that hold across every campaign, in one answer a
dialer worker acts on. Pure: the worker reads the person's history and passes `now`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from dialer.kinds import CampaignKind, Mode
from dialer.retries import CallingBounds, PersonHistory

# The reason when the kind's window never opens within the look-ahead for this number.
OUTSIDE_WINDOW = "outside_window"


@dataclass(frozen=True)
class Decision:
    """`at` is when to call: `now` to call at once, later to put the target back until then,
    None never (`reason` says why: a Refusal, or outside_window)."""

    at: datetime | None
    reason: str | None = None

    def now(self, now: datetime) -> bool:
        return self.at is not None and self.at <= now


def decide(
    kind: CampaignKind,
    phone: str,
    history: PersonHistory,
    now: datetime,
    bounds: CallingBounds | None = None,
    time_zone: str | None = None,
) -> Decision:
    bounds = bounds or CallingBounds()
    zone = ZoneInfo(time_zone) if time_zone else None
    at, reason = now, None
    refusal = bounds.refusal(history, now, predictive=kind.mode is Mode.PREDICTIVE)
    if refusal is not None:
        why, free_at = refusal
        if free_at is None:
            return Decision(None, why.value)
        at, reason = free_at, why.value
    opening = kind.window.next_opening(phone, at, zone)
    if opening is None:
        return Decision(None, OUTSIDE_WINDOW)
    if opening > at:
        reason = reason or OUTSIDE_WINDOW
    return Decision(opening, reason)
