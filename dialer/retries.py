"""When to call a target again, and whether a person may be called at all right now.

Retries depend on how the last attempt ended: a busy line is tried again soon, a call nobody
answered later, each wait growing by `factor` with every attempt, up to `max_attempts`. The
bounds on calling a person hold across every campaign: the do-not-call list (and opt-outs,
which put the number on it), never two campaigns at once, a gap between any two calls, and no
predictive call within 72 h of an abandoned one (Ofcom's rule; the US asks for none at all
without an agent). Pure functions over what the store read; the caller passes `now`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from interactions.outcomes import Outcome

# Outcomes after which the target is tried again (others settle it for good).
RETRIED = frozenset(
    {
        Outcome.NO_ANSWER,
        Outcome.BUSY,
        Outcome.CONGESTION,
        Outcome.DIAL_FAILED,
        Outcome.ANSWERING_MACHINE,
        Outcome.FAILED,
    }
)
ABANDONED_QUIET = timedelta(hours=72)


def _default_waits() -> dict[Outcome, timedelta]:
    return {
        Outcome.BUSY: timedelta(minutes=15),
        Outcome.NO_ANSWER: timedelta(hours=2),
        Outcome.CONGESTION: timedelta(minutes=10),
        Outcome.DIAL_FAILED: timedelta(hours=4),
        Outcome.ANSWERING_MACHINE: timedelta(hours=4),
        Outcome.FAILED: timedelta(minutes=30),
    }


@dataclass(frozen=True)
class RetryPolicy:
    """`max_attempts` counts the first call; `waits` is the first wait after each outcome."""

    max_attempts: int = 3
    waits: Mapping[Outcome, timedelta] = field(default_factory=_default_waits)
    factor: float = 2.0

    def next_try(self, outcome: Outcome, attempts_made: int, ended_at: datetime) -> datetime | None:
        """When to call again after the `attempts_made`-th attempt ended in `outcome`; None
        when the target is settled (answered, opted out, or out of attempts)."""
        if outcome not in RETRIED or attempts_made >= self.max_attempts:
            return None
        wait = self.waits.get(outcome)
        if wait is None:
            return None
        return ended_at + wait * (self.factor ** (attempts_made - 1))


class Refusal(StrEnum):
    """Why a person may not be called now."""

    DO_NOT_CALL = "do_not_call"
    IN_ANOTHER_CALL = "in_another_call"
    CALLED_RECENTLY = "called_recently"
    ABANDONED_RECENTLY = "abandoned_recently"


@dataclass(frozen=True)
class PersonHistory:
    """What every campaign's attempts say about one number (read by the store)."""

    do_not_call: bool = False
    in_flight: bool = False
    last_call_ended_at: datetime | None = None
    last_abandoned_at: datetime | None = None


@dataclass(frozen=True)
class CallingBounds:
    """`min_gap`: the least time between two calls to one person, whatever the campaigns."""

    min_gap: timedelta = timedelta(hours=4)
    abandoned_quiet: timedelta = ABANDONED_QUIET

    def refusal(
        self, history: PersonHistory, now: datetime, predictive: bool
    ) -> tuple[Refusal, datetime | None] | None:
        """None when the person may be called now; else why not and from when they may be
        (None: never, for the do-not-call list)."""
        if history.do_not_call:
            return Refusal.DO_NOT_CALL, None
        if history.in_flight:
            return Refusal.IN_ANOTHER_CALL, now + timedelta(minutes=5)
        if predictive and history.last_abandoned_at is not None:
            free_at = history.last_abandoned_at + self.abandoned_quiet
            if now < free_at:
                return Refusal.ABANDONED_RECENTLY, free_at
        if history.last_call_ended_at is not None:
            free_at = history.last_call_ended_at + self.min_gap
            if now < free_at:
                return Refusal.CALLED_RECENTLY, free_at
        return None
