"""The abandon rate a campaign is held to: abandoned calls over calls a person answered, over a
rolling window (30 days by default, as the US rules; 24 h as Ofcom's), never per calendar day.
The 72 h quiet after an abandoned call is `dialer/retries.py`'s `CallingBounds`."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar


class _Settled(Protocol):
    @property
    def ended_at(self) -> datetime: ...
    @property
    def answered(self) -> bool: ...
    @property
    def abandoned(self) -> bool: ...


@dataclass(frozen=True)
class AbandonCount:
    answered: int
    abandoned: int

    @property
    def rate(self) -> float | None:
        """None until someone answers: no rate can be measured yet."""
        return self.abandoned / self.answered if self.answered else None


def abandon_count(calls: Sequence[_Settled], last_answered: int | None = None) -> AbandonCount:
    """Answered and abandoned among `calls` (oldest first), or among their latest
    `last_answered` answered calls."""
    answered = abandoned = 0
    for call in reversed(calls):
        if not call.answered:
            continue
        if last_answered is not None and answered >= last_answered:
            break
        answered += 1
        abandoned += call.abandoned
    return AbandonCount(answered=answered, abandoned=abandoned)


Call = TypeVar("Call", bound=_Settled)


def within(calls: Sequence[Call], now: datetime, window: timedelta) -> Sequence[Call]:
    """The calls (oldest first) that ended within the rolling `window` before `now`."""
    start = bisect.bisect_left(calls, now - window, key=lambda call: call.ended_at)
    return calls[start:]
